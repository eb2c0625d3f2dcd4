#include "train/predict_submission.h"

#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include "base/error.h"
#include "base/file_io.h"
#include "data/dataset.h"
#include "data/dihedral.h"
#include "data/labels.h"
#include "data/loader.h"
#include "engine/autograd.h"
#include "engine/checkpoint.h"
#include "engine/metrics.h"
#include "engine/safetensors.h"
#include "models/model_file.h"
#include "models/model_limits.h"
#include "train/evaluation.h"
#include "train/run_metadata.h"

namespace nebula {

namespace {

using Predictions = std::map<int64_t, std::vector<double>>;  // GalaxyID -> sums of the columns' values

// The seed of the augmentation draws that views past the eight symmetries use.
constexpr uint64_t kViewSeed = 0x7777;

// The model the checkpoint describes, with its weights, in eval mode on the device.
Model load_trained_model(const std::string& checkpoint, Device device, RunMetadata* run) {
  SafetensorsFile file = read_safetensors(checkpoint);
  *run = read_run_metadata(file.metadata(), checkpoint);
  Model model =
      parse_model(run->model_source, run->model, ModelOutputs(run->columns), run->input_size, run->input_size);
  model.spec.crop = run->crop;
  load_checkpoint(file, *model.network, nullptr);  // checks every tensor against the model
  model.network->eval();
  model.network->to(device);
  return model;
}

// Adds one checkpoint's predictions, over `tta` views of every image, to *sums.
size_t add_predictions(const PredictConfig& c, const data::Dataset& dataset, Model& model, Predictions* sums) {
  std::vector<size_t> rows(dataset.rows());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  data::LoaderOptions options;
  options.batch_size = size_t(c.batch);
  options.preprocess = {model.spec.crop, model.spec.height};
  options.threads = c.workers;
  options.device = c.device;
  data::Loader plain(dataset, rows, options);
  std::unique_ptr<data::Loader> augmented;
  if (c.tta > data::kDihedralViews) {
    options.augment = true;
    options.seed = kViewSeed;
    augmented = std::make_unique<data::Loader>(dataset, rows, options);
  }
  NoGradGuard no_grad;
  for (int view = 0; view < c.tta; ++view) {
    const bool symmetry = view < data::kDihedralViews;
    data::Loader& loader = symmetry ? plain : *augmented;
    loader.start_epoch(symmetry ? 0 : view);  // each draw its own epoch: fixed, and different
    data::Batch batch;
    while (loader.next(&batch)) {
      if (batch.size() == 0) continue;
      Tensor images = symmetry ? data::dihedral_view(batch.images, view) : batch.images;
      std::vector<float> values = (*model.network)(Variable(images)).value().to_vector();
      const size_t columns = values.size() / batch.size();
      for (size_t i = 0; i < batch.size(); ++i) {
        std::vector<double>& sum = (*sums)[batch.ids[i]];
        sum.resize(columns, 0.0);
        for (size_t k = 0; k < columns; ++k) sum[k] += values[i * columns + k];
      }
    }
  }
  return plain.skipped();
}

std::string submission_csv(const std::vector<std::string>& columns, const Predictions& predictions, double count) {
  std::ostringstream csv;
  csv << "GalaxyID";
  for (const std::string& c : columns) csv << "," << c;
  csv << "\n";
  char number[32];
  for (const auto& [id, sums] : predictions) {
    csv << id;
    for (double v : sums) {
      std::snprintf(number, sizeof number, ",%.6f", v / count);
      csv << number;
    }
    csv << "\n";
  }
  return csv.str();
}

// RMSE over the galaxies that both the predictions and the label file hold.
SubmissionScore score(const std::string& labels_path, const std::vector<std::string>& columns,
                      const Predictions& predictions, double count) {
  data::LabelTable truth = data::read_labels(labels_path);
  NEBULA_CHECK(truth.columns == columns, labels_path, ": its columns are not the ", columns.size(),
               " the model predicts, in its order (", columns.front(), " ... ", columns.back(), ")");
  std::vector<float> predicted, target;
  for (size_t r = 0; r < truth.rows(); ++r) {
    auto it = predictions.find(truth.ids[r]);
    if (it == predictions.end()) continue;
    for (size_t k = 0; k < columns.size(); ++k) {
      predicted.push_back(float(it->second[k] / count));
      target.push_back(truth.row(r)[k]);
    }
  }
  const int64_t n = int64_t(predicted.size() / columns.size());
  NEBULA_CHECK(n > 0, labels_path, ": holds none of the predicted galaxies");
  RmseMeter meter;
  meter.add(Tensor::from_vector({n, int64_t(columns.size())}, predicted),
            Tensor::from_vector({n, int64_t(columns.size())}, target));
  return {size_t(n), meter.rmse(), question_rmse(meter, columns)};
}

}  // namespace

PredictResult predict_submission(const PredictConfig& c) {
  NEBULA_CHECK(!c.checkpoints.empty(), "give at least one --checkpoint");
  NEBULA_CHECK(c.batch > 0, "--batch must be positive, got ", c.batch);
  NEBULA_CHECK(c.workers >= 0, "--workers must be 0 (every core) or more, got ", c.workers);
  NEBULA_CHECK(c.tta >= 1 && c.tta <= 64, "--tta must be from 1 to 64 views, got ", c.tta);
  data::Dataset dataset = data::open_images(c.images);
  NEBULA_CHECK(dataset.rows() > 0, c.images, ": no images found");

  Predictions sums;
  std::vector<std::string> columns;
  PredictResult result;
  for (const std::string& checkpoint : c.checkpoints) {
    RunMetadata run;
    Model model = load_trained_model(checkpoint, c.device, &run);
    check_batch_fits(model, c.batch);
    NEBULA_CHECK(columns.empty() || run.columns == columns, checkpoint, ": predicts other columns than ",
                 c.checkpoints.front(), "; an ensemble's models must predict the same columns");
    columns = run.columns;
    result.skipped = add_predictions(c, dataset, model, &sums);
  }
  const double count = double(c.checkpoints.size()) * c.tta;
  write_file_atomic(c.out, submission_csv(columns, sums, count));
  result.predictions = sums.size();
  result.columns = columns.size();
  if (!c.labels.empty()) {
    result.scored = true;
    result.score = score(c.labels, columns, sums, count);
  }
  return result;
}

}  // namespace nebula
