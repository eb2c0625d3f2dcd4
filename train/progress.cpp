#include "train/progress.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace nebula {

ProgressBar::ProgressBar(std::string label, size_t total_batches)
    : label_(std::move(label)),
      total_(total_batches),
      terminal_(isatty(fileno(stderr))),
      start_(std::chrono::steady_clock::now()) {}

double ProgressBar::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::update(size_t batches_done, size_t images_done, double running_loss) {
  last_batches_ = batches_done;
  last_images_ = images_done;
  last_loss_ = running_loss;
  if (terminal_) {
    draw(batches_done, images_done, running_loss, false);
  } else if (total_ && batches_done * 4 >= next_quarter_ * total_ && batches_done < total_) {
    ++next_quarter_;
    draw(batches_done, images_done, running_loss, true);
  }
}

void ProgressBar::finish() { draw(last_batches_, last_images_, last_loss_, true); }

void ProgressBar::draw(size_t batches_done, size_t images_done, double running_loss, bool final_line) {
  const int width = 30;
  double fraction = total_ ? static_cast<double>(batches_done) / total_ : 1.0;
  int filled = static_cast<int>(fraction * width);
  std::string bar(filled, '=');
  if (filled < width) bar += '>' + std::string(width - filled - 1, ' ');
  double elapsed = seconds();
  double rate = elapsed > 0 ? images_done / elapsed : 0.0;
  double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  std::fprintf(stderr, "%s%s [%s] %zu/%zu  %.0f img/s  ETA %3.0fs  loss %.5f%s", terminal_ ? "\r" : "", label_.c_str(),
               bar.c_str(), batches_done, total_, rate, eta, running_loss, final_line ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace nebula
