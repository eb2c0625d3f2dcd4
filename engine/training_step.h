// One training step (zero the gradients, forward, MSE loss, backward, optimizer
// step), run eagerly or, on the GPU, as a captured CUDA graph.
#pragma once
#include <memory>
#include <vector>

#include "engine/module.h"
#include "engine/optimizer.h"

namespace nebula {

struct StepResult {
  Tensor loss;        // 1 value, on the step's device
  Tensor prediction;  // [N, outputs]
};

StepResult training_step(Module& net, Optimizer& optimizer, const Tensor& x, const Tensor& y);

// Which of the optimizer's parameters train (requires_grad), in its order: a
// captured step bakes this set in, so a change means capturing again.
std::vector<bool> trainable_parameters(Optimizer& optimizer);

// The training step as a CUDA graph: launching a graph costs one call where
// the eager step queues a hundred kernels, each with host-side work. The first
// step of a shape runs eagerly (it fills the memory cache and picks cuDNN
// algorithms, which cannot happen during a capture); the second is captured and
// every later one replays the graph on copies of its inputs. A batch of another
// shape (the last, smaller one) runs eagerly. Replays give the same numbers as
// eager steps: the optimizer's step count and the dropout masks advance through
// device counters, the learning rates are read from device memory the host
// keeps current (so a schedule or a loaded checkpoint's step count holds in
// every replay), and freezing or unfreezing parameters captures again. If
// capturing fails, it says why once and stays eager; out of GPU memory outside
// the graph, it drops the graph (its memory is then free) and stays eager.
class GraphedTrainingStep {
 public:
  GraphedTrainingStep(Module& net, Optimizer& optimizer);
  ~GraphedTrainingStep();
  GraphedTrainingStep(const GraphedTrainingStep&) = delete;
  GraphedTrainingStep& operator=(const GraphedTrainingStep&) = delete;

  StepResult run(const Tensor& x, const Tensor& y);
  bool captured() const;

 private:
  struct Graph;
  void capture(const Tensor& x, const Tensor& y);
  StepResult replay(const Tensor& x, const Tensor& y);

  Module& net_;
  Optimizer& optimizer_;
  std::unique_ptr<Graph> graph_;
  Shape warmed_shape_;
  bool failed_ = false;
  bool replaying_ = false;
  int pressure_handler_ = 0;
};

}  // namespace nebula
