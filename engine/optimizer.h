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
  // The learning rate of every group without its own; a change (a schedule, a
  // warm-up) takes effect at the next step, eager or replayed.
  float lr() const { return lr_; }
  void set_lr(float lr);
  // A group's learning rate: its own, else the optimizer's.
  float group_lr(size_t group) const;
  // Gives a group its own learning rate (a schedule scaling a backbone's rate).
  void set_group_lr(size_t group, float lr);

  // For a step captured as a CUDA graph (engine/training_step.cpp). Values the
  // graph reads (t and each group's learning rate) live in device memory and
  // are written from the host, outside the graph, wherever they are stale:
  // before_capture() readies them for the captured step; after_capture() notes
  // that the captured increment of t did not run (whether or not the capture
  // succeeded); before_replay() readies them
  // for the replay's step, counting it as a new step unless it is the capture's
  // own (the first replay performs the step the capture counted).
  void before_capture();
  void after_capture();
  void before_replay(bool counts_a_new_step);
  // Named views of every state tensor, for checkpoints ("<param>.exp_avg").
  std::vector<NamedBuffer> state();
  std::vector<ParameterGroup>& groups() { return groups_; }

 protected:
  Optimizer(std::vector<ParameterGroup> groups, float lr, std::vector<std::string> slot_names);
  // Updates every parameter of a group that has a gradient, in one call.
  // On the GPU, on_device holds t and the group's learning rate (undefined on the CPU).
  virtual void update(float lr, const dispatch::StepValues& on_device,
                      const std::vector<dispatch::UpdateTensors>& tensors) = 0;
  float lr_;

 private:
  std::vector<ParameterGroup> groups_;
  std::vector<std::string> slot_names_;
  std::vector<std::vector<std::vector<Tensor>>> slots_;  // [group][parameter][slot]
  int64_t steps_ = 0;
  bool on_gpu() const;
  // Writes t = count and each group's learning rate where the device's are stale.
  void sync_device_values(int64_t count);

  // On the GPU, t lives in device memory too, advanced by a kernel each step,
  // and each group's learning rate beside it, so a step captured as a CUDA
  // graph reads the right values when replayed.
  Tensor step_counter_, one_;
  int64_t counter_holds_ = -1;  // the value step_counter_ holds, when known
  std::vector<Tensor> lr_device_;
  std::vector<float> lr_held_;  // what each of lr_device_ holds
};

class Adamax : public Optimizer {
 public:
  Adamax(std::vector<ParameterGroup> groups, AdamaxParams params = {});
  const char* kind() const override { return "Adamax"; }

 protected:
  void update(float lr, const dispatch::StepValues& on_device,
              const std::vector<dispatch::UpdateTensors>& tensors) override;

 private:
  AdamaxParams params_;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<ParameterGroup> groups, AdamParams params = {});
  const char* kind() const override { return "Adam"; }

 protected:
  void update(float lr, const dispatch::StepValues& on_device,
              const std::vector<dispatch::UpdateTensors>& tensors) override;

 private:
  AdamParams params_;
};

// torch.optim.AdamW: Adam with the weight decay decoupled from the gradient.
class AdamW : public Adam {
 public:
  AdamW(std::vector<ParameterGroup> groups, AdamParams params = {});
  const char* kind() const override { return "AdamW"; }
};

class Sgd : public Optimizer {
 public:
  Sgd(std::vector<ParameterGroup> groups, SgdParams params = {});
  const char* kind() const override { return "SGD"; }

 protected:
  void update(float lr, const dispatch::StepValues& on_device,
              const std::vector<dispatch::UpdateTensors>& tensors) override;

 private:
  SgdParams params_;
};

// All parameters of a module in one group.
std::vector<ParameterGroup> single_group(Module& module);

}  // namespace nebula
