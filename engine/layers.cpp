#include "engine/layers.h"

#include <string>

#include "base/error.h"
#include "base/random.h"
#include "engine/init.h"
#include "engine/ops.h"
#include "kernels/maxpool2d.h"

namespace nebula {

namespace {

void expect_rank(const char* layer, const Shape& input, size_t rank, const char* layout) {
  NEBULA_CHECK(input.size() == rank, layer, ": input must be ", layout, ", got ", to_string(input));
}

void add_parameter(std::vector<NamedParameter>& out, const std::string& prefix, const char* name, const Variable& v) {
  if (v.defined()) out.push_back({prefix + name, v});
}

}  // namespace

// ---- Conv2d

Conv2d::Conv2d(const Conv2dOptions& options) : options_(options) {
  NEBULA_CHECK(options.in_channels > 0 && options.out_channels > 0 && options.kernel > 0 && options.stride > 0,
               "Conv2d: channels, kernel and stride must be positive (in ", options.in_channels, ", out ",
               options.out_channels, ", kernel ", options.kernel, ", stride ", options.stride, ")");
  int k = options.kernel;
  Tensor w({options.out_channels, options.in_channels, k, k});
  glorot_uniform(w, int64_t(options.in_channels) * k * k, int64_t(options.out_channels) * k * k);
  weight = Variable(w, true);
  if (options.bias) bias = Variable(Tensor::zeros({options.out_channels}), true);
}

Shape Conv2d::output_shape(const Shape& input) const {
  expect_rank("Conv2d", input, 4, "[N, C, H, W]");
  NEBULA_CHECK(input[1] == options_.in_channels, "Conv2d: input ", to_string(input), " has ", input[1],
               " channels, the layer expects ", options_.in_channels);
  int n = int(input[0]), c = int(input[1]), h = int(input[2]), w = int(input[3]);
  Conv2dParams p =
      options_.pad >= 0
          ? conv2d_params_padded(n, c, h, w, options_.out_channels, options_.kernel, options_.stride, options_.pad)
          : conv2d_params(n, c, h, w, options_.out_channels, options_.kernel, options_.stride, options_.padding);
  return {input[0], options_.out_channels, p.out_h, p.out_w};
}

std::string Conv2d::describe() const {
  std::string padding = options_.pad >= 0 ? "pad " + std::to_string(options_.pad)
                                          : (options_.padding == Padding::Same ? "same" : "valid");
  return detail::concat("Conv2d(", options_.in_channels, " -> ", options_.out_channels, ", ", options_.kernel, "x",
                        options_.kernel, ", stride ", options_.stride, ", ", padding, options_.bias ? "" : ", no bias",
                        ")");
}

void Conv2d::collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) {
  add_parameter(out, prefix, "weight", weight);
  add_parameter(out, prefix, "bias", bias);
}

Variable Conv2d::forward(const Variable& x) { return convolve(x, false); }

Variable Conv2d::forward_relu(const Variable& x) {
  output_shape(x.shape());  // the shape check operator() would make
  return convolve(x, true);
}

Variable Conv2d::convolve(const Variable& x, bool relu) {
  if (options_.pad >= 0) return conv2d(x, weight, bias, options_.stride, options_.pad, relu);
  return conv2d(x, weight, bias, options_.stride, options_.padding, relu);
}

// ---- Dense

Dense::Dense(int in_features, int out_features, bool with_bias)
    : in_features_(in_features), out_features_(out_features) {
  NEBULA_CHECK(in_features > 0 && out_features > 0, "Dense: sizes must be positive (in ", in_features, ", out ",
               out_features, ")");
  Tensor w({out_features, in_features});
  glorot_uniform(w, in_features, out_features);
  weight = Variable(w, true);
  if (with_bias) bias = Variable(Tensor::zeros({out_features}), true);
}

Shape Dense::output_shape(const Shape& input) const {
  expect_rank("Dense", input, 2, "[N, features] (add a Flatten before it)");
  NEBULA_CHECK(input[1] == in_features_, "Dense: input ", to_string(input), " has ", input[1],
               " features, the layer expects ", in_features_);
  return {input[0], out_features_};
}

std::string Dense::describe() const {
  return detail::concat("Dense(", in_features_, " -> ", out_features_, bias.defined() ? "" : ", no bias", ")");
}

void Dense::collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) {
  add_parameter(out, prefix, "weight", weight);
  add_parameter(out, prefix, "bias", bias);
}

Variable Dense::forward(const Variable& x) { return dense(x, weight, bias); }

// ---- MaxPool2d

MaxPool2d::MaxPool2d(int kernel, int stride, int pad)
    : kernel_(kernel), stride_(stride < 0 ? kernel : stride), pad_(pad) {}

Shape MaxPool2d::output_shape(const Shape& input) const {
  expect_rank("MaxPool2d", input, 4, "[N, C, H, W]");
  Pool2dParams p = pool2d_params(int(input[0]), int(input[1]), int(input[2]), int(input[3]), kernel_, stride_, pad_);
  return {input[0], input[1], p.out_h, p.out_w};
}

std::string MaxPool2d::describe() const {
  return detail::concat("MaxPool2d(", kernel_, "x", kernel_, ", stride ", stride_, pad_ ? ", pad " : "",
                        pad_ ? std::to_string(pad_) : "", ")");
}

Variable MaxPool2d::forward(const Variable& x) { return maxpool2d(x, kernel_, stride_, pad_); }

// ---- Dropout

Dropout::Dropout(float rate) : rate_(rate), seed_(global_generator().next_u64()) {
  NEBULA_CHECK(rate >= 0.0f && rate < 1.0f, "Dropout: rate must be in [0, 1), got ", rate);
}

std::string Dropout::describe() const { return detail::concat("Dropout(", rate_, ")"); }

Variable Dropout::forward(const Variable& x) {
  if (!training()) return x;
  uint64_t offset = dropout_call_offset(calls++);
  return dropout(x, rate_, seed_, offset);
}

std::vector<Dropout*> dropout_layers(Module& model) {
  std::vector<Dropout*> out;
  model.visit([&](Module& m) {
    if (auto* d = dynamic_cast<Dropout*>(&m)) out.push_back(d);
  });
  return out;
}

// ---- Flatten, ReLU, Sigmoid

Shape Flatten::output_shape(const Shape& input) const {
  NEBULA_CHECK(!input.empty(), "Flatten: input has no dimensions");
  return {input[0], input[0] ? numel(input) / input[0] : 0};
}

Variable Flatten::forward(const Variable& x) { return flatten(x); }
Variable ReLU::forward(const Variable& x) { return relu(x); }
Variable Sigmoid::forward(const Variable& x) { return sigmoid(x); }

// ---- Maxout

Maxout::Maxout(int pieces) : pieces_(pieces) {
  NEBULA_CHECK(pieces >= 1, "Maxout: pieces must be at least 1, got ", pieces);
}

Shape Maxout::output_shape(const Shape& input) const {
  NEBULA_CHECK(input.size() == 2 && input[1] % pieces_ == 0, "Maxout: input ", to_string(input), " is not [N, F x ",
               pieces_, "]");
  return {input[0], input[1] / pieces_};
}

std::string Maxout::describe() const { return detail::concat("Maxout(", pieces_, " pieces)"); }

Variable Maxout::forward(const Variable& x) { return maxout(x, pieces_); }

// ---- GalaxyTree

GalaxyTree::GalaxyTree(const GalaxyTreeLayout& layout) : layout_(layout) { validate(layout_); }

Shape GalaxyTree::output_shape(const Shape& input) const {
  NEBULA_CHECK(input.size() == 2 && input[1] == layout_.columns, "GalaxyTree: input ", to_string(input),
               " is not [batch, ", layout_.columns, "], one value per label column");
  return input;
}

Variable GalaxyTree::forward(const Variable& x) {
  output_shape(x.shape());
  return galaxy_tree(x, layout_);
}

// ---- BatchNorm2d

BatchNorm2d::BatchNorm2d(int channels, float eps, float momentum)
    : weight(Tensor::full({channels}, 1.0f), true),
      bias(Tensor::zeros({channels}), true),
      running_mean(Tensor::zeros({channels})),
      running_var(Tensor::full({channels}, 1.0f)),
      channels_(channels),
      eps_(eps),
      momentum_(momentum) {
  NEBULA_CHECK(channels > 0, "BatchNorm2d: channels must be positive, got ", channels);
}

Shape BatchNorm2d::output_shape(const Shape& input) const {
  expect_rank("BatchNorm2d", input, 4, "[N, C, H, W]");
  NEBULA_CHECK(input[1] == channels_, "BatchNorm2d: input ", to_string(input), " has ", input[1],
               " channels, the layer expects ", channels_);
  return input;
}

std::string BatchNorm2d::describe() const { return detail::concat("BatchNorm2d(", channels_, ")"); }

void BatchNorm2d::collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) {
  add_parameter(out, prefix, "weight", weight);
  add_parameter(out, prefix, "bias", bias);
}

void BatchNorm2d::collect_buffers(const std::string& prefix, std::vector<NamedBuffer>& out) {
  out.push_back({prefix + "running_mean", running_mean});
  out.push_back({prefix + "running_var", running_var});
}

Variable BatchNorm2d::forward(const Variable& x) {
  return batchnorm2d(x, weight, bias, running_mean, running_var, training(), momentum_, eps_);
}

// ---- GlobalAvgPool

Shape GlobalAvgPool::output_shape(const Shape& input) const {
  expect_rank("GlobalAvgPool", input, 4, "[N, C, H, W]");
  return {input[0], input[1]};
}

Variable GlobalAvgPool::forward(const Variable& x) { return global_avg_pool(x); }

}  // namespace nebula
