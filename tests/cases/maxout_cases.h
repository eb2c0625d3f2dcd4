// Maxout's shapes, written once. They drive the CPU reference's gradient
// checks (tests/kernels/maxout_test.cpp: every edge case), the CPU-vs-GPU
// parity tests (tests/cuda/maxout_parity_test.cpp: every case, the model
// layers at a small batch) and the kernel benchmark
// (benchmarks/bench_kernels.cpp: the model layers at batch 100).
#pragma once
#include <string>
#include <vector>

#include "engine/shape.h"

namespace nebula::cases {

struct MaxoutCase {
  std::string name;  // why the case is here
  int batch, features, pieces;  // x [batch, features x pieces] -> y [batch, features]

  Shape x() const { return {batch, int64_t(features) * pieces}; }
  Shape y() const { return {batch, features}; }
};

inline std::string describe(const MaxoutCase& c) {
  return "maxout (" + c.name + ") x " + to_string(c.x()) + " -> " + to_string(c.y());
}

inline std::vector<MaxoutCase> maxout_edge_cases() {
  return {
      {"pairs", 3, 5, 2},
      {"one piece: the identity", 2, 4, 1},
      {"one group", 1, 1, 3},
      {"five pieces, odd sizes", 4, 7, 5},
  };
}

// The maxout layers of the built-in dieleman (two of 2048) and cnn2-views models.
inline std::vector<MaxoutCase> maxout_model_cases(int n) {
  return {
      {"dieleman_fc", n, 2048, 2},
      {"cnn2_views_fc", n, 256, 2},
  };
}

}  // namespace nebula::cases
