#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>

#include "base/counter_random.h"
#include "base/error.h"

namespace nebula::data {

namespace {
constexpr uint64_t kSplitStream = 0x53504C4954ull;  // "SPLIT": keeps split draws apart from augmentation's
}

SplitSpec SplitSpec::counts(size_t train, size_t validation, size_t test, size_t limit, uint64_t seed) {
  SplitSpec spec;
  spec.by_count = true;
  spec.train = double(train);
  spec.validation = double(validation);
  spec.test = double(test);
  spec.limit = limit;
  spec.seed = seed;
  return spec;
}

SplitSpec SplitSpec::fractions(double train, double validation, double test, size_t limit, uint64_t seed) {
  SplitSpec spec;
  spec.train = train;
  spec.validation = validation;
  spec.test = test;
  spec.limit = limit;
  spec.seed = seed;
  return spec;
}

SplitSpec SplitSpec::parse(const std::string& text, size_t limit, uint64_t seed) {
  double parts[3];
  size_t start = 0;
  bool fractional = false;
  for (int i = 0; i < 3; ++i) {
    size_t end = text.find('/', start);
    NEBULA_CHECK((i < 2) == (end != std::string::npos), "split '", text,
                 "': expected three parts train/validation/test, e.g. 8000/2000/2000 or 0.8/0.1/0.1");
    std::string part = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    char* stop = nullptr;
    parts[i] = std::strtod(part.c_str(), &stop);
    NEBULA_CHECK(!part.empty() && *stop == '\0' && std::isfinite(parts[i]) && parts[i] >= 0, "split '", text, "': '",
                 part, "' is not a non-negative number");
    fractional = fractional || part.find('.') != std::string::npos;
    start = end + 1;
  }
  if (fractional) return fractions(parts[0], parts[1], parts[2], limit, seed);
  for (double p : parts) NEBULA_CHECK(p == std::floor(p), "split '", text, "': counts must be whole numbers");
  return counts(size_t(parts[0]), size_t(parts[1]), size_t(parts[2]), limit, seed);
}

Split make_split(size_t rows, const SplitSpec& spec) {
  // A seeded Fisher-Yates permutation; its first `limit` rows are the subset used.
  std::vector<size_t> order(rows);
  std::iota(order.begin(), order.end(), size_t(0));
  CounterRandom random(spec.seed, kSplitStream, 0);
  for (size_t i = rows; i > 1; --i) std::swap(order[i - 1], order[random.below(i)]);
  size_t used = spec.limit > 0 ? std::min(spec.limit, rows) : rows;

  size_t n_train, n_val, n_test;
  if (spec.by_count) {
    n_train = size_t(spec.train);
    n_val = size_t(spec.validation);
    n_test = size_t(spec.test);
    NEBULA_CHECK(n_train + n_val + n_test <= used, "split ", n_train, "/", n_val, "/", n_test, " needs ",
                 n_train + n_val + n_test, " rows, only ", used, " available");
  } else {
    double sum = spec.train + spec.validation + spec.test;
    NEBULA_CHECK(spec.train >= 0 && spec.validation >= 0 && spec.test >= 0 && sum <= 1.0 + 1e-9, "split fractions ",
                 spec.train, "/", spec.validation, "/", spec.test, " must be non-negative and sum to at most 1");
    n_val = size_t(std::floor(spec.validation * used));
    n_test = size_t(std::floor(spec.test * used));
    // Fractions summing to 1 use every row: rounding's leftovers go to training.
    n_train = sum >= 1.0 - 1e-9 ? used - n_val - n_test : size_t(std::floor(spec.train * used));
  }
  Split split;
  split.train.assign(order.begin(), order.begin() + n_train);
  split.validation.assign(order.begin() + n_train, order.begin() + n_train + n_val);
  split.test.assign(order.begin() + n_train + n_val, order.begin() + n_train + n_val + n_test);
  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.test.begin(), split.test.end());
  return split;
}

}  // namespace nebula::data
