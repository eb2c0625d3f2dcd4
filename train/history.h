// A training run's record: one row per epoch, written as history.csv and drawn
// as curves.svg (loss and RMSE, train and validation, like the study's figures
// 4-7). Both files are rewritten atomically after every epoch.
#pragma once
#include <string>
#include <vector>

namespace nebula {

struct EpochRecord {
  int epoch = 0;  // 1-based
  double train_loss = 0, train_rmse = 0, val_loss = 0, val_rmse = 0;
  double seconds = 0, images_per_second = 0;
};

std::string history_csv(const std::vector<EpochRecord>& history);
// Parses what history_csv wrote (for --resume); throws naming the file on anything else.
std::vector<EpochRecord> parse_history_csv(const std::string& text, const std::string& path);
std::string curves_svg(const std::vector<EpochRecord>& history, const std::string& title);

}  // namespace nebula
