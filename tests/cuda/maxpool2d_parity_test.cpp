// Max pooling on the GPU against the CPU: forward and backward on every case
// of the op's table (tests/cases/maxpool2d_cases.h: 2x2/2 as in the study,
// 3x3/2 pad 1 as in ResNet, overlapping and odd-sized windows) and shapes
// drawn from the seeds, then values chosen to break it: all negative, extreme,
// large, and the tie rule with ReLU in front (many zeros and equal values).
#include <algorithm>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "kernels/maxpool2d.h"
#include "tests/cases/maxpool2d_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::TensorList;
using test::Tolerance;
using test::written;

using cases::MaxPool2dCase;

Shape x_shape(const MaxPool2dCase& c) { return {c.p.batch, c.p.channels, c.p.in_h, c.p.in_w}; }
Shape y_shape(const MaxPool2dCase& c) { return {c.p.batch, c.p.channels, c.p.out_h, c.p.out_w}; }

MaxPool2dCase pool_case(std::string name, int batch, int channels, int height, int width, int kernel, int stride,
                        int pad) {
  return {std::move(name), pool2d_params(batch, channels, height, width, kernel, stride, pad)};
}

// The op's table (the model layers at batch 2) and shapes drawn from the seeds.
std::vector<MaxPool2dCase> all_cases() {
  std::vector<MaxPool2dCase> all = cases::maxpool2d_edge_cases();
  for (const MaxPool2dCase& c : cases::maxpool2d_model_cases(2)) all.push_back(c);
  for (uint64_t seed : test::test_seeds()) {
    Generator g(seed);
    const int batch = test::pick(g, 1, 3), channels = test::pick(g, 1, 9), kernel = test::pick(g, 1, 4);
    const int stride = test::pick(g, 1, 3), pad = test::pick(g, 0, kernel / 2);
    const int height = test::pick(g, std::max(1, kernel - 2 * pad), 30);
    const int width = test::pick(g, std::max(1, kernel - 2 * pad), 30);
    all.push_back(pool_case("seed " + std::to_string(seed), batch, channels, height, width, kernel, stride, pad));
  }
  return all;
}

// The forward is a selection, equal on any device. The backward sums the few
// upstream values routed to an element, in any order: the usual tolerance.
void check_maxpool(const MaxPool2dCase& c, const Tensor& x, const Tensor& dy) {
  const Pool2dParams p = c.p;
  expect_parity(cases::describe(c) + ", forward", {x}, {written("y", y_shape(c), Tolerance::equal())},
                [p](TensorList& in, TensorList& out) { dispatch::maxpool2d_forward(p, in[0], out[0]); });
  expect_parity(cases::describe(c) + ", backward", {x, dy}, {written("dx", x_shape(c))},
                [p](TensorList& in, TensorList& out) { dispatch::maxpool2d_backward(p, in[0], in[1], out[0]); });
}

using MaxPool2dParity = test::CudaTest;

TEST_F(MaxPool2dParity, MaxPool) {
  uint64_t seed = 1;
  for (const MaxPool2dCase& c : all_cases()) {
    check_maxpool(c, test::uniform_tensor(x_shape(c), 50 * seed), test::uniform_tensor(y_shape(c), 50 * seed + 1));
    ++seed;
  }
}

// Every window all negative: padded cells (taken as -infinity) must never win,
// even where the window holds a single real pixel.
TEST_F(MaxPool2dParity, MaxPoolAllNegative) {
  for (const MaxPool2dCase& c : {pool_case("all negative, 3x3/2 pad 1", 2, 3, 9, 8, 3, 2, 1),
                                 pool_case("all negative, 2x2/2 pad 1", 1, 2, 5, 5, 2, 2, 1)})
    check_maxpool(c, test::uniform_tensor(x_shape(c), 3, -2.0f, -1.0f), test::uniform_tensor(y_shape(c), 4));
}

// Extreme values: +-1e30 and the largest floats pass through the max unchanged.
TEST_F(MaxPool2dParity, MaxPoolExtremeValues) {
  const MaxPool2dCase c = pool_case("extreme values", 2, 3, 9, 9, 3, 2, 1);
  std::vector<float> x = test::uniform_tensor(x_shape(c), 5).to_vector();
  const float extremes[] = {1e30f, -1e30f, 3.4e38f, -3.4e38f, 1e-30f, -1e-30f, 0.0f};
  for (size_t i = 0; i < x.size(); i += 3) x[i] = extremes[(i / 3) % 7];
  check_maxpool(c, Tensor::from_vector(x_shape(c), x), test::uniform_tensor(y_shape(c), 6, -1e4f, 1e4f));
}

// Large magnitudes: a 1e4-scale input and upstream gradient.
TEST_F(MaxPool2dParity, MaxPoolLargeMagnitudes) {
  const MaxPool2dCase c = pool_case("large values", 4, 16, 31, 30, 3, 2, 1);
  check_maxpool(c, test::uniform_tensor(x_shape(c), 7, -1e4f, 1e4f), test::uniform_tensor(y_shape(c), 8, -1e4f, 1e4f));
}

// ReLU then max pooling on whole numbers in [-3, 2]: after the ReLU about
// two thirds of the values are 0 and the rest repeat, so most windows hold a
// tie, and the gradient must go to the first maximal element (rows, then
// columns) as on the CPU. The upstream gradient is whole too, so every sum is
// exact and the whole chain is compared for equality.
TEST_F(MaxPool2dParity, ReluMaxPoolTies) {
  const std::vector<MaxPool2dCase> cases = {
      pool_case("ties, 2x2/2", 2, 3, 10, 9, 2, 2, 0),
      pool_case("ties, 3x3/2 pad 1", 2, 3, 11, 12, 3, 2, 1),
      pool_case("ties, 3x3/1 pad 1", 1, 4, 7, 7, 3, 1, 1),
      pool_case("ties, cnn1 pool 1", 8, 32, 98, 98, 2, 2, 0),
  };
  uint64_t seed = 1;
  for (const MaxPool2dCase& c : cases) {
    const Pool2dParams p = c.p;
    const Tensor x = test::integer_tensor(x_shape(c), 60 * seed, -3, 2);
    const Tensor dy = test::integer_tensor(y_shape(c), 60 * seed + 1, -8, 8);
    ++seed;
    expect_parity(cases::describe(c) + ", relu -> maxpool -> backward", {x, dy},
                  {written("relu(x)", x_shape(c), Tolerance::equal()), written("y", y_shape(c), Tolerance::equal()),
                   written("d relu(x)", x_shape(c), Tolerance::equal()), written("dx", x_shape(c), Tolerance::equal())},
                  [p](TensorList& in, TensorList& out) {
                    dispatch::relu_forward(in[0], out[0]);
                    dispatch::maxpool2d_forward(p, out[0], out[1]);
                    dispatch::maxpool2d_backward(p, out[0], in[1], out[2]);
                    dispatch::relu_backward(out[0], out[2], out[3]);
                  });
  }
}

// All zeros: every window is one big tie.
TEST_F(MaxPool2dParity, MaxPoolAllEqual) {
  for (const MaxPool2dCase& c :
       {pool_case("all zero, 2x2/2", 2, 3, 8, 9, 2, 2, 0), pool_case("all zero, 3x3/2 pad 1", 2, 3, 9, 9, 3, 2, 1)}) {
    const Pool2dParams p = c.p;
    expect_parity(cases::describe(c) + ", backward",
                  {Tensor::zeros(x_shape(c)), test::integer_tensor(y_shape(c), 9, 1, 9)},
                  {written("dx", x_shape(c), Tolerance::equal())},
                  [p](TensorList& in, TensorList& out) { dispatch::maxpool2d_backward(p, in[0], in[1], out[0]); });
  }
}

}  // namespace
}  // namespace nebula
