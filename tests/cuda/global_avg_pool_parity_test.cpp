// Global average pooling on the GPU against the CPU, forward and backward, on
// every case of the op's table (tests/cases/global_avg_pool_cases.h) and the
// model layers at batch 4. y[n, c] = mean over the plane; dx = dy / (H W).
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "tests/cases/global_avg_pool_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using cases::GlobalAvgPoolCase;
using test::expect_parity;
using test::TensorList;
using test::written;

std::vector<GlobalAvgPoolCase> all_cases() {
  std::vector<GlobalAvgPoolCase> all = cases::global_avg_pool_edge_cases();
  for (const GlobalAvgPoolCase& c : cases::global_avg_pool_model_cases(4)) all.push_back(c);
  return all;
}

using GlobalAvgPoolParity = test::CudaTest;

TEST_F(GlobalAvgPoolParity, ForwardAndBackward) {
  uint64_t seed = 1;
  for (const GlobalAvgPoolCase& c : all_cases()) {
    expect_parity(cases::describe(c) + ", forward", {test::uniform_tensor(c.x, 70 * seed, c.low, c.high)},
                  {written("y", c.y())},
                  [](TensorList& in, TensorList& out) { dispatch::global_avg_pool_forward(in[0], out[0]); });
    expect_parity(cases::describe(c) + ", backward", {test::uniform_tensor(c.y(), 70 * seed + 1, c.low, c.high)},
                  {written("dx", c.x)},
                  [](TensorList& in, TensorList& out) { dispatch::global_avg_pool_backward(in[0], out[0]); });
    ++seed;
  }
}

}  // namespace
}  // namespace nebula
