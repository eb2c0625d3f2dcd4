// ReLU and sigmoid on the GPU against the CPU, forward and backward, extreme
// inputs included, on every shape of the ops' table
// (tests/cases/activation_cases.h): its edge cases and the model layers at
// batch 2.
#include <limits>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "tests/cases/activation_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using cases::ActivationCase;
using test::expect_parity;
using test::TensorList;
using test::written;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Random values in [low, high] with `special` written over the first ones.
Tensor with_specials(const Shape& shape, uint64_t seed, float low, float high, const std::vector<float>& special) {
  std::vector<float> values = test::uniform_tensor(shape, seed, low, high).to_vector();
  for (size_t i = 0; i < special.size() && i < values.size(); ++i) values[i] = special[i];
  return Tensor::from_vector(shape, values);
}

std::vector<ActivationCase> with_models(std::vector<ActivationCase> model_cases) {
  std::vector<ActivationCase> all = cases::activation_edge_cases();
  all.insert(all.end(), model_cases.begin(), model_cases.end());
  return all;
}

using ActivationParity = test::CudaTest;

TEST_F(ActivationParity, Relu) {
  const std::vector<float> special = {0.0f,    -0.0f, 1e-30f, -1e-30f, 1e-45f,   -1e-45f, 100.0f,
                                      -100.0f, 1e30f, -1e30f, 3.4e38f, -3.4e38f, kInf,    -kInf};
  uint64_t seed = 1;
  for (const ActivationCase& c : with_models(cases::relu_model_cases(2))) {
    const std::string what = cases::describe("relu", c);
    const Tensor x = with_specials(c.x, seed++, -3.0f, 3.0f, special);
    Tensor y(x.shape());
    dispatch::relu_forward(x, y);  // the backward's input: the CPU forward's output
    const Tensor dy = with_specials(c.x, seed++, -1.0f, 1.0f, {1e30f, -1e30f, 5.0f});
    expect_parity(what + ", forward", {x}, {written("y", c.x)},
                  [](TensorList& in, TensorList& out) { dispatch::relu_forward(in[0], out[0]); });
    expect_parity(what + ", backward", {y, dy}, {written("dx", c.x)},
                  [](TensorList& in, TensorList& out) { dispatch::relu_backward(in[0], in[1], out[0]); });
  }
}

// Extreme inputs must saturate to 0 and 1, never overflow to NaN.
TEST_F(ActivationParity, Sigmoid) {
  const std::vector<float> special = {0.0f,  -0.0f,  1e-30f, -1e-30f, 1.0f,    -1.0f,    10.0f,  -10.0f,
                                      20.0f, -20.0f, 50.0f,  -50.0f,  88.0f,   -88.0f,   100.0f, -100.0f,
                                      1e4f,  -1e4f,  1e30f,  -1e30f,  3.4e38f, -3.4e38f, kInf,   -kInf};
  uint64_t seed = 11;
  for (const ActivationCase& c : with_models(cases::sigmoid_model_cases(2))) {
    const std::string what = cases::describe("sigmoid", c);
    const Tensor x = with_specials(c.x, seed++, -20.0f, 20.0f, special);
    // y in [0, 1] with the ends exactly, as saturated outputs give.
    const Tensor y = with_specials(c.x, seed++, 0.0f, 1.0f, {0.0f, 1.0f, 0.5f, 1e-30f});
    const Tensor dy = with_specials(c.x, seed++, -1.0f, 1.0f, {1e4f, -1e4f, 1e30f});
    expect_parity(what + ", forward", {x}, {written("y", c.x)},
                  [](TensorList& in, TensorList& out) { dispatch::sigmoid_forward(in[0], out[0]); });
    expect_parity(what + ", backward", {y, dy}, {written("dx", c.x)},
                  [](TensorList& in, TensorList& out) { dispatch::sigmoid_backward(in[0], in[1], out[0]); });
  }
}

}  // namespace
}  // namespace nebula
