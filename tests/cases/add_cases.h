// Add's (and accumulate's) shapes, written once: the residual sum of a ResNet
// block, and autograd's sum of gradients. They drive the double-precision
// gradient check (tests/kernels/add_test.cpp: the edge cases small enough for
// finite differences) and the CPU-vs-GPU parity tests on both GPU backends
// (tests/cuda/add_parity_test.cpp: every edge case, the model layers at a small
// batch). Add is not benchmarked: it is one pass over memory, as ReLU is.
#pragma once
#include <string>
#include <vector>

#include "engine/shape.h"

namespace nebula::cases {

struct AddCase {
  std::string name;  // why the case is here
  Shape x;           // both operands and the sum

  int64_t count() const { return numel(x); }
};

inline std::string describe(const std::string& op, const AddCase& c) {
  return op + " (" + c.name + ") x " + to_string(c.x) + ", " + std::to_string(c.count()) + " values";
}

// One element, less than a vector, odd sizes around one and over many blocks
// of 256 threads, an image shape off every tile size.
inline std::vector<AddCase> add_edge_cases() {
  return {
      {"one value", {1}},
      {"less than a vector", {7}},
      {"odd", {41}},
      {"one block and one", {257}},
      {"size-1 dims", {1, 3, 1, 1}},
      {"odd, several blocks", {4099}},
      {"odd, many blocks", {1000003}},
      {"image-shaped, odd", {2, 64, 14, 13}},
  };
}

// The residual sums of ResNet-18 at 70x70 (each stage's output), and of
// ResNet-50's first and last stages, at batch n.
inline std::vector<AddCase> add_model_cases(int n) {
  return {
      {"rn18_layer1", {n, 64, 18, 18}}, {"rn18_layer2", {n, 128, 9, 9}},   {"rn18_layer3", {n, 256, 5, 5}},
      {"rn18_layer4", {n, 512, 3, 3}},  {"rn50_layer1", {n, 256, 18, 18}}, {"rn50_layer4", {n, 2048, 3, 3}},
  };
}

}  // namespace nebula::cases
