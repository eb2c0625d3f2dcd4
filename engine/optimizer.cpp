#include "engine/optimizer.h"

#include "engine/dispatch.h"
#include "engine/error.h"

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
  for (size_t g = 0; g < groups_.size(); ++g) {
    float lr = groups_[g].lr > 0.0f ? groups_[g].lr : lr_;
    for (size_t i = 0; i < groups_[g].parameters.size(); ++i) {
      Variable& parameter = groups_[g].parameters[i].variable;
      if (!parameter.requires_grad() || !parameter.grad().defined()) continue;
      update(parameter, lr, slots_[g][i]);
    }
  }
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

void Adamax::update(Variable& parameter, float lr, std::vector<Tensor>& slots) {
  AdamaxParams p = params_;
  p.lr = lr;
  dispatch::adamax_update(p, steps(), parameter.value(), parameter.grad(), slots[0], slots[1]);
}

Adam::Adam(std::vector<ParameterGroup> groups, AdamParams params)
    : Optimizer(std::move(groups), params.lr, {"exp_avg", "exp_avg_sq"}), params_(params) {}

void Adam::update(Variable& parameter, float lr, std::vector<Tensor>& slots) {
  AdamParams p = params_;
  p.lr = lr;
  dispatch::adam_update(p, steps(), parameter.value(), parameter.grad(), slots[0], slots[1]);
}

Sgd::Sgd(std::vector<ParameterGroup> groups, SgdParams params)
    : Optimizer(std::move(groups), params.lr, {"momentum_buffer"}), params_(params) {}

void Sgd::update(Variable& parameter, float lr, std::vector<Tensor>& slots) {
  SgdParams p = params_;
  p.lr = lr;
  dispatch::sgd_update(p, parameter.value(), parameter.grad(), slots[0]);
}

std::vector<ParameterGroup> single_group(Module& module) { return {ParameterGroup{module.parameters(), 0.0f}}; }

}  // namespace nebula
