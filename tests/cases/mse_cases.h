// The MSE loss's shapes, written once; the RMSE meter's per-column squared
// error reads the same ones. They drive the double-precision gradient check
// (tests/kernels/mse_test.cpp: the edge cases small enough for finite
// differences) and the CPU-vs-GPU parity tests on both GPU backends
// (tests/cuda/mse_parity_test.cpp: every edge case, the model outputs at a
// small batch and at batch 100). The loss is not benchmarked: one pass over
// 100 x 37 values.
#pragma once
#include <string>
#include <vector>

#include "engine/shape.h"

namespace nebula::cases {

struct MseCase {
  std::string name;    // why the case is here
  Shape x;             // predictions and targets, [rows, columns]
  float scale = 1.0f;  // predictions in [-scale, scale], targets in [0, scale]

  int64_t rows() const { return x[0]; }
  int64_t columns() const { return x[1]; }
  int64_t count() const { return numel(x); }
};

inline std::string describe(const MseCase& c) {
  return "mse (" + c.name + ") over " + to_string(c.x) + " in [-" + std::to_string(c.scale) + ", " +
         std::to_string(c.scale) + "]";
}

// One value, one row, one column, a column count off every warp, sums over
// many blocks, large values (the tolerance scales with them).
inline std::vector<MseCase> mse_edge_cases() {
  return {
      {"one value", {1, 1}},
      {"one row of 37", {1, 37}},
      {"one column", {1000, 3}},
      {"wide rows", {3, 1000}},
      {"many rows", {4096, 37}},
      {"one column over many blocks", {100003, 1}},
      {"large values", {100, 37}, 1e4f},
  };
}

// Every built-in model ends in 37 outputs, at batch n.
inline std::vector<MseCase> mse_model_cases(int n) { return {{"outputs", {n, 37}}}; }

}  // namespace nebula::cases
