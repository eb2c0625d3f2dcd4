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

#include "engine/dispatch.h"
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
  // Counts a step that a replayed CUDA graph took (the graph advanced the
  // device's step counter itself).
  void count_replayed_step();
  // Named views of every state tensor, for checkpoints ("<param>.exp_avg").
  std::vector<NamedBuffer> state();
  std::vector<ParameterGroup>& groups() { return groups_; }

 protected:
  Optimizer(std::vector<ParameterGroup> groups, float lr, std::vector<std::string> slot_names);
  // Updates every parameter of a group that has a gradient, in one call.
  // step_counter is the step t on the GPU (undefined on the CPU).
  virtual void update(float lr, const Tensor& step_counter, const std::vector<dispatch::UpdateTensors>& tensors) = 0;
  float lr_;

 private:
  std::vector<ParameterGroup> groups_;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<std::vector<Tensor>>> slots_;  // [group][parameter][slot]
  int64_t steps_ = 0;
  // On the GPU, t lives in device memory too, advanced by a kernel each step,
  // so a step captured as a CUDA graph reads the right t when replayed.
  Tensor step_counter_, one_;
  int64_t counter_holds_ = -1;  // the value step_counter_ holds, when known
};

class Adamax : public Optimizer {
 public:
  Adamax(std::vector<ParameterGroup> groups, AdamaxParams params = {});
  const char* kind() const override { return "Adamax"; }

 protected:
  void update(float lr, const Tensor& step_counter, const std::vector<dispatch::UpdateTensors>& tensors) override;

 private:
  AdamaxParams params_;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParameterGroup> groups, AdamParams params = {});
  const char* kind() const override { return "Adam"; }

 protected:
  void update(float lr, const Tensor& step_counter, const std::vector<dispatch::UpdateTensors>& tensors) override;

 private:
  AdamParams params_;
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<ParameterGroup> groups, SgdParams params = {});
  const char* kind() const override { return "SGD"; }

 protected:
  void update(float lr, const Tensor& step_counter, const std::vector<dispatch::UpdateTensors>& tensors) override;

 private:
  SgdParams params_;
};

// All parameters of a module in one group.
std::vector<ParameterGroup> single_group(Module& module);

}  // namespace nebula
