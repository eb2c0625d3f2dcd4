// Reverse-mode autograd on a tape. Every differentiable op that sees an input
// requiring a gradient appends its backward closure to the thread's tape, in the
// order the ops ran; backward() replays the tape from the end. The visiting order
// is therefore fixed by the program, never by pointer values or hashing, and two
// runs accumulate gradients in the same order, bit for bit.
#pragma once
#include <functional>
#include <memory>

#include "engine/tensor.h"

namespace nebula {

// A tensor in the graph: its value, its gradient (undefined until backward
// reaches it, or after zero_grad), and whether it wants one.
class Variable {
 public:
  Variable() = default;
  explicit Variable(Tensor value, bool requires_grad = false);

  bool defined() const { return data_ != nullptr; }
  // A Variable is a handle, like shared_ptr: const-ness of the handle does not
  // make the value or the gradient it points to read-only.
  Tensor& value() const { return data_->value; }
  Tensor& grad() const { return data_->grad; }
  const Shape& shape() const { return data_->value.shape(); }
  bool requires_grad() const { return data_ && data_->requires_grad; }
  void set_requires_grad(bool on) const { data_->requires_grad = on; }
  void zero_grad() const { data_->grad = Tensor(); }

  // Adds g into the gradient. g must be a fresh tensor that no one else writes:
  // on the first call it becomes the gradient without a copy.
  void accumulate_grad(Tensor g) const;

  bool same(const Variable& other) const { return data_ == other.data_; }

 private:
  struct Data {
    Tensor value;
    Tensor grad;
    bool requires_grad = false;
  };
  std::shared_ptr<Data> data_;
};

// Whether ops record onto the tape (off inside NoGradGuard, e.g. for evaluation).
bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Appends a backward step. Ops call this only when grad_enabled() and some
// input requires a gradient (see needs_grad).
void record_backward(std::function<void()> step);
bool needs_grad(std::initializer_list<const Variable*> inputs);

// Seeds d(loss)/d(loss) = 1, replays the tape in reverse and clears it.
void backward(Variable& loss);
// Drops whatever the tape holds (after a forward pass that is not differentiated).
void clear_tape();
size_t tape_size();

}  // namespace nebula
