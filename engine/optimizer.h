// Optimizers over parameter groups, each with its own learning rate (so a
// pretrained backbone can learn slower than a new head). The update rules are
// stated in kernels/optimizer_update.h. Parameters without a gradient this step
// (frozen, or unused) are left as they are. Per-parameter state is named after
// the parameter, as torch.optim names it (exp_avg, exp_inf, exp_avg_sq,
// momentum_buffer), so a checkpoint can hold it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/module.h"
#include "kernels/optimizer_update.h"

namespace nebula {

struct ParameterGroup {
  std::vector<NamedParameter> parameters;
  float lr = 0.0f;  // 0: the optimizer's learning rate
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual const char* kind() const = 0;

  void step();
  void zero_grad();

  int64_t steps() const { return steps_; }
  void set_steps(int64_t steps) { steps_ = steps; }
  // Named views of every state tensor, for checkpoints ("<param>.exp_avg").
  std::vector<NamedBuffer> state();
  std::vector<ParameterGroup>& groups() { return groups_; }

 protected:
  Optimizer(std::vector<ParameterGroup> groups, float lr, std::vector<std::string> slot_names);
  // Updates one parameter; slots are its state tensors, in slot_names order.
  virtual void update(Variable& parameter, float lr, std::vector<Tensor>& slots) = 0;
  float lr_;

 private:
  std::vector<ParameterGroup> groups_;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<std::vector<Tensor>>> slots_;  // [group][parameter][slot]
  int64_t steps_ = 0;
};

class Adamax : public Optimizer {
 public:
  Adamax(std::vector<ParameterGroup> groups, AdamaxParams params = {});
  const char* kind() const override { return "Adamax"; }

 protected:
  void update(Variable& parameter, float lr, std::vector<Tensor>& slots) override;

 private:
  AdamaxParams params_;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParameterGroup> groups, AdamParams params = {});
  const char* kind() const override { return "Adam"; }

 protected:
  void update(Variable& parameter, float lr, std::vector<Tensor>& slots) override;

 private:
  AdamParams params_;
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<ParameterGroup> groups, SgdParams params = {});
  const char* kind() const override { return "SGD"; }

 protected:
  void update(Variable& parameter, float lr, std::vector<Tensor>& slots) override;

 private:
  SgdParams params_;
};

// All parameters of a module in one group.
std::vector<ParameterGroup> single_group(Module& module);

}  // namespace nebula
