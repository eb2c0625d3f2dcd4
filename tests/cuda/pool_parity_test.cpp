// Pooling on the GPU against the CPU: max pooling forward and backward (2x2/2
// as in the study, 3x3/2 pad 1 as in ResNet, overlapping and odd-sized
// windows), the tie rule with ReLU in front (many zeros and equal values), and
// global average pooling.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "kernels/maxpool2d.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::TensorList;
using test::Tolerance;
using test::written;

struct PoolCase {
  std::string origin;
  int batch, channels, height, width, kernel, stride, pad;

  Pool2dParams params() const { return pool2d_params(batch, channels, height, width, kernel, stride, pad); }
  Shape x_shape() const { return {batch, channels, height, width}; }
  Shape y_shape() const {
    const Pool2dParams p = params();
    return {p.batch, p.channels, p.out_h, p.out_w};
  }
  std::string describe() const {
    const Pool2dParams p = params();
    return "maxpool2d (" + origin + ") x " + to_string(x_shape()) + ", " + std::to_string(kernel) + "x" +
           std::to_string(kernel) + " stride " + std::to_string(stride) + " pad " + std::to_string(pad) + " (out " +
           std::to_string(p.out_h) + "x" + std::to_string(p.out_w) + ")";
  }
};

std::vector<PoolCase> all_cases() {
  std::vector<PoolCase> cases = {
      {"2x2/2", 2, 3, 8, 8, 2, 2, 0},
      {"2x2/2 on odd sizes: the last row and column dropped", 2, 5, 9, 7, 2, 2, 0},
      {"ResNet 3x3/2 pad 1, odd sizes", 2, 4, 17, 15, 3, 2, 1},
      {"ResNet 3x3/2 pad 1, even sizes", 2, 4, 16, 16, 3, 2, 1},
      {"3x3/1 pad 1, overlapping", 1, 2, 5, 6, 3, 1, 1},
      {"3x3/2 no pad, overlapping", 2, 3, 11, 10, 3, 2, 0},
      {"one window over the whole image", 2, 3, 4, 4, 4, 4, 0},
      {"1x1", 1, 3, 1, 1, 1, 1, 0},
      {"cnn1 pool 1", 8, 32, 98, 98, 2, 2, 0},
      {"cnn1 pool 2 (odd)", 8, 64, 47, 47, 2, 2, 0},
      {"ResNet stem pool", 2, 64, 56, 56, 3, 2, 1},
  };
  for (uint64_t seed : test::test_seeds()) {
    Generator g(seed);
    PoolCase c{"seed " + std::to_string(seed), 1, 1, 1, 1, 1, 1, 0};
    c.batch = test::pick(g, 1, 3);
    c.channels = test::pick(g, 1, 9);
    c.kernel = test::pick(g, 1, 4);
    c.stride = test::pick(g, 1, 3);
    c.pad = test::pick(g, 0, c.kernel / 2);
    c.height = test::pick(g, std::max(1, c.kernel - 2 * c.pad), 30);
    c.width = test::pick(g, std::max(1, c.kernel - 2 * c.pad), 30);
    cases.push_back(c);
  }
  return cases;
}

// The forward is a selection, equal on any device. The backward sums the few
// upstream values routed to an element, in any order: the usual tolerance.
void check_maxpool(const PoolCase& c, const Tensor& x, const Tensor& dy) {
  const Pool2dParams p = c.params();
  expect_parity(c.describe() + ", forward", {x}, {written("y", c.y_shape(), Tolerance::equal())},
                [p](TensorList& in, TensorList& out) { dispatch::maxpool2d_forward(p, in[0], out[0]); });
  expect_parity(c.describe() + ", backward", {x, dy}, {written("dx", c.x_shape())},
                [p](TensorList& in, TensorList& out) { dispatch::maxpool2d_backward(p, in[0], in[1], out[0]); });
}

using PoolParity = test::CudaTest;

TEST_F(PoolParity, MaxPool) {
  uint64_t seed = 1;
  for (const PoolCase& c : all_cases()) {
    check_maxpool(c, test::uniform_tensor(c.x_shape(), 50 * seed), test::uniform_tensor(c.y_shape(), 50 * seed + 1));
    ++seed;
  }
}

// Every window all negative: padded cells (taken as -infinity) must never win,
// even where the window holds a single real pixel.
TEST_F(PoolParity, MaxPoolAllNegative) {
  for (const PoolCase& c : {PoolCase{"all negative, 3x3/2 pad 1", 2, 3, 9, 8, 3, 2, 1},
                            PoolCase{"all negative, 2x2/2 pad 1", 1, 2, 5, 5, 2, 2, 1}})
    check_maxpool(c, test::uniform_tensor(c.x_shape(), 3, -2.0f, -1.0f), test::uniform_tensor(c.y_shape(), 4));
}

// Extreme values: +-1e30 and the largest floats pass through the max unchanged.
TEST_F(PoolParity, MaxPoolExtremeValues) {
  const PoolCase c{"extreme values", 2, 3, 9, 9, 3, 2, 1};
  std::vector<float> x = test::uniform_tensor(c.x_shape(), 5).to_vector();
  const float extremes[] = {1e30f, -1e30f, 3.4e38f, -3.4e38f, 1e-30f, -1e-30f, 0.0f};
  for (size_t i = 0; i < x.size(); i += 3) x[i] = extremes[(i / 3) % 7];
  check_maxpool(c, Tensor::from_vector(c.x_shape(), x), test::uniform_tensor(c.y_shape(), 6, -1e4f, 1e4f));
}

// Large magnitudes: a 1e4-scale input and upstream gradient.
TEST_F(PoolParity, MaxPoolLargeMagnitudes) {
  const PoolCase c{"large values", 4, 16, 31, 30, 3, 2, 1};
  check_maxpool(c, test::uniform_tensor(c.x_shape(), 7, -1e4f, 1e4f),
                test::uniform_tensor(c.y_shape(), 8, -1e4f, 1e4f));
}

// ReLU then max pooling on whole numbers in [-3, 2]: after the ReLU about
// two thirds of the values are 0 and the rest repeat, so most windows hold a
// tie, and the gradient must go to the first maximal element (rows, then
// columns) as on the CPU. The upstream gradient is whole too, so every sum is
// exact and the whole chain is compared for equality.
TEST_F(PoolParity, ReluMaxPoolTies) {
  const std::vector<PoolCase> cases = {
      {"ties, 2x2/2", 2, 3, 10, 9, 2, 2, 0},
      {"ties, 3x3/2 pad 1", 2, 3, 11, 12, 3, 2, 1},
      {"ties, 3x3/1 pad 1", 1, 4, 7, 7, 3, 1, 1},
      {"ties, cnn1 pool 1", 8, 32, 98, 98, 2, 2, 0},
  };
  uint64_t seed = 1;
  for (const PoolCase& c : cases) {
    const Pool2dParams p = c.params();
    const Tensor x = test::integer_tensor(c.x_shape(), 60 * seed, -3, 2);
    const Tensor dy = test::integer_tensor(c.y_shape(), 60 * seed + 1, -8, 8);
    ++seed;
    expect_parity(
        c.describe() + ", relu -> maxpool -> backward", {x, dy},
        {written("relu(x)", c.x_shape(), Tolerance::equal()), written("y", c.y_shape(), Tolerance::equal()),
         written("d relu(x)", c.x_shape(), Tolerance::equal()), written("dx", c.x_shape(), Tolerance::equal())},
        [p](TensorList& in, TensorList& out) {
          dispatch::relu_forward(in[0], out[0]);
          dispatch::maxpool2d_forward(p, out[0], out[1]);
          dispatch::maxpool2d_backward(p, out[0], in[1], out[2]);
          dispatch::relu_backward(out[0], out[2], out[3]);
        });
  }
}

// All zeros: every window is one big tie.
TEST_F(PoolParity, MaxPoolAllEqual) {
  for (const PoolCase& c :
       {PoolCase{"all zero, 2x2/2", 2, 3, 8, 9, 2, 2, 0}, PoolCase{"all zero, 3x3/2 pad 1", 2, 3, 9, 9, 3, 2, 1}}) {
    const Pool2dParams p = c.params();
    expect_parity(c.describe() + ", backward",
                  {Tensor::zeros(c.x_shape()), test::integer_tensor(c.y_shape(), 9, 1, 9)},
                  {written("dx", c.x_shape(), Tolerance::equal())},
                  [p](TensorList& in, TensorList& out) { dispatch::maxpool2d_backward(p, in[0], in[1], out[0]); });
  }
}

// y[n, c] = mean over the plane; dx = dy / (H W).
TEST_F(PoolParity, GlobalAvgPool) {
  struct Case {
    Shape x;
    float low, high;
  };
  const std::vector<Case> cases = {
      {{1, 1, 1, 1}, -1.0f, 1.0f},   {{2, 3, 7, 7}, 0.0f, 1.0f},     {{8, 512, 7, 7}, 0.0f, 1.0f},
      {{3, 5, 1, 1}, -1.0f, 1.0f},   {{2, 4, 100, 100}, 0.0f, 1.0f}, {{2, 4, 100, 100}, -1.0f, 1.0f},
      {{1, 3, 13, 11}, -1e4f, 1e4f}, {{4, 2048, 3, 3}, 0.0f, 1.0f},
  };
  uint64_t seed = 1;
  for (const Case& c : cases) {
    const Shape y_shape = {c.x[0], c.x[1]};
    const std::string what = "global average pool x " + to_string(c.x) + " in [" + std::to_string(c.low) + ", " +
                             std::to_string(c.high) + "]";
    expect_parity(what + ", forward", {test::uniform_tensor(c.x, 70 * seed, c.low, c.high)}, {written("y", y_shape)},
                  [](TensorList& in, TensorList& out) { dispatch::global_avg_pool_forward(in[0], out[0]); });
    expect_parity(what + ", backward", {test::uniform_tensor(y_shape, 70 * seed + 1, c.low, c.high)},
                  {written("dx", c.x)},
                  [](TensorList& in, TensorList& out) { dispatch::global_avg_pool_backward(in[0], out[0]); });
    ++seed;
  }
}

}  // namespace
}  // namespace nebula
