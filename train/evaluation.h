// Scoring a model on a split part: the loss and RMSE of a pass without
// gradients, the per-question breakdown, and the floor of predicting the mean.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.h"
#include "data/loader.h"
#include "engine/metrics.h"
#include "engine/sequential.h"

namespace nebula {

struct Evaluation {
  double loss = 0, rmse = 0;
  RmseMeter meter;
};

// One pass over the loader's rows in eval mode (the epoch only seeds the order).
Evaluation evaluate(Sequential& net, data::Loader& loader, int epoch);

// RMSE of predicting each column's training mean for every galaxy: the floor a
// model must beat to have learnt anything from the pixels.
double mean_predictor_rmse(const data::Dataset& d, const std::vector<size_t>& train, const std::vector<size_t>& test);

// Per-question RMSE: the columns "ClassQ.k" grouped by Q, each question's RMSE
// over its samples x its columns.
std::vector<std::pair<std::string, double>> question_rmse(const RmseMeter& meter,
                                                          const std::vector<std::string>& columns);

}  // namespace nebula
