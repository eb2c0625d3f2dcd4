#include "engine/metrics.h"

#include <cmath>
#include <utility>

#include "base/error.h"
#include "engine/dispatch.h"

namespace nebula {

void RmseMeter::add(const Tensor& prediction, const Tensor& target) {
  NEBULA_CHECK(prediction.rank() == 2, "RMSE: prediction ", to_string(prediction.shape()), " must be [N, columns]");
  if (column_sums_.empty()) column_sums_.assign(size_t(prediction.dim(1)), 0.0);
  dispatch::add_column_squared_error(prediction, target, column_sums_, pending_);
  samples_ += prediction.dim(0);
}

void RmseMeter::collect() const {
  for (const Tensor& sums : pending_) {
    std::vector<float> host = sums.to_vector();
    for (size_t c = 0; c < host.size(); ++c) column_sums_[c] += host[c];
  }
  pending_.clear();
}

double RmseMeter::mse() const {
  collect();
  if (samples_ == 0 || column_sums_.empty()) return 0.0;
  double total = 0.0;
  for (double s : column_sums_) total += s;
  return total / (static_cast<double>(samples_) * column_sums_.size());
}

double RmseMeter::rmse() const { return std::sqrt(mse()); }

double RmseMeter::column_rmse(int column) const {
  collect();
  return samples_ ? std::sqrt(column_sums_.at(column) / samples_) : 0.0;
}

void RmseMeter::reset() {
  column_sums_.clear();
  pending_.clear();
  samples_ = 0;
}

std::vector<double> RmseMeter::column_squared_errors() const {
  collect();
  return column_sums_;
}

void RmseMeter::restore(std::vector<double> column_squared_errors, int64_t samples) {
  reset();
  column_sums_ = std::move(column_squared_errors);
  samples_ = samples;
}

}  // namespace nebula
