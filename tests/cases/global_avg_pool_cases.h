// Global average pooling's shapes, written once. They drive the
// double-precision gradient check (tests/kernels/global_avg_pool_test.cpp: the
// edge cases small enough for finite differences) and the CPU-vs-GPU parity
// tests on both GPU backends (tests/cuda/global_avg_pool_parity_test.cpp: every
// edge case, the model layers at a small batch). It is not benchmarked: one
// pass over ResNet's last, smallest activation.
#pragma once
#include <string>
#include <vector>

#include "engine/shape.h"

namespace nebula::cases {

struct GlobalAvgPoolCase {
  std::string name;                // why the case is here
  Shape x;                         // [N, C, H, W] -> [N, C]
  float low = -1.0f, high = 1.0f;  // the values' range

  int planes() const { return int(x[0] * x[1]); }
  int spatial() const { return int(x[2] * x[3]); }
  Shape y() const { return {x[0], x[1]}; }
};

inline std::string describe(const GlobalAvgPoolCase& c) {
  return "global average pool (" + c.name + ") x " + to_string(c.x) + " in [" + std::to_string(c.low) + ", " +
         std::to_string(c.high) + "]";
}

// One pixel, planes of one pixel, odd planes, planes larger than a block,
// positive values only (no cancellation) and large ones.
inline std::vector<GlobalAvgPoolCase> global_avg_pool_edge_cases() {
  return {
      {"one value", {1, 1, 1, 1}},
      {"one pixel a plane", {3, 5, 1, 1}},
      {"one pixel a plane, 4 planes", {4, 1, 1, 1}},
      {"odd planes", {2, 3, 5, 7}},
      {"7x7, positive", {2, 3, 7, 7}, 0.0f, 1.0f},
      {"ResNet-18 at 224: 7x7", {8, 512, 7, 7}, 0.0f, 1.0f},
      {"planes over many threads, positive", {2, 4, 100, 100}, 0.0f, 1.0f},
      {"planes over many threads", {2, 4, 100, 100}},
      {"large values", {1, 3, 13, 11}, -1e4f, 1e4f},
  };
}

// ResNet's last stage at 70x70 input, at batch n: ReLU outputs, so positive.
inline std::vector<GlobalAvgPoolCase> global_avg_pool_model_cases(int n) {
  return {
      {"rn18_avgpool", {n, 512, 3, 3}, 0.0f, 1.0f},
      {"rn50_avgpool", {n, 2048, 3, 3}, 0.0f, 1.0f},
  };
}

}  // namespace nebula::cases
