// Elementwise ops on the GPU against the CPU: ReLU and sigmoid forward and
// backward (extreme inputs included), dropout (the same Philox mask, every
// element compared for equality, also with the offset read from device memory
// as a replayed CUDA graph does), add and accumulate.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::Output;
using test::TensorList;
using test::Tolerance;
using test::written;

constexpr float kInf = std::numeric_limits<float>::infinity();

// n random values in [low, high] with `special` written over the first ones.
Tensor with_specials(int64_t n, uint64_t seed, float low, float high, const std::vector<float>& special) {
  std::vector<float> values = test::uniform_tensor({n}, seed, low, high).to_vector();
  for (size_t i = 0; i < special.size() && i < values.size(); ++i) values[i] = special[i];
  return Tensor::from_vector({n}, values);
}

// Sizes: one element, less than a vector, and odd sizes over many blocks.
const int64_t kSizes[] = {1, 7, 4099, 1000003};

using ElementwiseParity = test::CudaTest;

TEST_F(ElementwiseParity, Relu) {
  const std::vector<float> special = {0.0f,    -0.0f, 1e-30f, -1e-30f, 1e-45f,   -1e-45f, 100.0f,
                                      -100.0f, 1e30f, -1e30f, 3.4e38f, -3.4e38f, kInf,    -kInf};
  uint64_t seed = 1;
  for (int64_t n : kSizes) {
    const std::string what = "relu over " + std::to_string(n) + " values";
    const Tensor x = with_specials(n, seed++, -3.0f, 3.0f, special);
    Tensor y(x.shape());
    dispatch::relu_forward(x, y);  // the backward's input: the CPU forward's output
    const Tensor dy = with_specials(n, seed++, -1.0f, 1.0f, {1e30f, -1e30f, 5.0f});
    expect_parity(what + ", forward", {x}, {written("y", x.shape())},
                  [](TensorList& in, TensorList& out) { dispatch::relu_forward(in[0], out[0]); });
    expect_parity(what + ", backward", {y, dy}, {written("dx", x.shape())},
                  [](TensorList& in, TensorList& out) { dispatch::relu_backward(in[0], in[1], out[0]); });
  }
}

// Extreme inputs must saturate to 0 and 1, never overflow to NaN.
TEST_F(ElementwiseParity, Sigmoid) {
  const std::vector<float> special = {0.0f,  -0.0f,  1e-30f, -1e-30f, 1.0f,    -1.0f,    10.0f,  -10.0f,
                                      20.0f, -20.0f, 50.0f,  -50.0f,  88.0f,   -88.0f,   100.0f, -100.0f,
                                      1e4f,  -1e4f,  1e30f,  -1e30f,  3.4e38f, -3.4e38f, kInf,   -kInf};
  uint64_t seed = 11;
  for (int64_t n : kSizes) {
    const std::string what = "sigmoid over " + std::to_string(n) + " values";
    const Tensor x = with_specials(n, seed++, -20.0f, 20.0f, special);
    // y in [0, 1] with the ends exactly, as saturated outputs give.
    const Tensor y = with_specials(n, seed++, 0.0f, 1.0f, {0.0f, 1.0f, 0.5f, 1e-30f});
    const Tensor dy = with_specials(n, seed++, -1.0f, 1.0f, {1e4f, -1e4f, 1e30f});
    expect_parity(what + ", forward", {x}, {written("y", x.shape())},
                  [](TensorList& in, TensorList& out) { dispatch::sigmoid_forward(in[0], out[0]); });
    expect_parity(what + ", backward", {y, dy}, {written("dx", x.shape())},
                  [](TensorList& in, TensorList& out) { dispatch::sigmoid_backward(in[0], in[1], out[0]); });
  }
}

// The 37-column Kaggle tree: (first column, answers, parent column) per question.
GalaxyTreeLayout kaggle_tree() {
  const int questions[11][3] = {{0, 3, -1}, {3, 2, 1},   {5, 2, 4},  {7, 2, 4},  {9, 4, 4}, {13, 2, -1},
                                {15, 3, 0}, {18, 7, 13}, {25, 3, 3}, {28, 3, 7}, {31, 6, 7}};
  GalaxyTreeLayout t;
  t.columns = 37;
  t.questions = 11;
  for (int q = 0; q < 11; ++q) {
    for (int a = 0; a < questions[q][1]; ++a) t.question_of[questions[q][0] + a] = int8_t(q);
    t.parent[q] = int8_t(questions[q][2]);
  }
  return t;
}

// The GPU runs the CPU's row functions, so it matches to float rounding; rows
// past one block and inputs with whole questions clipped to zero included.
TEST_F(ElementwiseParity, GalaxyTree) {
  const GalaxyTreeLayout t = kaggle_tree();
  uint64_t seed = 21;
  for (int64_t rows : {1, 7, 100, 300}) {
    const std::string what = "galaxy tree over " + std::to_string(rows) + " rows";
    const Shape shape = {rows, 37};
    const Tensor x = test::uniform_tensor(shape, seed++, -1.0f, 2.0f);
    Tensor y(shape);
    dispatch::galaxy_tree_forward(t, x, y);
    const Tensor dy = test::uniform_tensor(shape, seed++);
    expect_parity(what + ", forward", {x}, {written("y", shape)},
                  [t](TensorList& in, TensorList& out) { dispatch::galaxy_tree_forward(t, in[0], out[0]); });
    expect_parity(what + ", backward", {x, y, dy}, {written("dx", shape)}, [t](TensorList& in, TensorList& out) {
      dispatch::galaxy_tree_backward(t, in[0], in[1], in[2], out[0]);
    });
  }
}

// The mask is a pure function of (seed, offset + i), and the scale is one
// multiplication by 1/(1 - rate) formed in float, so the GPU matches the CPU
// exactly. Offsets not a multiple of 4 and across 2^32 check the counter
// arithmetic; x has no zeros, so a zero marks a dropped element.
TEST_F(ElementwiseParity, Dropout) {
  const float rates[] = {0.0f, 0.1f, 0.5f, 0.9f};
  const uint64_t seeds[] = {1, (uint64_t(1) << 40) + 3};
  const uint64_t offsets[] = {0, 1, 3, (uint64_t(1) << 32) - 2, (uint64_t(1) << 33) + 5};
  for (int64_t n : {int64_t(1), int64_t(5), int64_t(100003)}) {
    const Tensor x = test::uniform_tensor({n}, 21, 0.5f, 1.5f);
    for (float rate : rates)
      for (uint64_t seed : seeds)
        for (uint64_t offset : offsets) {
          const std::string what = "dropout rate " + std::to_string(rate) + " seed " + std::to_string(seed) +
                                   " offset " + std::to_string(offset) + " over " + std::to_string(n) + " values";
          expect_parity(
              what + ", forward", {x}, {written("y", x.shape(), Tolerance::equal())},
              [=](TensorList& in, TensorList& out) { dispatch::dropout_forward(rate, seed, offset, in[0], out[0]); });
          expect_parity(
              what + ", backward", {x}, {written("dx", x.shape(), Tolerance::equal())},
              [=](TensorList& in, TensorList& out) { dispatch::dropout_backward(rate, seed, offset, in[0], out[0]); });
        }
  }
}

// Clears the device offset counter however the test ends.
struct DropoutCounterScope {
  explicit DropoutCounterScope(const uint64_t* counter) { dispatch::set_dropout_offset_counter(counter); }
  ~DropoutCounterScope() { dispatch::set_dropout_offset_counter(nullptr); }
};

// A replayed graph cannot change kernel arguments, so the GPU adds a counter
// read from device memory to the offset: the mask must be the CPU's at
// offset + counter.
TEST_F(ElementwiseParity, DropoutOffsetFromDevice) {
  const int64_t n = 100003;
  const float rate = 0.5f;
  const uint64_t seed = 77, offset = 1000;
  const Tensor x = test::uniform_tensor({n}, 22, 0.5f, 1.5f), gx = x.to(Device::CUDA);
  for (uint64_t added : {uint64_t(0), uint64_t(1), uint64_t(n), (uint64_t(1) << 32) + 7}) {
    Tensor counter({2}, Device::CUDA);  // 8 bytes: one uint64_t
    copy_bytes(counter.data(), Device::CUDA, &added, Device::CPU, sizeof added);
    Tensor expected_y(x.shape()), expected_dx(x.shape());
    dispatch::dropout_forward(rate, seed, offset + added, x, expected_y);
    dispatch::dropout_backward(rate, seed, offset + added, x, expected_dx);
    for (Backend backend : test::kBackends) {
      test::BackendScope scope(backend);
      Tensor y = test::garbage(x.shape()).to(Device::CUDA), dx = test::garbage(x.shape()).to(Device::CUDA);
      {
        DropoutCounterScope counting(reinterpret_cast<const uint64_t*>(counter.data()));
        dispatch::dropout_forward(rate, seed, offset, gx, y);
        dispatch::dropout_backward(rate, seed, offset, gx, dx);
      }
      const std::string what = "dropout with " + std::to_string(added) + " added from device memory (" +
                               test::describe_backend(backend) + ")";
      EXPECT_TRUE(test::compare(expected_y, y, Tolerance::equal())) << what << ", forward";
      EXPECT_TRUE(test::compare(expected_dx, dx, Tolerance::equal())) << what << ", backward";
    }
  }
}

// One rounding each, so equal on every device; sums that overflow give the
// same infinities.
TEST_F(ElementwiseParity, AddAndAccumulate) {
  const std::vector<float> special = {3e38f, -3e38f, 1e30f, 0.0f, -0.0f, kInf};
  uint64_t seed = 31;
  for (int64_t n : kSizes) {
    const Tensor a = with_specials(n, seed++, -1e3f, 1e3f, special);
    const Tensor b = with_specials(n, seed++, -1.0f, 1.0f, special);
    const Tensor y0 = test::uniform_tensor({n}, seed++, -1.0f, 1.0f);
    const std::string what = std::to_string(n) + " values";
    expect_parity("add over " + what, {a, b}, {written("y", a.shape(), Tolerance::equal())},
                  [](TensorList& in, TensorList& out) { dispatch::add_forward(in[0], in[1], out[0]); });
    expect_parity("accumulate over " + what, {a}, {Output{"y", y0, Tolerance::equal()}},
                  [](TensorList& in, TensorList& out) { dispatch::accumulate(in[0], out[0]); });
  }
  // Image-shaped operands, as in a residual block.
  const Shape shape = {2, 64, 14, 13};
  expect_parity("add over " + to_string(shape), {test::uniform_tensor(shape, 41), test::uniform_tensor(shape, 42)},
                {written("y", shape, Tolerance::equal())},
                [](TensorList& in, TensorList& out) { dispatch::add_forward(in[0], in[1], out[0]); });
}

}  // namespace
}  // namespace nebula
