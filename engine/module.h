// Module: a layer or a composition of layers. It has a forward pass (its
// backward is recorded by the ops it calls), named parameters and buffers in
// PyTorch's naming ("0.weight", "layer1.0.bn1.running_mean"), a training flag,
// and it infers its output shape from its input shape, so a model can be
// described as a list of layers with only the first input shape given.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/autograd.h"

namespace nebula {

struct NamedParameter {
  std::string name;
  Variable variable;
};

struct NamedBuffer {
  std::string name;
  Tensor tensor;  // shares storage with the module's buffer
};

class Module {
 public:
  virtual ~Module() = default;

  // Checks the input shape (the error names the layer) and runs the layer.
  Variable operator()(const Variable& x);

  virtual const char* kind() const = 0;
  // The output shape for an input shape, batch dimension included; throws on a
  // shape the layer cannot take.
  virtual Shape output_shape(const Shape& input) const = 0;
  // One line describing the layer's settings, e.g. "Conv2d(3 -> 32, 3x3, stride 1, valid)".
  virtual std::string describe() const { return kind(); }

  virtual void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) {}
  virtual void collect_buffers(const std::string& prefix, std::vector<NamedBuffer>& out) {}
  // Calls f on this module and every module inside it, depth first, in order.
  virtual void visit(const std::function<void(Module&)>& f) { f(*this); }

  // Moves every parameter, gradient and buffer to device. Build optimizers after
  // this: their state is made where the parameters are.
  void to(Device device);

  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  std::vector<NamedParameter> parameters();
  std::vector<NamedBuffer> buffers();
  int64_t parameter_count();

 protected:
  virtual Variable forward(const Variable& x) = 0;

 private:
  bool training_ = true;
};

using ModulePtr = std::unique_ptr<Module>;

}  // namespace nebula
