// Dense's shapes, written once. They drive the CPU reference's gradient checks
// (tests/kernels/dense_test.cpp: the edge cases), the CPU-vs-GPU parity tests on
// both GPU backends (tests/cuda/dense_parity_test.cpp: every case, the model
// layers at a small batch) and the kernel benchmark (benchmarks/bench_kernels.cpp:
// the model layers at batch 100).
#pragma once
#include <string>
#include <vector>

#include "engine/shape.h"
#include "kernels/dense.h"

namespace nebula::cases {

struct DenseCase {
  std::string name;  // why the case is here
  Shape x;           // [N, in], or [N, C, H, W] still unflattened
  int out;

  int64_t batch() const { return x[0]; }
  int64_t in() const { return numel(x) / x[0]; }
  DenseParams params() const { return {int(batch()), int(in()), out}; }
};

inline std::string describe(const DenseCase& c) {
  return "dense (" + c.name + ") x " + to_string(c.x) + " -> " + std::to_string(c.out) + " features";
}

inline std::vector<DenseCase> dense_edge_cases() {
  return {
      {"1 -> 1", {1, 1}, 1},
      {"small", {3, 5}, 4},
      {"one sample", {1, 7}, 2},
      {"one output", {6, 4}, 1},
      {"odd sizes", {7, 33}, 37},
      {"wide output", {3, 5}, 1000},
      {"input still [N, C, H, W]", {2, 8, 5, 5}, 17},
  };
}

// The dense layers of the study's cnn1 and a ResNet's head, at batch n.
inline std::vector<DenseCase> dense_model_cases(int n) {
  return {
      {"cnn1_fc1", {n, 2048}, 512},
      {"cnn1_fc2", {n, 512}, 37},
      {"resnet_head", {n, 512}, 37},
  };
}

}  // namespace nebula::cases
