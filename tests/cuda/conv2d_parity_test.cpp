// Conv2d on the GPU against the CPU: forward with and without bias, backward
// data, backward filter with and without the bias gradient, and the fused
// bias + ReLU epilogue. Fixed shapes cover each padding rule (Keras 'same'
// with an odd total padding puts the extra pixel at the bottom and right,
// which cuDNN's symmetric padding cannot express directly), the study's and
// ResNet's layers, all from the op's table (tests/cases/conv2d_cases.h);
// random shapes are drawn from the fixed seeds.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "engine/dispatch.h"
#include "kernels/conv2d.h"
#include "tests/cases/conv2d_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::Output;
using test::TensorList;
using test::uniform_tensor;
using test::written;

using cases::Conv2dCase;

Shape x_shape(const Conv2dParams& p) { return {p.batch, p.in_channels, p.in_h, p.in_w}; }
Shape w_shape(const Conv2dParams& p) { return {p.out_channels, p.in_channels, p.kernel_h, p.kernel_w}; }
Shape y_shape(const Conv2dParams& p) { return {p.batch, p.out_channels, p.out_h, p.out_w}; }

// A shape drawn from the seed: any kernel, stride, padding rule and size.
Conv2dCase random_case(uint64_t seed) {
  Generator g(seed);
  const int kernels[] = {1, 3, 5, 7}, channels[] = {1, 2, 3, 4, 7, 16, 33}, filters[] = {1, 3, 5, 8, 17, 32, 64};
  const int kernel = kernels[test::pick(g, 0, 3)];
  const int stride = test::pick(g, 1, 2);
  const int batch = test::pick(g, 1, 3);
  const int in = channels[test::pick(g, 0, 6)];
  const int out = filters[test::pick(g, 0, 6)];
  const int rule = test::pick(g, 0, 2);  // valid, same, explicit
  const int pad = test::pick(g, 0, kernel / 2);
  const int smallest = rule == 0 ? kernel : rule == 2 ? std::max(1, kernel - 2 * pad) : 1;
  const int height = test::pick(g, smallest, 24);
  const int width = test::pick(g, smallest, 24);
  const std::string name = "seed " + std::to_string(seed);
  if (rule == 2) return {name, conv2d_params_padded(batch, in, height, width, out, kernel, stride, pad)};
  return {name,
          conv2d_params(batch, in, height, width, out, kernel, stride, rule == 1 ? Padding::Same : Padding::Valid)};
}

// Every case of the op's table (the model layers at batch 2) and the random
// draws, each with the seed its values are drawn from.
std::vector<std::pair<Conv2dCase, uint64_t>> all_cases() {
  std::vector<std::pair<Conv2dCase, uint64_t>> all;
  uint64_t seed = 1;
  for (const Conv2dCase& c : cases::conv2d_edge_cases()) all.push_back({c, 1000 * seed++});
  for (const Conv2dCase& c : cases::conv2d_model_cases(2)) all.push_back({c, 1000 * seed++});
  for (uint64_t s : test::test_seeds()) all.push_back({random_case(s), 7919 * s});
  return all;
}

// x and dy are drawn in [-scale, scale]; w and the bias in [-1, 1].
void check_forward(const Conv2dCase& c, uint64_t seed, bool bias, float scale = 1.0f) {
  const Conv2dParams p = c.p;
  TensorList in = {uniform_tensor(x_shape(p), seed, -scale, scale), uniform_tensor(w_shape(p), seed + 1)};
  if (bias) in.push_back(uniform_tensor({p.out_channels}, seed + 2));
  expect_parity(cases::describe(c) + (bias ? ", forward" : ", forward without bias"), in, {written("y", y_shape(p))},
                [p, bias](TensorList& in, TensorList& out) {
                  dispatch::conv2d_forward(p, in[0], in[1], bias ? &in[2] : nullptr, out[0]);
                });
}

void check_backward_data(const Conv2dCase& c, uint64_t seed, float scale = 1.0f) {
  const Conv2dParams p = c.p;
  expect_parity(cases::describe(c) + ", backward data",
                {uniform_tensor(y_shape(p), seed + 3, -scale, scale), uniform_tensor(w_shape(p), seed + 1)},
                {written("dx", x_shape(p))},
                [p](TensorList& in, TensorList& out) { dispatch::conv2d_backward_data(p, in[0], in[1], out[0]); });
}

void check_backward_filter(const Conv2dCase& c, uint64_t seed, bool bias, float scale = 1.0f) {
  const Conv2dParams p = c.p;
  std::vector<Output> outputs = {written("dw", w_shape(p))};
  if (bias) outputs.push_back(written("dbias", {p.out_channels}));
  expect_parity(cases::describe(c) + (bias ? ", backward filter" : ", backward filter without bias gradient"),
                {uniform_tensor(x_shape(p), seed, -scale, scale), uniform_tensor(y_shape(p), seed + 3, -scale, scale)},
                outputs, [p, bias](TensorList& in, TensorList& out) {
                  dispatch::conv2d_backward_filter(p, in[0], in[1], out[0], bias ? &out[1] : nullptr);
                });
}

using Conv2dParity = test::CudaTest;

TEST_F(Conv2dParity, ForwardWithBias) {
  for (const auto& [c, seed] : all_cases()) check_forward(c, seed, true);
}

TEST_F(Conv2dParity, ForwardWithoutBias) {
  for (const auto& [c, seed] : all_cases()) check_forward(c, seed, false);
}

TEST_F(Conv2dParity, BackwardData) {
  for (const auto& [c, seed] : all_cases()) check_backward_data(c, seed);
}

TEST_F(Conv2dParity, BackwardFilterWithBiasGradient) {
  for (const auto& [c, seed] : all_cases()) check_backward_filter(c, seed, true);
}

TEST_F(Conv2dParity, BackwardFilterWithoutBiasGradient) {
  for (const auto& [c, seed] : all_cases()) check_backward_filter(c, seed, false);
}

// Inputs and upstream gradients of order 1e4: the tolerances are relative to
// the tensor's scale, so this catches reduced-precision paths (TF32, half
// accumulators) and overflow in intermediate sums, not rounding.
TEST_F(Conv2dParity, LargeMagnitudes) {
  const std::vector<Conv2dCase> large = {
      {"large values, 3x3 valid", conv2d_params(2, 16, 12, 11, 32, 3, 1, Padding::Valid)},
      {"large values, 7x7/2 same", conv2d_params(2, 3, 18, 13, 5, 7, 2, Padding::Same)},
      {"large values, cnn1 conv 2", cases::conv2d_model_cases(4)[1].p},
  };
  for (const Conv2dCase& c : large) {
    check_forward(c, 31, true, 1e4f);
    check_backward_data(c, 31, 1e4f);
    check_backward_filter(c, 31, true, 1e4f);
  }
}

// The fused epilogue y = max(conv(x, w) + b, 0) that layers use. The reference
// is the CPU conv followed by a separate CPU ReLU.
TEST_F(Conv2dParity, FusedBiasRelu) {
  for (const auto& [c, seed] : all_cases()) {
    const Conv2dParams p = c.p;
    const Tensor x = uniform_tensor(x_shape(p), seed), w = uniform_tensor(w_shape(p), seed + 1),
                 b = uniform_tensor({p.out_channels}, seed + 2);
    for (bool bias : {true, false}) {
      Tensor expected(y_shape(p));
      dispatch::conv2d_forward(p, x, w, bias ? &b : nullptr, expected);
      dispatch::relu_forward(expected, expected);
      const Tensor gx = x.to(Device::CUDA), gw = w.to(Device::CUDA), gb = b.to(Device::CUDA);
      for (Backend backend : test::kBackends) {
        test::BackendScope scope(backend);
        Tensor gy = test::garbage(y_shape(p)).to(Device::CUDA);
        try {
          dispatch::conv2d_forward(p, gx, gw, bias ? &gb : nullptr, gy, true);
          EXPECT_TRUE(test::compare(expected, gy, {}))
              << cases::describe(c) << ", fused " << (bias ? "bias + relu" : "relu") << " ("
              << test::describe_backend(backend) << ")";
        } catch (const std::exception& e) {
          ADD_FAILURE() << cases::describe(c) << ", fused relu (" << test::describe_backend(backend)
                        << ") threw: " << e.what();
        }
      }
    }
  }
}

}  // namespace
}  // namespace nebula
