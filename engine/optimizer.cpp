#include "engine/optimizer.h"

#include "base/error.h"
#include "engine/dispatch.h"

namespace nebula {

Optimizer::Optimizer(std::vector<ParameterGroup> groups, float lr, std::vector<std::string> slot_names)
    : lr_(lr), groups_(std::move(groups)), slot_names_(std::move(slot_names)) {
  NEBULA_CHECK(lr > 0.0f, "optimizer: the learning rate must be positive, got ", lr);
  for (const ParameterGroup& group : groups_) {
    std::vector<std::vector<Tensor>> group_slots;
    for (const NamedParameter& p : group.parameters) {
      std::vector<Tensor> slots;
      for (size_t s = 0; s < slot_names_.size(); ++s)
        slots.push_back(Tensor::zeros(p.variable.shape(), p.variable.value().device()));
      group_slots.push_back(std::move(slots));
    }
    slots_.push_back(std::move(group_slots));
  }
}

float Optimizer::group_lr(size_t group) const { return groups_.at(group).lr > 0.0f ? groups_[group].lr : lr_; }

void Optimizer::set_lr(float lr) {
  NEBULA_CHECK(lr > 0.0f, "optimizer: the learning rate must be positive, got ", lr);
  lr_ = lr;
}

void Optimizer::set_group_lr(size_t group, float lr) {
  NEBULA_CHECK(lr > 0.0f, "optimizer: the learning rate must be positive, got ", lr);
  groups_.at(group).lr = lr;
}

bool Optimizer::on_gpu() const {
  for (const ParameterGroup& group : groups_)
    for (const NamedParameter& p : group.parameters)
      if (p.variable.value().device() == Device::CUDA) return true;
  return false;
}

void Optimizer::sync_device_values(int64_t count) {
  if (!on_gpu()) return;
  if (!step_counter_.defined()) {
    step_counter_ = Tensor({1}, Device::CUDA);
    one_ = Tensor::full({1}, 1.0f, Device::CUDA);
    for (size_t g = 0; g < groups_.size(); ++g) lr_device_.push_back(Tensor({1}, Device::CUDA));
    lr_held_.assign(groups_.size(), 0.0f);  // no learning rate is 0: the first sync writes each
  }
  if (counter_holds_ != count) step_counter_.fill(static_cast<float>(count));
  counter_holds_ = count;
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (lr_held_[g] == group_lr(g)) continue;
    lr_device_[g].fill(group_lr(g));
    lr_held_[g] = group_lr(g);
  }
}

void Optimizer::step() {
  ++steps_;
  // Host writes happen only where the device is stale (the first step, after
  // set_steps or set_lr), so a captured step, prepared by before_capture(),
  // holds just the increment and reads its learning rates from device memory.
  sync_device_values(steps_ - 1);
  if (step_counter_.defined()) {
    dispatch::accumulate(one_, step_counter_);
    counter_holds_ = steps_;
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    std::vector<dispatch::UpdateTensors> tensors;
    for (size_t i = 0; i < groups_[g].parameters.size(); ++i) {
      Variable& parameter = groups_[g].parameters[i].variable;
      if (!parameter.requires_grad() || !parameter.grad().defined()) continue;
      std::vector<Tensor>& slots = slots_[g][i];
      tensors.push_back({&parameter.value(), &parameter.grad(), &slots[0], slots.size() > 1 ? &slots[1] : nullptr});
    }
    const dispatch::StepValues on_device{step_counter_, step_counter_.defined() ? lr_device_[g] : Tensor()};
    if (!tensors.empty()) update(group_lr(g), on_device, tensors);
  }
}

void Optimizer::before_capture() { sync_device_values(steps_); }

void Optimizer::after_capture() {
  // The captured increment did not run, and a failed capture may have stopped
  // anywhere: the count is unknown until the next sync writes it.
  counter_holds_ = -1;
}

void Optimizer::before_replay(bool counts_a_new_step) {
  if (counts_a_new_step) ++steps_;
  sync_device_values(steps_ - 1);
  counter_holds_ = steps_;  // the replay advances the device's count
}

void Optimizer::zero_grad() {
  for (ParameterGroup& group : groups_)
    for (NamedParameter& p : group.parameters) p.variable.zero_grad();
}

std::vector<NamedBuffer> Optimizer::state() {
  std::vector<NamedBuffer> out;
  for (size_t g = 0; g < groups_.size(); ++g)
    for (size_t i = 0; i < groups_[g].parameters.size(); ++i)
      for (size_t s = 0; s < slot_names_.size(); ++s)
        out.push_back({groups_[g].parameters[i].name + "." + slot_names_[s], slots_[g][i][s]});
  return out;
}

Adamax::Adamax(std::vector<ParameterGroup> groups, AdamaxParams params)
    : Optimizer(std::move(groups), params.lr, {"exp_avg", "exp_inf"}), params_(params) {}

void Adamax::update(float lr, const dispatch::StepValues& on_device,
                    const std::vector<dispatch::UpdateTensors>& tensors) {
  AdamaxParams p = params_;
  p.lr = lr;
  dispatch::adamax_update(p, steps(), on_device, tensors);
}

Adam::Adam(std::vector<ParameterGroup> groups, AdamParams params)
    : Optimizer(std::move(groups), params.lr, {"exp_avg", "exp_avg_sq"}), params_(params) {}

void Adam::update(float lr, const dispatch::StepValues& on_device,
                  const std::vector<dispatch::UpdateTensors>& tensors) {
  AdamParams p = params_;
  p.lr = lr;
  dispatch::adam_update(p, steps(), on_device, tensors);
}

namespace {
AdamParams decoupled(AdamParams params) {
  params.decoupled_weight_decay = true;
  return params;
}
}  // namespace

AdamW::AdamW(std::vector<ParameterGroup> groups, AdamParams params) : Adam(std::move(groups), decoupled(params)) {}

Sgd::Sgd(std::vector<ParameterGroup> groups, SgdParams params)
    : Optimizer(std::move(groups), params.lr, {"momentum_buffer"}), params_(params) {
  NEBULA_CHECK(!params.nesterov || params.momentum > 0.0f, "SGD: Nesterov momentum needs a momentum above 0");
}

void Sgd::update(float lr, const dispatch::StepValues& on_device, const std::vector<dispatch::UpdateTensors>& tensors) {
  SgdParams p = params_;
  p.lr = lr;
  dispatch::sgd_update(p, on_device, tensors);
}

std::vector<ParameterGroup> single_group(Module& module) { return {ParameterGroup{module.parameters(), 0.0f}}; }

}  // namespace nebula
