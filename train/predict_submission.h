// A Kaggle submission from a train_cnn checkpoint: the model, its label columns
// and its preprocessing are read from the checkpoint's run metadata, every
// image of a folder is predicted, and the CSV (GalaxyID, then the columns in
// the model's order) is written atomically, rows ordered by GalaxyID.
#pragma once
#include <cstddef>
#include <string>

#include "engine/device.h"

namespace nebula {

struct PredictConfig {
  std::string checkpoint;
  std::string images;     // folder of <GalaxyID>.jpg
  std::string out = "submission.csv";
  int workers = 0;        // 0: every core
  int batch = 100;
  Device device = Device::CPU;
};

struct PredictResult {
  size_t predictions = 0, columns = 0;
  size_t skipped = 0;     // broken images, named on stderr, with no row
};

// Throws nebula::Error naming the file and the problem.
PredictResult predict_submission(const PredictConfig& config);

}  // namespace nebula
