// The fused optimizer update's parameter lists, written once: one launch
// updates every tensor of a list. They drive the CPU-vs-GPU parity test of
// every optimizer on both GPU backends (tests/cuda/optimizer_parity_test.cpp,
// ManyParameters: every case) and the kernel benchmark
// (benchmarks/bench_kernels.cpp: the model cases). The update has no gradient
// to check; tests/kernels/optimizer_update_test.cpp checks its rules by hand.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nebula::cases {

struct OptimizerUpdateCase {
  std::string name;            // why the case is here
  std::vector<int64_t> sizes;  // each parameter tensor's element count, in model order
};

inline std::string describe(const OptimizerUpdateCase& c) {
  int64_t total = 0;
  for (int64_t n : c.sizes) total += n;
  return "optimizer update (" + c.name + ") over " + std::to_string(c.sizes.size()) + " tensors, " +
         std::to_string(total) + " values";
}

// One value; an empty tensor between others; 300 tensors (the list split
// several times), most smaller than a block's share, some spread over several
// blocks, one empty: each must get its own update.
inline std::vector<OptimizerUpdateCase> optimizer_update_edge_cases() {
  OptimizerUpdateCase many{"300 tensors, one empty", {}};
  for (int i = 0; i < 300; ++i) many.sizes.push_back(i == 5 ? 0 : i % 10 == 0 ? 10007 + i : 1 + (i * 37) % 1000);
  return {
      {"one value", {1}},
      {"an empty tensor between two", {3, 0, 5}},
      many,
  };
}

// cnn1's and cnn2's parameter tensors in model order (weight, bias per layer,
// 37 outputs); they differ in the first dense layer (2048 or 512 inputs).
inline std::vector<OptimizerUpdateCase> optimizer_update_model_cases() {
  auto cnn = [](int64_t flattened) {
    return std::vector<int64_t>{32 * 3 * 9,    32,  64 * 32 * 9,     64,  128 * 64 * 9, 128,
                                128 * 128 * 9, 128, 512 * flattened, 512, 37 * 512,     37};
  };
  return {{"cnn1", cnn(2048)}, {"cnn2", cnn(512)}};
}

}  // namespace nebula::cases
