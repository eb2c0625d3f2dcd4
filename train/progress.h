// A one-line progress bar for an epoch: batches done, images/s, ETA and the
// running loss, redrawn in place on a terminal; on a pipe or a log file it
// prints a line every quarter instead, so logs stay readable.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

namespace nebula {

class ProgressBar {
 public:
  ProgressBar(std::string label, size_t total_batches);
  void update(size_t batches_done, size_t images_done, double running_loss);
  void finish();
  double seconds() const;

 private:
  void draw(size_t batches_done, size_t images_done, double running_loss, bool final_line);

  std::string label_;
  size_t total_;
  bool terminal_;
  int next_quarter_ = 1;
  std::chrono::steady_clock::time_point start_;
  size_t last_batches_ = 0, last_images_ = 0;
  double last_loss_ = 0.0;
};

}  // namespace nebula
