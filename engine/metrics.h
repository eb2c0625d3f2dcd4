// RMSE over every output of every sample, as the study and Kaggle score it:
// sqrt(sum of squared errors / (samples x outputs)), accumulated in double across
// batches, with a per-column breakdown for the per-question report.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace nebula {

class RmseMeter {
 public:
  // prediction and target are [N, columns].
  void add(const Tensor& prediction, const Tensor& target);
  double rmse() const;
  double mse() const;
  // RMSE of one column over the samples seen.
  double column_rmse(int column) const;
  int columns() const { return static_cast<int>(column_sums_.size()); }
  int64_t samples() const { return samples_; }
  void reset();

 private:
  std::vector<double> column_sums_;
  int64_t samples_ = 0;
};

}  // namespace nebula
