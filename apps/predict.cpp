// predict: a Kaggle submission from a train_cnn checkpoint. The model, its label
// columns and its preprocessing are read from the checkpoint itself.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <sstream>

#include "apps/device_choice.h"
#include "data/dataset.h"
#include "base/file_io.h"
#include "data/loader.h"
#include "engine/checkpoint.h"
#include "base/error.h"
#include "engine/safetensors.h"
#include "models/model_file.h"

namespace nebula {
namespace {

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

int predict(const std::string& checkpoint, const std::string& images, const std::string& out, int workers,
            int batch_size, Device device) {
  // The checkpoint says what to build; load_checkpoint then checks every tensor against it.
  SafetensorsFile file = read_safetensors(checkpoint);
  std::map<std::string, std::string> meta = file.metadata();
  for (const char* key : {"model", "model_source", "columns", "input_size", "crop"})
    NEBULA_CHECK(meta.count(key), checkpoint, ": not a train_cnn checkpoint (no '", key, "' in its metadata)");
  std::vector<std::string> columns = split_commas(meta["columns"]);
  int size = std::stoi(meta["input_size"]);
  Model model = parse_model(meta["model_source"], meta["model"], static_cast<int>(columns.size()), size, size);
  model.spec.crop = std::stoi(meta["crop"]);
  load_checkpoint(file, *model.network, nullptr);
  model.network->eval();
  model.network->to(device);

  data::Dataset dataset = data::open_images(images);
  NEBULA_CHECK(dataset.rows() > 0, images, ": no images found");
  std::vector<size_t> rows(dataset.rows());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.preprocess = {model.spec.crop, model.spec.height};
  options.threads = workers;
  options.device = device;
  data::Loader loader(dataset, rows, options);

  std::map<int64_t, std::vector<float>> predictions;  // ordered by GalaxyID
  NoGradGuard no_grad;
  loader.start_epoch(0);
  data::Batch batch;
  while (loader.next(&batch)) {
    if (batch.size() == 0) continue;
    std::vector<float> values = (*model.network)(Variable(batch.images)).value().to_vector();
    for (size_t i = 0; i < batch.size(); ++i)
      predictions[batch.ids[i]].assign(values.begin() + i * columns.size(), values.begin() + (i + 1) * columns.size());
  }

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
  write_file_atomic(out, csv.str());
  std::printf("wrote %zu predictions of %zu columns to %s\n", predictions.size(), columns.size(), out.c_str());
  if (columns.size() != 37)
    std::fprintf(stderr, "note: the model was trained on %zu of the 37 Kaggle columns; the file holds only those\n",
                 columns.size());
  if (loader.skipped())
    std::fprintf(stderr, "%zu broken images were skipped and have no row (named above)\n", loader.skipped());
  return loader.skipped() ? 3 : 0;
}

}  // namespace
}  // namespace nebula

int main(int argc, char** argv) {
  std::string checkpoint, images, out = "submission.csv";
  int workers = 0, batch = 100;
  std::string device = "auto", backend = "native";
  CLI::App app{"Predict the Galaxy Zoo probabilities of a folder of images with a train_cnn checkpoint."};
  app.add_option("--checkpoint", checkpoint, "best.safetensors or last.safetensors from train_cnn")->required();
  app.add_option("--images", images, "folder of <GalaxyID>.jpg")->required();
  app.add_option("--out", out, "the submission CSV")->capture_default_str();
  app.add_option("--workers", workers, "loader threads (default: every core)");
  app.add_option("--batch", batch)->capture_default_str();
  app.add_option("--device", device, "cpu, cuda or auto (cuda where a GPU is present)")->capture_default_str();
  app.add_option("--backend", backend, "GPU kernels: native or cudnn")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return nebula::predict(checkpoint, images, out, workers, batch, nebula::choose_device(device, backend));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict: %s\n", e.what());
    return 1;
  }
}
