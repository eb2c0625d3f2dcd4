// Sequential: layers run one after another. Children are named by their index
// unless given a name, as in PyTorch ("0.weight", or "layer1.0.conv1.weight").
#pragma once
#include "engine/module.h"

namespace nebula {

class Sequential : public Module {
 public:
  Sequential() = default;
  Module& add(ModulePtr module, std::string name = "");
  template <typename Layer, typename... Args>
  Layer& emplace(Args&&... args) {
    return static_cast<Layer&>(add(std::make_unique<Layer>(std::forward<Args>(args)...)));
  }

  const char* kind() const override { return "Sequential"; }
  Shape output_shape(const Shape& input) const override;
  // The description set by the builder (e.g. "2 BasicBlocks, 64 channels"), or
  // "Sequential(N layers)".
  std::string describe() const override;
  void set_description(std::string text) { description_ = std::move(text); }
  void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) override;
  void collect_buffers(const std::string& prefix, std::vector<NamedBuffer>& out) override;
  void visit(const std::function<void(Module&)>& f) override;

  size_t size() const { return children_.size(); }
  Module& at(size_t i) { return *children_.at(i).second; }
  const std::string& name_at(size_t i) const { return children_.at(i).first; }
  // A table of the layers with their output shapes, for an input shape.
  std::string summary(const Shape& input) const;

 protected:
  Variable forward(const Variable& x) override;

 private:
  std::vector<std::pair<std::string, ModulePtr>> children_;
  std::string description_;
};

// Residual: y = body(x) + shortcut(x), the shortcut being the identity when
// absent; with relu_after, y = relu(body(x) + shortcut(x)), which is
// torchvision's BasicBlock and Bottleneck whole.
class Residual : public Module {
 public:
  Residual(ModulePtr body, ModulePtr shortcut = nullptr, std::string body_name = "",
           std::string shortcut_name = "downsample", bool relu_after = false);
  const char* kind() const override { return "Residual"; }
  Shape output_shape(const Shape& input) const override;
  std::string describe() const override;
  void collect_parameters(const std::string& prefix, std::vector<NamedParameter>& out) override;
  void collect_buffers(const std::string& prefix, std::vector<NamedBuffer>& out) override;
  void visit(const std::function<void(Module&)>& f) override;

 protected:
  Variable forward(const Variable& x) override;

 private:
  ModulePtr body_, shortcut_;
  std::string body_prefix_, shortcut_prefix_;
  bool relu_after_;
};

}  // namespace nebula
