// BatchNorm2d's shapes and parameters, written once. They drive the
// double-precision gradient checks (tests/kernels/batchnorm2d_test.cpp: the
// edge cases small enough for finite differences, in train and eval mode, on
// values of their own, since a finite difference on 1e4-scale or
// zero-variance data measures the step, not the gradient), the CPU-vs-GPU
// parity tests on both GPU backends (tests/cuda/batchnorm2d_parity_test.cpp:
// every edge case with its values, the model layers at a small batch, random
// draws) and the kernel benchmark (benchmarks/bench_kernels.cpp: the model
// layers at batch 100).
#pragma once
#include <string>
#include <vector>

#include "engine/shape.h"
#include "kernels/batchnorm2d.h"

namespace nebula::cases {

struct BatchNorm2dCase {
  std::string name;                  // why the case is here
  Shape x;                           // [N, C, H, W]
  float mean = 0.0f, stddev = 1.0f;  // x ~ mean + stddev N(0, 1) in the parity tests
  float eps = 1e-5f, momentum = 0.1f;

  BatchNormParams params() const {
    BatchNormParams p;
    p.batch = int(x[0]);
    p.channels = int(x[1]);
    p.spatial = int(x[2] * x[3]);
    p.eps = eps;
    p.momentum = momentum;
    return p;
  }
  Shape channel_shape() const { return {x[1]}; }
  int64_t count() const { return numel(x); }
};

inline std::string describe(const BatchNorm2dCase& c) {
  return "batchnorm2d (" + c.name + ") x " + to_string(c.x) + " ~ " + std::to_string(c.mean) + " + " +
         std::to_string(c.stddev) + " N(0, 1), eps " + std::to_string(c.eps) + ", momentum " +
         std::to_string(c.momentum);
}

// Two values a channel (the fewest with a variance), one sample, spatial 1,
// odd sizes, channels of many values (reductions over many blocks), a large
// mean relative to the spread (where E[x^2] - E[x]^2 in fp32 would lose every
// digit of the variance; kept at 100 times the spread, since the CPU's own y =
// x scale + shift in fp32 rounds off about |mean| / std * 6e-8 of y), values of
// 1e4 and of 1e-3 (near eps), constant channels, other eps and momentum.
inline std::vector<BatchNorm2dCase> batchnorm2d_edge_cases() {
  return {
      {"small", {2, 3, 5, 5}},
      {"two values a channel", {2, 1, 1, 1}},
      {"two values a channel, one sample", {1, 3, 1, 2}},
      {"odd spatial size", {1, 4, 3, 5}},
      {"odd sizes", {3, 2, 1, 5}},
      {"one sample, 7 values a channel", {1, 3, 1, 7}},
      {"spatial 1, four samples", {4, 3, 1, 1}},
      {"odd, 3x3", {2, 3, 3, 3}},
      {"spatial 1", {16, 512, 1, 1}},
      {"many values a channel", {8, 32, 50, 50}},
      {"large mean: 100 + N(0, 1)", {8, 16, 20, 20}, 100.0f, 1.0f},
      {"large mean, many values", {8, 8, 56, 56}, 100.0f, 1.0f},
      {"large values: 1e4 N(0, 1)", {4, 8, 13, 11}, 0.0f, 1e4f},
      {"small values: 1e-3 N(0, 1) near eps", {4, 8, 7, 7}, 0.0f, 1e-3f},
      // Zero variance, so invstd = 1/sqrt(eps) ~ 316. The channels hold 0: for a
      // constant v the CPU's own y = v scale + shift would err by ~1e-7 v scale.
      {"constant channels", {2, 3, 4, 4}, 0.0f, 0.0f},
      {"PyTorch defaults aside: eps 1e-3, momentum 0.01", {3, 5, 6, 6}, 1.0f, 2.0f, 1e-3f, 0.01f},
  };
}

// The batch norms of ResNet-18 at 70x70 (after the stem, which ResNet-50
// shares, and in each stage), ResNet-50's widest ones, and a ResNet layer at
// 56x56 / 4, at batch n.
inline std::vector<BatchNorm2dCase> batchnorm2d_model_cases(int n) {
  return {
      {"rn50_bn1", {n, 64, 35, 35}},    {"rn18_layer1", {n, 64, 18, 18}},  {"rn18_layer2", {n, 128, 9, 9}},
      {"rn18_layer3", {n, 256, 5, 5}},  {"rn18_layer4", {n, 512, 3, 3}},   {"rn50_layer1", {n, 256, 18, 18}},
      {"rn50_layer4", {n, 2048, 3, 3}}, {"resnet_14x14", {n, 64, 14, 14}},
  };
}

}  // namespace nebula::cases
