#include "train/evaluation.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "engine/autograd.h"

namespace nebula {

Evaluation evaluate(Sequential& net, data::Loader& loader, int epoch) {
  NoGradGuard no_grad;
  net.eval();
  Evaluation result;
  loader.start_epoch(epoch);
  data::Batch batch;
  while (loader.next(&batch)) {
    if (batch.size() == 0) continue;
    Variable prediction = net(Variable(batch.images));
    result.meter.add(prediction.value(), batch.labels);
  }
  result.loss = result.meter.mse();
  result.rmse = result.meter.rmse();
  return result;
}

double mean_predictor_rmse(const data::Dataset& d, const std::vector<size_t>& train, const std::vector<size_t>& test) {
  size_t columns = d.num_columns();
  std::vector<double> mean(columns, 0.0);
  for (size_t row : train)
    for (size_t c = 0; c < columns; ++c) mean[c] += d.label_row(row)[c];
  for (double& m : mean) m /= std::max<size_t>(train.size(), 1);
  double sum = 0;
  for (size_t row : test)
    for (size_t c = 0; c < columns; ++c) {
      double e = d.label_row(row)[c] - mean[c];
      sum += e * e;
    }
  return test.empty() ? 0.0 : std::sqrt(sum / (test.size() * columns));
}

std::vector<std::pair<std::string, double>> question_rmse(const RmseMeter& meter,
                                                          const std::vector<std::string>& columns) {
  std::map<int, std::pair<double, int>> sums;
  for (size_t c = 0; c < columns.size(); ++c) {
    int question = std::atoi(columns[c].c_str() + 5);  // after "Class"
    double r = meter.column_rmse(static_cast<int>(c));
    sums[question].first += r * r;
    sums[question].second += 1;
  }
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [q, s] : sums) out.push_back({"Q" + std::to_string(q), std::sqrt(s.first / s.second)});
  return out;
}

}  // namespace nebula
