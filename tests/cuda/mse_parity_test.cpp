// The loss on the GPU against the CPU: the MSE and its gradient, with the loss
// and its upstream gradient as 1-value tensors on the device, and the per-column
// squared errors the RMSE meter sums, on every case of the op's table
// (tests/cases/mse_cases.h), the model outputs at batch 8 and 100, and shapes
// drawn from the seeds.
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "tests/cases/mse_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::TensorList;
using test::uniform_tensor;
using test::written;

using LossCase = cases::MseCase;

std::vector<LossCase> all_cases() {
  std::vector<LossCase> all = cases::mse_edge_cases();
  for (int batch : {8, 100})
    for (const LossCase& c : cases::mse_model_cases(batch)) all.push_back(c);
  for (uint64_t seed : test::test_seeds()) {
    Generator g(seed);
    all.push_back({"seed " + std::to_string(seed), {test::pick(g, 1, 500), test::pick(g, 1, 64)}});
  }
  return all;
}

using MseParity = test::CudaTest;

TEST_F(MseParity, MseForward) {
  uint64_t seed = 1;
  for (const LossCase& c : all_cases()) {
    expect_parity(cases::describe(c) + ", forward",
                  {uniform_tensor(c.x, 10 * seed, -c.scale, c.scale), uniform_tensor(c.x, 10 * seed + 1, 0, c.scale)},
                  {written("loss", {1})},
                  [](TensorList& in, TensorList& out) { dispatch::mse_forward(in[0], in[1], out[0]); });
    ++seed;
  }
}

TEST_F(MseParity, MseBackward) {
  uint64_t seed = 1;
  for (const LossCase& c : all_cases()) {
    for (float dloss : {1.0f, 0.37f, -2.5f}) {
      expect_parity(cases::describe(c) + ", backward, dloss " + std::to_string(dloss),
                    {uniform_tensor(c.x, 10 * seed, -c.scale, c.scale), uniform_tensor(c.x, 10 * seed + 1, 0, c.scale),
                     Tensor::full({1}, dloss)},
                    {written("dp", c.x)},
                    [](TensorList& in, TensorList& out) { dispatch::mse_backward(in[0], in[1], in[2], out[0]); });
    }
    ++seed;
  }
}

// The loss stays on the device: forward then backward without the host in
// between, as a training step (or a captured graph) runs them.
TEST_F(MseParity, MseForwardThenBackward) {
  const LossCase c = cases::mse_model_cases(100).front();
  const Shape shape = c.x;
  expect_parity(cases::describe(c) + ", the loss then its gradient",
                {uniform_tensor(shape, 1), uniform_tensor(shape, 2, 0, 1), Tensor::full({1}, 1.0f)},
                {written("loss", {1}), written("dp", shape)}, [](TensorList& in, TensorList& out) {
                  dispatch::mse_forward(in[0], in[1], out[0]);
                  dispatch::mse_backward(in[0], in[1], in[2], out[1]);
                });
}

TEST_F(MseParity, ColumnSquaredError) {
  uint64_t seed = 1;
  for (const LossCase& c : all_cases()) {
    const Tensor p = uniform_tensor(c.x, 10 * seed, -c.scale, c.scale),
                 t = uniform_tensor(c.x, 10 * seed + 1, 0, c.scale);
    ++seed;
    const int64_t rows = c.x[0], columns = c.x[1];
    // The CPU path itself against a plain double sum, so the reference is known good.
    Tensor cpu_sums({columns});
    dispatch::column_squared_error(p, t, cpu_sums);
    const std::vector<float> pv = p.to_vector(), tv = t.to_vector();
    std::vector<float> expected(columns);
    for (int64_t col = 0; col < columns; ++col) {
      double sum = 0.0;
      for (int64_t r = 0; r < rows; ++r) {
        const double d = double(pv[r * columns + col]) - tv[r * columns + col];
        sum += d * d;
      }
      expected[col] = static_cast<float>(sum);
    }
    EXPECT_TRUE(test::compare(expected, cpu_sums.to_vector(), {columns}, {}))
        << "CPU column sums over " << cases::describe(c);
    expect_parity("column squared error over " + cases::describe(c), {p, t}, {written("sums", {columns})},
                  [](TensorList& in, TensorList& out) { dispatch::column_squared_error(in[0], in[1], out[0]); });
  }
}

}  // namespace
}  // namespace nebula
