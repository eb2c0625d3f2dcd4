// MaxPool2d's shapes, written once. They drive the CPU reference's tests
// (tests/kernels/maxpool2d_test.cpp: gradient checks and the brute-force tie
// test on the small cases), the CPU-vs-GPU parity tests on both GPU backends
// (tests/cuda/maxpool2d_parity_test.cpp: every case, the model layers at a small
// batch) and the kernel benchmark (benchmarks/bench_kernels.cpp: the model
// layers at batch 100).
#pragma once
#include <string>
#include <vector>

#include "kernels/maxpool2d.h"

namespace nebula::cases {

struct MaxPool2dCase {
  std::string name;  // why the case is here
  Pool2dParams p;
};

inline std::string describe(const MaxPool2dCase& c) {
  const Pool2dParams& p = c.p;
  return "maxpool2d (" + c.name + ") x [" + std::to_string(p.batch) + ", " + std::to_string(p.channels) + ", " +
         std::to_string(p.in_h) + ", " + std::to_string(p.in_w) + "], " + std::to_string(p.kernel) + "x" +
         std::to_string(p.kernel) + " stride " + std::to_string(p.stride) + " pad " + std::to_string(p.pad) + " (out " +
         std::to_string(p.out_h) + "x" + std::to_string(p.out_w) + ")";
}

// 2x2/2 as in the study (odd sizes drop the last row and column), 3x3/2 pad 1
// as in ResNet, overlapping and padded windows, one window over everything.
inline std::vector<MaxPool2dCase> maxpool2d_edge_cases() {
  return {
      {"2x2/2", pool2d_params(2, 3, 8, 8, 2, 2, 0)},
      {"2x2/2 on odd sizes: the last row and column dropped", pool2d_params(2, 5, 9, 7, 2, 2, 0)},
      {"ResNet 3x3/2 pad 1, odd sizes", pool2d_params(2, 4, 17, 15, 3, 2, 1)},
      {"ResNet 3x3/2 pad 1, even sizes", pool2d_params(2, 4, 16, 16, 3, 2, 1)},
      {"3x3/1 pad 1, overlapping", pool2d_params(1, 2, 5, 6, 3, 1, 1)},
      {"3x3/2 no pad, overlapping", pool2d_params(2, 3, 11, 10, 3, 2, 0)},
      {"one window over the whole image", pool2d_params(2, 3, 4, 4, 4, 4, 0)},
      {"1x1", pool2d_params(1, 3, 1, 1, 1, 1, 0)},
      {"2x2/1", pool2d_params(2, 1, 4, 5, 2, 1, 0)},
      {"3x3/2 on 7x7", pool2d_params(2, 2, 7, 7, 3, 2, 0)},
      {"4x4/3 pad 2", pool2d_params(1, 2, 8, 7, 4, 3, 2)},
      {"2x2/2 on 6x5", pool2d_params(2, 3, 6, 5, 2, 2, 0)},
  };
}

// The pooling layers of the study's cnn1 (3x100x100 input) and of ResNet-50 at 70x70.
inline std::vector<MaxPool2dCase> maxpool2d_model_cases(int n) {
  return {
      {"cnn1_pool1", pool2d_params(n, 32, 98, 98, 2, 2, 0)},   {"cnn1_pool2", pool2d_params(n, 64, 47, 47, 2, 2, 0)},
      {"cnn1_pool3", pool2d_params(n, 128, 21, 21, 2, 2, 0)},  {"cnn1_pool4", pool2d_params(n, 128, 8, 8, 2, 2, 0)},
      {"rn50_maxpool", pool2d_params(n, 64, 35, 35, 3, 2, 1)},  // 35 -> 18
  };
}

}  // namespace nebula::cases
