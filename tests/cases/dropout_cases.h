// Dropout's shapes and parameters, written once. They drive the double-precision
// gradient check (tests/kernels/dropout_test.cpp: the edge cases small enough
// for finite differences, at every rate), the CPU-vs-GPU parity tests on both
// GPU backends (tests/cuda/dropout_parity_test.cpp: every edge case at every
// rate, seed and offset; the model layers at a small batch) and the kernel
// benchmark (benchmarks/bench_kernels.cpp: the model layers at batch 100).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/shape.h"

namespace nebula::cases {

struct DropoutCase {
  std::string name;  // why the case is here
  Shape x;
  float rate = 0.5f;  // the model cases' rate; the edge cases run at every one of dropout_rates()

  int64_t count() const { return numel(x); }
};

inline std::string describe(const DropoutCase& c, float rate, uint64_t seed, uint64_t offset) {
  return "dropout (" + c.name + ") x " + to_string(c.x) + ", rate " + std::to_string(rate) + " seed " +
         std::to_string(seed) + " offset " + std::to_string(offset);
}

// One element, fewer than the 4 values one Philox draw gives, odd sizes
// around one and over many blocks of 256 threads.
inline std::vector<DropoutCase> dropout_edge_cases() {
  return {
      {"one value", {1}},
      {"less than one Philox draw", {3}},
      {"odd", {5}},
      {"one block and one", {257}},
      {"several draws a thread", {300}},
      {"size-1 dims", {1, 1, 6, 1}},
      {"odd, many blocks", {100003}},
  };
}

// No dropout, light, the models' 0.5, heavy.
inline std::vector<float> dropout_rates() { return {0.0f, 0.1f, 0.4f, 0.5f, 0.9f}; }

// A small seed and one past 32 bits (the Philox key's two words).
inline std::vector<uint64_t> dropout_seeds() { return {1, (uint64_t(1) << 40) + 3}; }

// Offsets not a multiple of 4 and across 2^32 check the counter arithmetic.
inline std::vector<uint64_t> dropout_offsets() { return {0, 1, 3, (uint64_t(1) << 32) - 2, (uint64_t(1) << 33) + 5}; }

// Where the built-in models drop, at batch n: cnn1's and cnn2's flattened
// features, before the first dense layer, and ResNet-18's head. cnn1_conv1 is
// no model's dropout: its size shows the kernel's bandwidth.
inline std::vector<DropoutCase> dropout_model_cases(int n) {
  return {
      {"cnn1_flatten", {n, 2048}},
      {"cnn2_flatten", {n, 512}},
      {"rn18_head", {n, 512}},
      {"cnn1_conv1", {n, 32, 98, 98}},
  };
}

}  // namespace nebula::cases
