#include "train/loss_tracker.h"

#include <cmath>
#include <utility>

namespace nebula {

bool LossTracker::add(Step step) {
  pending_.push_back(std::move(step));
  return pending_.size() < 2 || settle();
}

bool LossTracker::finish() {
  while (!pending_.empty())
    if (!settle()) return false;
  return true;
}

bool LossTracker::settle() {
  Step step = std::move(pending_.front());
  pending_.erase(pending_.begin());
  float value = step.loss.to_vector()[0];
  if (!std::isfinite(value)) {
    bad_ = std::move(step);
    bad_value_ = value;
    return false;
  }
  totals_.loss_sum += double(value) * step.images;
  totals_.images += step.images;
  ++totals_.batches;
  return true;
}

}  // namespace nebula
