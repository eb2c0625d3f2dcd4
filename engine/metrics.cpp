#include "engine/metrics.h"

#include <cmath>

#include "engine/dispatch.h"
#include "base/error.h"

namespace nebula {

void RmseMeter::add(const Tensor& prediction, const Tensor& target) {
  NEBULA_CHECK(prediction.shape() == target.shape() && prediction.rank() == 2, "RMSE: prediction ",
               to_string(prediction.shape()), " and target ", to_string(target.shape()),
               " must be the same [N, columns]");
  int64_t n = prediction.dim(0), columns = prediction.dim(1);
  if (column_sums_.empty()) column_sums_.assign(columns, 0.0);
  NEBULA_CHECK(static_cast<int64_t>(column_sums_.size()) == columns, "RMSE: ", columns,
               " columns after batches of ", column_sums_.size());
  samples_ += n;
  if (prediction.device() == Device::CUDA) {
    Tensor sums({columns}, Device::CUDA);
    dispatch::column_squared_error(prediction, target, sums);
    pending_.push_back(sums);
    return;
  }
  std::vector<float> p = prediction.to_vector(), t = target.to_vector();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < columns; ++c) {
      double d = static_cast<double>(p[i * columns + c]) - t[i * columns + c];
      column_sums_[c] += d * d;
    }
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

}  // namespace nebula
