// The layers of the study's models and of torchvision's ResNets. Weights are
// initialised as Keras does (Glorot-uniform weights, zero biases), drawn from the
// engine's generator (random.h) at construction, so one seed fixes a model.
#pragma once
#include <cstdint>

#include "engine/module.h"
#include "kernels/conv2d.h"
#include "kernels/galaxy_tree_output.h"

namespace nebula {

struct Conv2dOptions {
  int in_channels = 0, out_channels = 0, kernel = 3, stride = 1;
  Padding padding = Padding::Valid;  // Keras semantics
  int pad = -1;                      // >= 0: the same explicit padding on every side (PyTorch semantics)
  bool bias = true;
};

class Conv2d : public Module {
 public:
  explicit Conv2d(const Conv2dOptions& options);
  const char* kind() const override { return "Conv2d"; }
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;
  void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) override;
  const Conv2dOptions& options() const { return options_; }
  Variable weight, bias;  // [out, in, k, k], [out] (undefined without bias)
  // This convolution followed by a ReLU, as one op.
  Variable forward_relu(const Variable& x);

 protected:
  Variable forward(const Variable& x) override;

 private:
  Variable convolve(const Variable& x, bool relu);
  Conv2dOptions options_;
};

class Dense : public Module {
 public:
  Dense(int in_features, int out_features, bool bias = true);
  const char* kind() const override { return "Dense"; }
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;
  void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) override;
  Variable weight, bias;  // [out, in], [out]

 protected:
  Variable forward(const Variable& x) override;

 private:
  int in_features_, out_features_;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int kernel = 2, int stride = -1, int pad = 0);  // stride -1: the kernel size
  const char* kind() const override { return "MaxPool2d"; }
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;

 protected:
  Variable forward(const Variable& x) override;

 private:
  int kernel_, stride_, pad_;
};

// Inverted dropout; the identity in eval mode. Each instance has its own Philox
// stream (seed drawn at construction) and advances it once per training forward.
class Dropout : public Module {
 public:
  explicit Dropout(float rate);
  const char* kind() const override { return "Dropout"; }
  Shape output_shape(const Shape& input) const override { return input; }
  std::string describe() const override;
  uint64_t seed() const { return seed_; }
  // How many training forwards have run; a resumed run sets it to continue the stream.
  uint64_t calls = 0;

 protected:
  Variable forward(const Variable& x) override;

 private:
  float rate_;
  uint64_t seed_;
};

// The Philox offset of a Dropout layer's call-th training forward: each call
// owns its own 2^32-element window of the layer's stream.
inline uint64_t dropout_call_offset(uint64_t call) { return call << 32; }
// What a replayed CUDA graph adds to the offsets it baked at capture (those of
// call captured_call) so that it draws call `call`. Eager steps and replays
// advance the same host counter (Dropout::calls), the one source of truth.
inline uint64_t dropout_replay_shift(uint64_t call, uint64_t captured_call) {
  return dropout_call_offset(call - captured_call);
}

// Every Dropout inside model, in order.
std::vector<Dropout*> dropout_layers(Module& model);

class Flatten : public Module {
 public:
  const char* kind() const override { return "Flatten"; }
  Shape output_shape(const Shape& input) const override;

 protected:
  Variable forward(const Variable& x) override;
};

class ReLU : public Module {
 public:
  const char* kind() const override { return "ReLU"; }
  Shape output_shape(const Shape& input) const override { return input; }

 protected:
  Variable forward(const Variable& x) override;
};

class Sigmoid : public Module {
 public:
  const char* kind() const override { return "Sigmoid"; }
  Shape output_shape(const Shape& input) const override { return input; }

 protected:
  Variable forward(const Variable& x) override;
};

// Maxout: each output the largest of `pieces` consecutive inputs, [N, F K] -> [N, F].
class Maxout : public Module {
 public:
  explicit Maxout(int pieces);
  const char* kind() const override { return "Maxout"; }
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;

 protected:
  Variable forward(const Variable& x) override;

 private:
  int pieces_;
};

// The Galaxy Zoo decision-tree output over the label columns (ops.h's galaxy_tree).
class GalaxyTree : public Module {
 public:
  explicit GalaxyTree(const GalaxyTreeLayout& layout);
  const char* kind() const override { return "GalaxyTree"; }
  Shape output_shape(const Shape& input) const override;
  const GalaxyTreeLayout& layout() const { return layout_; }

 protected:
  Variable forward(const Variable& x) override;

 private:
  GalaxyTreeLayout layout_;
};

// PyTorch's BatchNorm2d: eps 1e-5, momentum 0.1 weighing the new batch.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int channels, float eps = 1e-5f, float momentum = 0.1f);
  const char* kind() const override { return "BatchNorm2d"; }
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;
  void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) override;
  void collect_buffers(const std::string& prefix, std::vector<NamedBuffer>& out) override;
  Variable weight, bias;             // gamma, beta
  Tensor running_mean, running_var;  // updated in training mode

 protected:
  Variable forward(const Variable& x) override;

 private:
  int channels_;
  float eps_, momentum_;
};

class GlobalAvgPool : public Module {
 public:
  const char* kind() const override { return "GlobalAvgPool"; }
  Shape output_shape(const Shape& input) const override;

 protected:
  Variable forward(const Variable& x) override;
};

}  // namespace nebula
