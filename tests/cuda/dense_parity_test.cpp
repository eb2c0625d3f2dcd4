// Dense on the GPU against the CPU: forward with and without bias, backward
// data, backward weight with and without the bias gradient, on shapes off
// every tile size, the study's layers, an input still shaped [N, C, H, W], and
// random shapes drawn from the fixed seeds.
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "tests/cases/dense_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::Output;
using test::TensorList;
using test::uniform_tensor;
using test::written;

using cases::DenseCase;

std::vector<DenseCase> all_cases() {
  std::vector<DenseCase> cases = cases::dense_edge_cases();
  for (const DenseCase& c : cases::dense_model_cases(8)) cases.push_back(c);
  cases.push_back({"cnn1_fc2 at batch 100", {100, 512}, 37});
  for (uint64_t seed : test::test_seeds()) {
    Generator g(seed);
    cases.push_back(
        {"seed " + std::to_string(seed), {test::pick(g, 1, 70), test::pick(g, 1, 300)}, test::pick(g, 1, 130)});
  }
  return cases;
}

Shape w_shape(const DenseCase& c) { return {c.out, c.in()}; }
Shape y_shape(const DenseCase& c) { return {c.batch(), c.out}; }

void check_forward(const DenseCase& c, uint64_t seed, bool bias, float scale = 1.0f) {
  TensorList in = {uniform_tensor(c.x, seed, -scale, scale), uniform_tensor(w_shape(c), seed + 1)};
  if (bias) in.push_back(uniform_tensor({c.out}, seed + 2));
  expect_parity(cases::describe(c) + (bias ? ", forward" : ", forward without bias"), in, {written("y", y_shape(c))},
                [bias](TensorList& in, TensorList& out) {
                  dispatch::dense_forward(in[0], in[1], bias ? &in[2] : nullptr, out[0]);
                });
}

void check_backward_data(const DenseCase& c, uint64_t seed, float scale = 1.0f) {
  expect_parity(cases::describe(c) + ", backward data",
                {uniform_tensor(y_shape(c), seed + 3, -scale, scale), uniform_tensor(w_shape(c), seed + 1)},
                {written("dx", c.x)},
                [](TensorList& in, TensorList& out) { dispatch::dense_backward_data(in[0], in[1], out[0]); });
}

void check_backward_weight(const DenseCase& c, uint64_t seed, bool bias, float scale = 1.0f) {
  std::vector<Output> outputs = {written("dw", w_shape(c))};
  if (bias) outputs.push_back(written("dbias", {c.out}));
  expect_parity(cases::describe(c) + (bias ? ", backward weight" : ", backward weight without bias gradient"),
                {uniform_tensor(c.x, seed, -scale, scale), uniform_tensor(y_shape(c), seed + 3, -scale, scale)},
                outputs, [bias](TensorList& in, TensorList& out) {
                  dispatch::dense_backward_weight(in[0], in[1], out[0], bias ? &out[1] : nullptr);
                });
}

using DenseParity = test::CudaTest;

TEST_F(DenseParity, ForwardWithBias) {
  uint64_t seed = 1;
  for (const DenseCase& c : all_cases()) check_forward(c, 100 * seed++, true);
}

TEST_F(DenseParity, ForwardWithoutBias) {
  uint64_t seed = 1;
  for (const DenseCase& c : all_cases()) check_forward(c, 100 * seed++, false);
}

TEST_F(DenseParity, BackwardData) {
  uint64_t seed = 1;
  for (const DenseCase& c : all_cases()) check_backward_data(c, 100 * seed++);
}

TEST_F(DenseParity, BackwardWeightWithBiasGradient) {
  uint64_t seed = 1;
  for (const DenseCase& c : all_cases()) check_backward_weight(c, 100 * seed++, true);
}

TEST_F(DenseParity, BackwardWeightWithoutBiasGradient) {
  uint64_t seed = 1;
  for (const DenseCase& c : all_cases()) check_backward_weight(c, 100 * seed++, false);
}

// Values of order 1e4: catches reduced-precision GEMMs (TF32) and overflow,
// since the tolerance scales with the tensor.
TEST_F(DenseParity, LargeMagnitudes) {
  for (const DenseCase& c : {DenseCase{"large values", {8, 2048}, 512}, DenseCase{"large values", {13, 77}, 37}}) {
    check_forward(c, 5, true, 1e4f);
    check_backward_data(c, 5, 1e4f);
    check_backward_weight(c, 5, true, 1e4f);
  }
}

}  // namespace
}  // namespace nebula
