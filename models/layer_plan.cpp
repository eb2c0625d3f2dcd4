#include "models/layer_plan.h"

#include <algorithm>
#include <climits>

#include "base/error.h"

namespace nebula {

namespace {

int64_t times(int64_t a, int64_t b) {
  int64_t result = 0;
  NEBULA_CHECK(checked_mul(a, b, &result), "the size ", a, " x ", b, " does not fit in 64 bits");
  return result;
}

int64_t plus(int64_t a, int64_t b) {
  int64_t result = 0;
  NEBULA_CHECK(checked_add(a, b, &result), "the size ", a, " + ", b, " does not fit in 64 bits");
  return result;
}

// A size the layers and kernels keep in an int.
int64_t fits_int(int64_t value, const char* what) {
  NEBULA_CHECK(value <= INT_MAX, what, " ", value, " is larger than the 32-bit sizes the layers compute in (at most ",
               INT_MAX, ")");
  return value;
}

}  // namespace

void LayerPlan::input(int64_t channels, int64_t height, int64_t width) {
  image_side_ = std::max(height, width);
  output({1, fits_int(channels, "channels"), fits_int(height, "height"), fits_int(width, "width")});
}

void LayerPlan::output(const Shape& shape) {
  int64_t elements = 0;
  NEBULA_CHECK(checked_numel(shape, &elements), "the output ", to_string(shape),
               " has more elements than 64 bits count");
  activations_ = plus(activations_, elements);
  shape_ = shape;
}

void LayerPlan::add_parameters(int64_t count) { parameters_ = plus(parameters_, count); }

void LayerPlan::add_cost(const LayerPlan& other, int64_t count) {
  parameters_ = plus(parameters_, times(other.parameters_, count));
  activations_ = plus(activations_, times(other.activations_, count));
}

void LayerPlan::expect_image(const char* layer) const {
  NEBULA_CHECK(is_image(), layer, " needs an image input [N, C, H, W], got ", to_string(shape_));
}

// No stride or padding may exceed the input image's larger side: past that they
// change nothing but the arithmetic's range (stride=2147483647 would overflow it).
void LayerPlan::check_stride_and_pad(int64_t stride, int64_t pad) const {
  NEBULA_CHECK(stride <= image_side_, "stride ", stride, " is larger than the input image (", image_side_, ")");
  NEBULA_CHECK(pad <= image_side_, "padding ", pad, " is larger than the input image (", image_side_, ")");
}

// One spatial size through a window (convolution or pool), as kernels/cpu/conv2d.cpp
// and maxpool2d.cpp compute it, but checked: every intermediate fits their ints.
int64_t LayerPlan::window(int64_t in, int64_t kernel, int64_t stride, int64_t pad, bool same) const {
  if (pad < 0 && same) {  // Keras: ceil(in / stride) outputs, padded as far as that needs
    int64_t out = fits_int(plus(in, stride - 1), "the padded size") / stride;
    fits_int(plus(times(out - 1, stride), kernel), "the padded size");
    return out;
  }
  pad = std::max<int64_t>(pad, 0);
  int64_t padded = fits_int(plus(in, times(2, pad)), "the padded size");
  NEBULA_CHECK(kernel <= padded, "the window ", kernel, "x", kernel, " is larger than the input ", to_string(shape_),
               pad > 0 ? detail::concat(" padded by ", pad) : std::string(" (no padding)"));
  return (padded - kernel) / stride + 1;
}

void LayerPlan::conv(int64_t filters, int64_t kernel, int64_t stride, int64_t pad, bool same, bool bias) {
  expect_image("conv");
  check_stride_and_pad(stride, pad);
  add_parameters(plus(times(times(filters, shape_[1]), times(kernel, kernel)), bias ? filters : 0));
  output({shape_[0], filters, window(shape_[2], kernel, stride, pad, same), window(shape_[3], kernel, stride, pad, same)});
}

void LayerPlan::maxpool(int64_t kernel, int64_t stride, int64_t pad) {
  expect_image("maxpool");
  check_stride_and_pad(stride, pad);
  // PyTorch's rule; it also keeps at least one real pixel in every window.
  NEBULA_CHECK(pad <= kernel / 2, "padding ", pad, " must be at most half the kernel size ", kernel);
  output({shape_[0], shape_[1], window(shape_[2], kernel, stride, pad, false), window(shape_[3], kernel, stride, pad, false)});
}

void LayerPlan::batchnorm() {
  expect_image("batchnorm");
  add_parameters(times(2, shape_[1]));
  output(shape_);
}

void LayerPlan::elementwise() { output(shape_); }

void LayerPlan::flatten() {
  NEBULA_CHECK(shape_.size() >= 2, "flatten needs an input with a batch dimension, got ", to_string(shape_));
  output({shape_[0], fits_int(numel(shape_) / shape_[0], "the flattened size")});
}

void LayerPlan::global_avg_pool() {
  expect_image("gap");
  output({shape_[0], shape_[1]});
}

void LayerPlan::dense(int64_t units, bool bias) {
  NEBULA_CHECK(shape_.size() == 2, "needs a flat input [N, features], got ", to_string(shape_),
               " (add 'flatten' or 'gap')");
  add_parameters(plus(times(shape_[1], units), bias ? units : 0));
  output({shape_[0], units});
}

void LayerPlan::views(int64_t count, int64_t size) {
  expect_image("views");
  NEBULA_CHECK(shape_[0] == 1, "the images are already cut into ", shape_[0], " views");
  NEBULA_CHECK(shape_[2] == shape_[3], "views need a square image, got ", shape_[2], "x", shape_[3]);
  NEBULA_CHECK(size >= 1 && size <= shape_[2], "a view of ", size, "x", size, " does not fit in the ", shape_[2], "x",
               shape_[3], " image");
  output({count, shape_[1], size, size});
}

void LayerPlan::merge(bool concat) {
  NEBULA_CHECK(shape_[0] > 1, "there are no views to merge (put 'views' before it)");
  NEBULA_CHECK(shape_.size() == 2, "needs flat features [views, features], got ", to_string(shape_),
               " (add 'flatten' or 'gap')");
  output({1, concat ? fits_int(times(shape_[0], shape_[1]), "the merged features") : shape_[1]});
}

void LayerPlan::maxout(int64_t pieces) {
  NEBULA_CHECK(shape_.size() == 2, "needs a flat input [N, features], got ", to_string(shape_));
  NEBULA_CHECK(shape_[1] % pieces == 0, "the ", shape_[1], " features do not split into groups of ", pieces);
  output({shape_[0], shape_[1] / pieces});
}

// As models/model_file.cpp builds it: torchvision's BasicBlock or Bottleneck,
// a 1x1 projection when the stride or the channel count changes, the sum and a ReLU.
void LayerPlan::resnet_block(bool bottleneck, int64_t width, int64_t out, int64_t stride) {
  const Shape in = shape_;
  if (bottleneck) {
    conv(width, 1, 1, 0, false, false), batchnorm(), elementwise();
    conv(width, 3, stride, 1, false, false), batchnorm(), elementwise();
    conv(out, 1, 1, 0, false, false), batchnorm();
  } else {
    conv(width, 3, stride, 1, false, false), batchnorm(), elementwise();
    conv(width, 3, 1, 1, false, false), batchnorm();
  }
  if (stride != 1 || in[1] != out) {
    LayerPlan projection;
    projection.shape_ = in;
    projection.image_side_ = image_side_;
    projection.conv(out, 1, stride, 0, false, false), projection.batchnorm();
    add_cost(projection, 1);
  }
  elementwise(), elementwise();  // the sum, and the ReLU after it
}

void LayerPlan::resnet_stage(bool bottleneck, int64_t width, int64_t blocks, int64_t stride) {
  expect_image("stage");
  const int64_t out = fits_int(bottleneck ? times(4, width) : width, "the block output (4 x channels)");
  // The first block may change the shape; the others are all alike, so one is costed for them all.
  LayerPlan first;
  first.shape_ = shape_;
  first.image_side_ = image_side_;
  first.resnet_block(bottleneck, width, out, stride);
  LayerPlan rest;
  rest.shape_ = first.shape_;
  rest.image_side_ = image_side_;
  rest.resnet_block(bottleneck, width, out, 1);
  add_cost(first, 1);
  add_cost(rest, blocks - 1);
  shape_ = first.shape_;
}

}  // namespace nebula
