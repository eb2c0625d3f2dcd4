// Validation of a whole data set before a long run: the label file (already
// validated when the set was opened), the decision-tree sums, and every image
// decoded once. Broken images are listed by GalaxyID and file; the set is still
// usable, since the loader skips them.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace nebula::data {

struct CheckOptions {
  int threads = 0;  // 0: every core
  // Called now and then from the calling thread with (images done, total).
  std::function<void(size_t, size_t)> progress;
};

struct CheckReport {
  size_t rows = 0;
  size_t decoded = 0;                   // images that decoded whole
  std::vector<BrokenImage> broken;      // in row order
  std::map<std::string, size_t> sizes;  // "424x424" -> images of that size
  double seconds = 0.0;
};

// Decodes every row's image (at 1/8 scale: the whole entropy-coded stream is
// still read, so truncation and corrupt data are caught, at a third of the cost).
CheckReport check_images(const Dataset& data, const CheckOptions& options = {});

}  // namespace nebula::data
