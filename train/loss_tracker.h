// The running training loss of an epoch. A step's loss is read only once the
// next step has been queued, so on the GPU the host never waits for a step it
// just launched.
#pragma once
#include <cstddef>
#include <vector>

#include "engine/tensor.h"

namespace nebula {

class LossTracker {
 public:
  struct Step {
    Tensor loss;
    size_t batch_index = 0, images = 0;
  };
  // Where an interrupted epoch stood: the image-weighted loss sum, images and batches.
  struct Totals {
    double loss_sum = 0;
    size_t images = 0, batches = 0;
  };

  LossTracker() = default;
  explicit LossTracker(Totals start) : totals_(start) {}

  // False when a finished step's loss was not finite: bad() names it.
  bool add(Step step);
  // Settles every pending step; false as add().
  bool finish();
  const Step& bad() const { return bad_; }
  float bad_value() const { return bad_value_; }
  double mean() const { return totals_.images ? totals_.loss_sum / totals_.images : 0.0; }
  size_t images() const { return totals_.images; }
  size_t batches() const { return totals_.batches; }
  const Totals& totals() const { return totals_; }

 private:
  bool settle();

  std::vector<Step> pending_;
  Step bad_;
  float bad_value_ = 0;
  Totals totals_;
};

}  // namespace nebula
