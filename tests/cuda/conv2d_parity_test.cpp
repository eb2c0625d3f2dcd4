// Conv2d on the GPU against the CPU: forward with and without bias, backward
// data, backward filter with and without the bias gradient, and the fused
// bias + ReLU epilogue. Fixed shapes cover each padding rule (Keras 'same'
// with an odd total padding puts the extra pixel at the bottom and right,
// which cuDNN's symmetric padding cannot express directly), the study's and
// ResNet's layers; random shapes are drawn from the fixed seeds.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "engine/dispatch.h"
#include "kernels/conv2d.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::Output;
using test::TensorList;
using test::uniform_tensor;
using test::written;

enum class Pad { Valid, Same, Explicit };

struct ConvCase {
  std::string origin;  // why the case is here, or the seed that drew it
  int batch, channels, height, width, filters, kernel, stride;
  Pad pad = Pad::Valid;
  int explicit_pad = 0;

  Conv2dParams params() const {
    if (pad == Pad::Explicit)
      return conv2d_params_padded(batch, channels, height, width, filters, kernel, stride, explicit_pad);
    return conv2d_params(batch, channels, height, width, filters, kernel, stride,
                         pad == Pad::Same ? Padding::Same : Padding::Valid);
  }

  std::string describe() const {
    const Conv2dParams p = params();
    const char* rule = pad == Pad::Valid ? "valid" : pad == Pad::Same ? "same" : "explicit";
    return "conv2d (" + origin + ") x [" + std::to_string(batch) + ", " + std::to_string(channels) + ", " +
           std::to_string(height) + ", " + std::to_string(width) + "] -> " + std::to_string(filters) + " filters " +
           std::to_string(kernel) + "x" + std::to_string(kernel) + " stride " + std::to_string(stride) + " " + rule +
           " (pad top " + std::to_string(p.pad_top) + ", left " + std::to_string(p.pad_left) + "; out " +
           std::to_string(p.out_h) + "x" + std::to_string(p.out_w) + ")";
  }
};

Shape x_shape(const Conv2dParams& p) { return {p.batch, p.in_channels, p.in_h, p.in_w}; }
Shape w_shape(const Conv2dParams& p) { return {p.out_channels, p.in_channels, p.kernel_h, p.kernel_w}; }
Shape y_shape(const Conv2dParams& p) { return {p.batch, p.out_channels, p.out_h, p.out_w}; }

std::vector<ConvCase> fixed_cases() {
  return {
      {"1x1 everything", 1, 1, 1, 1, 1, 1, 1},
      {"C=3 K=5, 7x7/2 same, odd padding at the bottom", 2, 3, 18, 13, 5, 7, 2, Pad::Same},
      {"3x3/2 same, one pixel of padding at the bottom and right", 3, 3, 16, 16, 5, 3, 2, Pad::Same},
      {"3x3/2 same, odd padding in H only", 2, 3, 16, 15, 5, 3, 2, Pad::Same},
      {"even kernel 4 same: 1 before, 2 after", 2, 3, 9, 10, 5, 4, 1, Pad::Same},
      {"5x5 valid, odd sizes", 2, 3, 11, 9, 5, 5, 1},
      {"7x7/2 valid", 2, 3, 19, 20, 5, 7, 2},
      {"1x1/2 same", 2, 5, 13, 13, 7, 1, 2, Pad::Same},
      {"1x1/2 projection shortcut", 2, 3, 14, 14, 5, 1, 2, Pad::Explicit, 0},
      {"3x3 pad 1", 2, 6, 9, 9, 5, 3, 1, Pad::Explicit, 1},
      {"3x3/2 pad 1 on 3x3", 1, 2, 3, 3, 4, 3, 2, Pad::Explicit, 1},
      {"kernel larger than the input, same", 1, 3, 2, 2, 5, 5, 1, Pad::Same},
      {"channels off every tile size", 3, 33, 7, 9, 17, 3, 1, Pad::Same},
      {"ResNet stem 7x7/2 pad 3", 2, 3, 33, 31, 8, 7, 2, Pad::Explicit, 3},
      {"ResNet 3x3 pad 1", 2, 64, 14, 14, 64, 3, 1, Pad::Explicit, 1},
      {"ResNet 3x3/2 pad 1", 2, 64, 14, 14, 128, 3, 2, Pad::Explicit, 1},
      {"ResNet 1x1/2 projection", 2, 64, 14, 14, 128, 1, 2, Pad::Explicit, 0},
      {"cnn1 conv 1", 8, 3, 100, 100, 32, 3, 1},
      {"cnn1 conv 2", 8, 32, 49, 49, 64, 3, 1},
      {"cnn1 conv 3", 8, 64, 23, 23, 128, 3, 1},
      {"cnn1 conv 4", 8, 128, 10, 10, 128, 3, 1},
  };
}

ConvCase random_case(uint64_t seed) {
  Generator g(seed);
  const int kernels[] = {1, 3, 5, 7}, channels[] = {1, 2, 3, 4, 7, 16, 33}, filters[] = {1, 3, 5, 8, 17, 32, 64};
  ConvCase c{"seed " + std::to_string(seed), 1, 1, 1, 1, 1, 1, 1};
  c.kernel = kernels[test::pick(g, 0, 3)];
  c.stride = test::pick(g, 1, 2);
  c.batch = test::pick(g, 1, 3);
  c.channels = channels[test::pick(g, 0, 6)];
  c.filters = filters[test::pick(g, 0, 6)];
  c.pad = static_cast<Pad>(test::pick(g, 0, 2));
  c.explicit_pad = test::pick(g, 0, c.kernel / 2);
  const int smallest = c.pad == Pad::Valid      ? c.kernel
                       : c.pad == Pad::Explicit ? std::max(1, c.kernel - 2 * c.explicit_pad)
                                                : 1;
  c.height = test::pick(g, smallest, 24);
  c.width = test::pick(g, smallest, 24);
  return c;
}

// Every case with the seed its values are drawn from.
std::vector<std::pair<ConvCase, uint64_t>> all_cases() {
  std::vector<std::pair<ConvCase, uint64_t>> cases;
  uint64_t seed = 1;
  for (const ConvCase& c : fixed_cases()) cases.push_back({c, 1000 * seed++});
  for (uint64_t s : test::test_seeds()) cases.push_back({random_case(s), 7919 * s});
  return cases;
}

// x and dy are drawn in [-scale, scale]; w and the bias in [-1, 1].
void check_forward(const ConvCase& c, uint64_t seed, bool bias, float scale = 1.0f) {
  const Conv2dParams p = c.params();
  TensorList in = {uniform_tensor(x_shape(p), seed, -scale, scale), uniform_tensor(w_shape(p), seed + 1)};
  if (bias) in.push_back(uniform_tensor({p.out_channels}, seed + 2));
  expect_parity(c.describe() + (bias ? ", forward" : ", forward without bias"), in, {written("y", y_shape(p))},
                [p, bias](TensorList& in, TensorList& out) {
                  dispatch::conv2d_forward(p, in[0], in[1], bias ? &in[2] : nullptr, out[0]);
                });
}

void check_backward_data(const ConvCase& c, uint64_t seed, float scale = 1.0f) {
  const Conv2dParams p = c.params();
  expect_parity(c.describe() + ", backward data",
                {uniform_tensor(y_shape(p), seed + 3, -scale, scale), uniform_tensor(w_shape(p), seed + 1)},
                {written("dx", x_shape(p))},
                [p](TensorList& in, TensorList& out) { dispatch::conv2d_backward_data(p, in[0], in[1], out[0]); });
}

void check_backward_filter(const ConvCase& c, uint64_t seed, bool bias, float scale = 1.0f) {
  const Conv2dParams p = c.params();
  std::vector<Output> outputs = {written("dw", w_shape(p))};
  if (bias) outputs.push_back(written("dbias", {p.out_channels}));
  expect_parity(
      c.describe() + (bias ? ", backward filter" : ", backward filter without bias gradient"),
      {uniform_tensor(x_shape(p), seed, -scale, scale), uniform_tensor(y_shape(p), seed + 3, -scale, scale)}, outputs,
      [p, bias](TensorList& in, TensorList& out) {
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
  const std::vector<ConvCase> cases = {
      {"large values, 3x3 valid", 2, 16, 12, 11, 32, 3, 1},
      {"large values, 7x7/2 same", 2, 3, 18, 13, 5, 7, 2, Pad::Same},
      {"large values, cnn1 conv 2", 4, 32, 49, 49, 64, 3, 1},
  };
  for (const ConvCase& c : cases) {
    check_forward(c, 31, true, 1e4f);
    check_backward_data(c, 31, 1e4f);
    check_backward_filter(c, 31, true, 1e4f);
  }
}

// The fused epilogue y = max(conv(x, w) + b, 0) that layers use. The reference
// is the CPU conv followed by a separate CPU ReLU.
TEST_F(Conv2dParity, FusedBiasRelu) {
  for (const auto& [c, seed] : all_cases()) {
    const Conv2dParams p = c.params();
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
              << c.describe() << ", fused " << (bias ? "bias + relu" : "relu") << " ("
              << test::describe_backend(backend) << ")";
        } catch (const std::exception& e) {
          ADD_FAILURE() << c.describe() << ", fused relu (" << test::describe_backend(backend)
                        << ") threw: " << e.what();
        }
      }
    }
  }
}

}  // namespace
}  // namespace nebula
