#include "engine/autograd.h"

#include <vector>

#include "base/error.h"
#include "engine/dispatch.h"

namespace nebula {

namespace {
thread_local std::vector<std::function<void()>> tape;
thread_local bool grad_mode = true;
}  // namespace

Variable::Variable(Tensor value, bool requires_grad) : data_(std::make_shared<Data>()) {
  data_->value = std::move(value);
  data_->requires_grad = requires_grad;
}

void Variable::accumulate_grad(Tensor g) const {
  NEBULA_CHECK(g.numel() == value().numel(), "gradient of shape ", to_string(g.shape()), " for a value of shape ",
               to_string(shape()));
  if (!data_->grad.defined())
    data_->grad = g.reshape(shape());
  else
    dispatch::accumulate(g, data_->grad);
}

bool grad_enabled() { return grad_mode; }

NoGradGuard::NoGradGuard() : previous_(grad_mode) { grad_mode = false; }
NoGradGuard::~NoGradGuard() { grad_mode = previous_; }

void record_backward(std::function<void()> step) { tape.push_back(std::move(step)); }

bool needs_grad(std::initializer_list<const Variable*> inputs) {
  if (!grad_mode) return false;
  for (const Variable* v : inputs)
    if (v && v->requires_grad()) return true;
  return false;
}

void backward(Variable& loss) {
  NEBULA_CHECK(loss.value().numel() == 1, "backward() needs a scalar loss, got shape ", to_string(loss.shape()));
  NEBULA_CHECK(loss.requires_grad(), "backward(): the loss does not depend on anything that requires a gradient");
  loss.zero_grad();
  loss.accumulate_grad(Tensor::full(loss.shape(), 1.0f, loss.value().device()));
  // Move the tape out first so a throwing step cannot leave it half-replayed.
  std::vector<std::function<void()>> steps;
  steps.swap(tape);
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) (*it)();
}

void clear_tape() { tape.clear(); }
size_t tape_size() { return tape.size(); }

}  // namespace nebula
