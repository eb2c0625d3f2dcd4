// What layers cost, from their shapes alone: the shape of one sample after
// them (its first dimension counting the sample's views, 1 without), their trainable parameters, and the elements of every layer's output.
// All in checked 64-bit arithmetic, and every size a layer keeps in an int
// (kernels/ computes in 32 bits) is checked to fit one, so a hostile model
// file can neither overflow nor allocate: the model-file reader runs a whole
// file through a plan before it builds any layer. A size that does not work
// throws nebula::Error without a location; the reader adds the file and line.
#pragma once
#include <cstdint>

#include "engine/shape.h"

namespace nebula {

class LayerPlan {
 public:
  // The model's input image, C x H x W; its larger side bounds every stride and padding.
  void input(int64_t channels, int64_t height, int64_t width);

  // PyTorch's explicit padding when pad >= 0, else Keras's 'same' or 'valid'.
  void conv(int64_t filters, int64_t kernel, int64_t stride, int64_t pad, bool same, bool bias);
  void maxpool(int64_t kernel, int64_t stride, int64_t pad);
  void batchnorm();
  void elementwise();  // relu, sigmoid, dropout: one more output of the same shape
  void flatten();
  void global_avg_pool();
  void dense(int64_t units, bool bias);
  // Each image cut into `count` square views of side `size` (kernels/views.h),
  // which the layers after it see as `count` samples, until merge() joins them
  // ([count, F] -> [1, count F] with concat, else [1, F]).
  void views(int64_t count, int64_t size);
  void merge(bool concat);
  void maxout(int64_t pieces);  // [., F K] -> [., F]
  // `blocks` torchvision ResNet blocks of `width` channels (4 x width out of a
  // bottleneck), the first with `stride`; computed without a loop over blocks.
  void resnet_stage(bool bottleneck, int64_t width, int64_t blocks, int64_t stride);

  bool started() const { return !shape_.empty(); }
  bool is_image() const { return shape_.size() == 4; }
  // How many views each image is cut into here: 1 outside views ... merge.
  int64_t views_per_image() const { return shape_.empty() ? 1 : shape_[0]; }
  const Shape& shape() const { return shape_; }
  int64_t parameters() const { return parameters_; }
  int64_t activations() const { return activations_; }  // output elements, one sample

 private:
  void resnet_block(bool bottleneck, int64_t width, int64_t out, int64_t stride);
  void expect_image(const char* layer) const;
  int64_t window(int64_t in, int64_t kernel, int64_t stride, int64_t pad, bool same) const;
  void check_stride_and_pad(int64_t stride, int64_t pad) const;
  void add_parameters(int64_t count);
  void add_cost(const LayerPlan& other, int64_t times);
  void output(const Shape& shape);

  Shape shape_;
  int64_t image_side_ = 0;
  int64_t parameters_ = 0;
  int64_t activations_ = 0;
};

}  // namespace nebula
