// Conv2d's shapes, written once. They drive the double-precision gradient
// check (tests/kernels/conv2d_test.cpp: the small edge cases), the CPU-vs-GPU
// parity tests on both GPU backends (tests/cuda/conv2d_parity_test.cpp: every
// edge case, the model layers at a small batch, random draws) and the kernel
// benchmark (benchmarks/bench_kernels.cpp: the model layers at batch 100).
#pragma once
#include <string>
#include <vector>

#include "kernels/conv2d.h"

namespace nebula::cases {

struct Conv2dCase {
  std::string name;  // why the case is here
  Conv2dParams p;
  bool bias = true;  // the layer has one (ResNet's convolutions do not)
};

inline std::string describe(const Conv2dCase& c) {
  const Conv2dParams& p = c.p;
  return "conv2d (" + c.name + ") x [" + std::to_string(p.batch) + ", " + std::to_string(p.in_channels) + ", " +
         std::to_string(p.in_h) + ", " + std::to_string(p.in_w) + "] -> " + std::to_string(p.out_channels) +
         " filters " + std::to_string(p.kernel_h) + "x" + std::to_string(p.kernel_w) + " stride " +
         std::to_string(p.stride) + " (pad top " + std::to_string(p.pad_top) + ", left " + std::to_string(p.pad_left) +
         "; out " + std::to_string(p.out_h) + "x" + std::to_string(p.out_w) + ")";
}

// Every padding rule (Keras 'same' with an odd total puts the extra pixel at
// the bottom and right, which cuDNN's symmetric padding cannot express
// directly), kernels larger than the input, channel counts off every tile size.
inline std::vector<Conv2dCase> conv2d_edge_cases() {
  const Padding same = Padding::Same, valid = Padding::Valid;
  return {
      {"1x1 everything", conv2d_params(1, 1, 1, 1, 1, 1, 1, valid)},
      {"3x3 valid stride 1", conv2d_params(2, 3, 6, 5, 4, 3, 1, valid)},
      {"3x3 valid stride 2", conv2d_params(2, 2, 7, 8, 3, 3, 2, valid)},
      {"3x3 same stride 1", conv2d_params(2, 3, 5, 6, 2, 3, 1, same)},
      {"3x3/2 same on an odd input", conv2d_params(2, 2, 7, 5, 3, 3, 2, same)},
      {"3x3/2 same, asymmetric padding", conv2d_params(1, 2, 7, 6, 3, 3, 2, same)},
      {"even kernel 4 same: 1 before, 2 after", conv2d_params(1, 2, 5, 5, 2, 4, 1, same)},
      {"3x3 pad 1", conv2d_params_padded(2, 2, 5, 4, 3, 3, 1, 1)},
      {"5x5/2 pad 2", conv2d_params_padded(1, 2, 7, 6, 2, 5, 2, 2)},
      {"pointwise", conv2d_params(2, 3, 3, 4, 2, 1, 1, valid)},
      {"3x3 valid without bias", conv2d_params(2, 2, 5, 5, 3, 3, 1, valid), false},
      {"C=3 K=5, 7x7/2 same, odd padding at the bottom", conv2d_params(2, 3, 18, 13, 5, 7, 2, same)},
      {"3x3/2 same, one pixel of padding at the bottom and right", conv2d_params(3, 3, 16, 16, 5, 3, 2, same)},
      {"3x3/2 same, odd padding in H only", conv2d_params(2, 3, 16, 15, 5, 3, 2, same)},
      {"even kernel 4 same, rectangular", conv2d_params(2, 3, 9, 10, 5, 4, 1, same)},
      {"5x5 valid, odd sizes", conv2d_params(2, 3, 11, 9, 5, 5, 1, valid)},
      {"7x7/2 valid", conv2d_params(2, 3, 19, 20, 5, 7, 2, valid)},
      {"1x1/2 same", conv2d_params(2, 5, 13, 13, 7, 1, 2, same)},
      {"1x1/2 projection shortcut", conv2d_params_padded(2, 3, 14, 14, 5, 1, 2, 0), false},
      {"3x3 pad 1, 6 channels", conv2d_params_padded(2, 6, 9, 9, 5, 3, 1, 1)},
      {"3x3/2 pad 1 on 3x3", conv2d_params_padded(1, 2, 3, 3, 4, 3, 2, 1)},
      {"kernel larger than the input, same", conv2d_params(1, 3, 2, 2, 5, 5, 1, same)},
      {"channels off every tile size", conv2d_params(3, 33, 7, 9, 17, 3, 1, same)},
  };
}

// The layers of the study's cnn1 (3x100x100 input) and of ResNet-50 at 70x70.
inline std::vector<Conv2dCase> conv2d_model_cases(int n) {
  const Padding valid = Padding::Valid;
  return {
      {"cnn1_conv1", conv2d_params(n, 3, 100, 100, 32, 3, 1, valid)},
      {"cnn1_conv2", conv2d_params(n, 32, 49, 49, 64, 3, 1, valid)},
      {"cnn1_conv3", conv2d_params(n, 64, 23, 23, 128, 3, 1, valid)},
      {"cnn1_conv4", conv2d_params(n, 128, 10, 10, 128, 3, 1, valid)},
      {"rn50_conv1", conv2d_params_padded(n, 3, 70, 70, 64, 7, 2, 3), false},            // 70 -> 35
      {"rn50_layer1_1x1a", conv2d_params_padded(n, 64, 18, 18, 64, 1, 1, 0), false},     // layer1.0.conv1
      {"rn50_layer1_3x3", conv2d_params_padded(n, 64, 18, 18, 64, 3, 1, 1), false},      // layer1.*.conv2
      {"rn50_layer1_1x1b", conv2d_params_padded(n, 64, 18, 18, 256, 1, 1, 0), false},    // layer1.*.conv3
      {"rn50_layer2_3x3s2", conv2d_params_padded(n, 128, 18, 18, 128, 3, 2, 1), false},  // layer2.0.conv2: 18 -> 9
      {"rn50_layer2_down", conv2d_params_padded(n, 256, 18, 18, 512, 1, 2, 0), false},   // layer2.0.downsample.0
      {"rn50_layer3_3x3", conv2d_params_padded(n, 256, 5, 5, 256, 3, 1, 1), false},      // layer3.1-5.conv2
      {"rn50_layer4_3x3", conv2d_params_padded(n, 512, 3, 3, 512, 3, 1, 1), false},      // layer4.1-2.conv2
      {"rn50_layer4_1x1b", conv2d_params_padded(n, 512, 3, 3, 2048, 1, 1, 0), false},    // layer4.*.conv3
  };
}

// Multiply-adds of one forward pass: what a finite-difference check costs per input.
inline double conv2d_macs(const Conv2dParams& p) {
  return double(p.batch) * p.out_channels * p.out_h * p.out_w * p.in_channels * p.kernel_h * p.kernel_w;
}

}  // namespace nebula::cases
