#include "train/predict_submission.h"

#include <cstdio>
#include <map>
#include <sstream>
#include <vector>

#include "base/error.h"
#include "base/file_io.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "engine/autograd.h"
#include "engine/checkpoint.h"
#include "engine/safetensors.h"
#include "models/model_file.h"
#include "models/model_limits.h"
#include "train/run_metadata.h"

namespace nebula {

namespace {

// The model the checkpoint describes, with its weights, in eval mode on the device.
Model load_trained_model(const std::string& checkpoint, Device device, RunMetadata* run) {
  SafetensorsFile file = read_safetensors(checkpoint);
  *run = read_run_metadata(file.metadata(), checkpoint);
  Model model = parse_model(run->model_source, run->model, ModelOutputs(run->columns), run->input_size,
                            run->input_size);
  model.spec.crop = run->crop;
  load_checkpoint(file, *model.network, nullptr);  // checks every tensor against the model
  model.network->eval();
  model.network->to(device);
  return model;
}

std::string submission_csv(const std::vector<std::string>& columns,
                           const std::map<int64_t, std::vector<float>>& predictions) {
  std::ostringstream csv;
  csv << "GalaxyID";
  for (const std::string& c : columns) csv << "," << c;
  csv << "\n";
  char number[32];
  for (const auto& [id, values] : predictions) {
    csv << id;
    for (float v : values) {
      std::snprintf(number, sizeof number, ",%.6f", v);
      csv << number;
    }
    csv << "\n";
  }
  return csv.str();
}

}  // namespace

PredictResult predict_submission(const PredictConfig& c) {
  NEBULA_CHECK(c.batch > 0, "--batch must be positive, got ", c.batch);
  NEBULA_CHECK(c.workers >= 0, "--workers must be 0 (every core) or more, got ", c.workers);
  RunMetadata run;
  Model model = load_trained_model(c.checkpoint, c.device, &run);
  check_batch_fits(model, c.batch);

  data::Dataset dataset = data::open_images(c.images);
  NEBULA_CHECK(dataset.rows() > 0, c.images, ": no images found");
  std::vector<size_t> rows(dataset.rows());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  data::LoaderOptions options;
  options.batch_size = size_t(c.batch);
  options.preprocess = {model.spec.crop, model.spec.height};
  options.threads = c.workers;
  options.device = c.device;
  data::Loader loader(dataset, rows, options);

  const size_t columns = run.columns.size();
  std::map<int64_t, std::vector<float>> predictions;  // ordered by GalaxyID
  NoGradGuard no_grad;
  loader.start_epoch(0);
  data::Batch batch;
  while (loader.next(&batch)) {
    if (batch.size() == 0) continue;
    std::vector<float> values = (*model.network)(Variable(batch.images)).value().to_vector();
    for (size_t i = 0; i < batch.size(); ++i)
      predictions[batch.ids[i]].assign(values.begin() + i * columns, values.begin() + (i + 1) * columns);
  }
  write_file_atomic(c.out, submission_csv(run.columns, predictions));
  return {predictions.size(), columns, loader.skipped()};
}

}  // namespace nebula
