#include "engine/optimizer.h"

#include "engine/dispatch.h"
#include "base/error.h"

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

void Optimizer::step() {
  ++steps_;
  bool on_gpu = false;
  for (const ParameterGroup& group : groups_)
    for (const NamedParameter& p : group.parameters) on_gpu = on_gpu || p.variable.value().device() == Device::CUDA;
  if (on_gpu) {
    if (!step_counter_.defined()) {
      step_counter_ = Tensor({1}, Device::CUDA);
      one_ = Tensor::full({1}, 1.0f, Device::CUDA);
    }
    // Written from the host only when it does not already hold t - 1 (the first
    // step, or after set_steps), so a captured step has just the increment.
    if (counter_holds_ != steps_ - 1) step_counter_.fill(static_cast<float>(steps_ - 1));
    dispatch::accumulate(one_, step_counter_);
    counter_holds_ = steps_;
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    float lr = groups_[g].lr > 0.0f ? groups_[g].lr : lr_;
    std::vector<dispatch::UpdateTensors> tensors;
    for (size_t i = 0; i < groups_[g].parameters.size(); ++i) {
      Variable& parameter = groups_[g].parameters[i].variable;
      if (!parameter.requires_grad() || !parameter.grad().defined()) continue;
      std::vector<Tensor>& slots = slots_[g][i];
      tensors.push_back({&parameter.value(), &parameter.grad(), &slots[0], slots.size() > 1 ? &slots[1] : nullptr});
    }
    if (!tensors.empty()) update(lr, step_counter_, tensors);
  }
}

void Optimizer::count_replayed_step() {
  ++steps_;
  counter_holds_ = steps_;
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

void Adamax::update(float lr, const Tensor& step_counter, const std::vector<dispatch::UpdateTensors>& tensors) {
  AdamaxParams p = params_;
  p.lr = lr;
  dispatch::adamax_update(p, steps(), step_counter, tensors);
}

Adam::Adam(std::vector<ParameterGroup> groups, AdamParams params)
    : Optimizer(std::move(groups), params.lr, {"exp_avg", "exp_avg_sq"}), params_(params) {}

void Adam::update(float lr, const Tensor& step_counter, const std::vector<dispatch::UpdateTensors>& tensors) {
  AdamParams p = params_;
  p.lr = lr;
  dispatch::adam_update(p, steps(), step_counter, tensors);
}

Sgd::Sgd(std::vector<ParameterGroup> groups, SgdParams params)
    : Optimizer(std::move(groups), params.lr, {"momentum_buffer"}), params_(params) {}

void Sgd::update(float lr, const Tensor&, const std::vector<dispatch::UpdateTensors>& tensors) {
  SgdParams p = params_;
  p.lr = lr;
  dispatch::sgd_update(p, tensors);
}

std::vector<ParameterGroup> single_group(Module& module) { return {ParameterGroup{module.parameters(), 0.0f}}; }

}  // namespace nebula
