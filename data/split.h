// Train / validation / test splits: a seeded permutation of the rows, cut by
// counts or by fractions, optionally after keeping only the first `limit` rows
// of the permutation. The study's split is
//   make_split(rows, SplitSpec::counts(8000, 2000, 2000, /*limit=*/12000, seed)).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nebula::data {

struct SplitSpec {
  bool by_count = false;
  double train = 0.8;  // a fraction of the rows used, or a count when by_count
  double validation = 0.1;
  double test = 0.1;
  size_t limit = 0;  // use at most this many rows (a seeded random subset); 0 for all
  uint64_t seed = 0;

  static SplitSpec counts(size_t train, size_t validation, size_t test, size_t limit = 0, uint64_t seed = 0);
  static SplitSpec fractions(double train, double validation, double test, size_t limit = 0, uint64_t seed = 0);
  // "8000/2000/2000" (counts) or "0.8/0.1/0.1" (fractions); throws on anything else.
  static SplitSpec parse(const std::string& text, size_t limit = 0, uint64_t seed = 0);
};

struct Split {
  std::vector<size_t> train, validation, test;  // row indices, each part sorted
};

// Throws nebula::Error when the counts ask for more rows than there are, or the
// fractions are negative or sum to more than 1.
Split make_split(size_t rows, const SplitSpec& spec);

}  // namespace nebula::data
