// A Kaggle submission from train_cnn checkpoints: the model, its label columns
// and its preprocessing are read from each checkpoint's run metadata, every
// image of a folder is predicted, and the CSV (GalaxyID, then the columns in
// the model's order) is written atomically, rows ordered by GalaxyID.
//
// Better answers: several checkpoints are averaged as an ensemble (they must
// predict the same columns; each keeps its own model and preprocessing), and
// each checkpoint's prediction can itself be averaged over `tta` fixed views
// of every image: the identity, its quarter turns and their flips (up to 8),
// then fixed draws of the training augmentation. Averages keep the Galaxy Zoo
// tree of a tree-output model, whose constraints are linear.
#pragma once
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "engine/device.h"

namespace nebula {

struct PredictConfig {
  std::vector<std::string> checkpoints;  // one, or several for an ensemble
  std::string images;                    // folder of <GalaxyID>.jpg
  std::string out = "submission.csv";
  int tta = 1;         // views averaged per checkpoint (1: the image alone)
  std::string labels;  // when set, the predictions are scored against this label file
  int workers = 0;     // 0: every core
  int batch = 100;
  Device device = Device::CPU;
};

// The predictions scored against a label file, on the galaxies both hold.
struct SubmissionScore {
  size_t galaxies = 0;
  double rmse = 0;
  std::vector<std::pair<std::string, double>> per_question;  // "Q1", RMSE
};

struct PredictResult {
  size_t predictions = 0, columns = 0;
  size_t skipped = 0;  // broken images, named on stderr, with no row
  bool scored = false;
  SubmissionScore score;  // when PredictConfig::labels was given
};

// Throws nebula::Error naming the file and the problem.
PredictResult predict_submission(const PredictConfig& config);

}  // namespace nebula
