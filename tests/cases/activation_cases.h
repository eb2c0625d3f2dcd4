// ReLU's and sigmoid's shapes, written once. They drive the double-precision
// gradient checks (tests/kernels/activation_test.cpp: the edge cases small
// enough for finite differences), the CPU-vs-GPU parity tests on both GPU
// backends (tests/cuda/activation_parity_test.cpp: every edge case, the model
// layers at a small batch) and the kernel benchmark (benchmarks/bench_kernels.cpp:
// the model layers at batch 100).
#pragma once
#include <string>
#include <vector>

#include "engine/shape.h"

namespace nebula::cases {

struct ActivationCase {
  std::string name;  // why the case is here
  Shape x;

  int64_t count() const { return numel(x); }
};

inline std::string describe(const std::string& op, const ActivationCase& c) {
  return op + " (" + c.name + ") x " + to_string(c.x) + ", " + std::to_string(c.count()) + " values";
}

// One element, less than a vector, around one block of 256 threads, odd sizes
// over many blocks; the kernels see a flat array, so a shape of size-1 dims
// only checks that the dispatch flattens it.
inline std::vector<ActivationCase> activation_edge_cases() {
  return {
      {"one value", {1}},
      {"less than a vector", {7}},
      {"one block less one", {255}},
      {"one block and one", {257}},
      {"size-1 dims", {1, 1, 1, 5}},
      {"odd, several blocks", {4099}},
      {"odd, many blocks", {1000003}},
  };
}

// Where the built-in models apply a ReLU (after each convolution, the first
// dense layer, each batch norm and each residual sum), at batch n: cnn1 at
// 100x100, cnn2 at 70x70, ResNet-18 at 70x70, and ResNet-50's widest stage.
inline std::vector<ActivationCase> relu_model_cases(int n) {
  return {
      {"cnn1_conv1", {n, 32, 98, 98}},  // the largest activation of cnn1
      {"cnn1_conv4", {n, 128, 8, 8}},    {"cnn1_fc1", {n, 512}},          {"cnn2_conv1", {n, 32, 68, 68}},
      {"cnn2_conv4", {n, 128, 5, 5}},    {"rn18_bn1", {n, 64, 35, 35}},   {"rn18_layer1", {n, 64, 18, 18}},
      {"rn18_layer2", {n, 128, 9, 9}},   {"rn18_layer3", {n, 256, 5, 5}}, {"rn18_layer4", {n, 512, 3, 3}},
      {"rn50_layer1", {n, 256, 18, 18}},
  };
}

// Where the models apply a sigmoid: their 37 outputs. cnn1_conv1 is not a
// sigmoid of any model: its size shows the kernels' bandwidth.
inline std::vector<ActivationCase> sigmoid_model_cases(int n) {
  return {
      {"cnn1_head", {n, 37}},
      {"cnn1_conv1", {n, 32, 98, 98}},
  };
}

}  // namespace nebula::cases
