// RMSE over every output of every sample, as the study and Kaggle score it:
// sqrt(sum of squared errors / (samples x outputs)), accumulated in double across
// batches, with a per-column breakdown for the per-question report. On the GPU
// each batch's column sums stay on the device until a result is asked for, so
// adding a batch never waits for the step to finish.
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
  // The per-column sums of squared errors, to save an interrupted epoch, and
  // their restoration: a meter restored and fed the rest gives the same figures.
  std::vector<double> column_squared_errors() const;
  void restore(std::vector<double> column_squared_errors, int64_t samples);

 private:
  // Adds the GPU batches' sums into column_sums_, in the order they came.
  void collect() const;

  mutable std::vector<double> column_sums_;
  mutable std::vector<Tensor> pending_;  // per-batch column sums on the GPU
  int64_t samples_ = 0;
};

}  // namespace nebula
