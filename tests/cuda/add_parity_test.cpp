// Add (the residual sum) and accumulate (autograd's sum of gradients) on the
// GPU against the CPU, on every shape of the op's table
// (tests/cases/add_cases.h): its edge cases and the model layers at batch 2.
// One rounding each, so equal on every device; sums that overflow give the
// same infinities.
#include <limits>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "tests/cases/add_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using cases::AddCase;
using test::expect_parity;
using test::Output;
using test::TensorList;
using test::Tolerance;
using test::written;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Random values in [low, high] with `special` written over the first ones.
Tensor with_specials(const Shape& shape, uint64_t seed, float low, float high, const std::vector<float>& special) {
  std::vector<float> values = test::uniform_tensor(shape, seed, low, high).to_vector();
  for (size_t i = 0; i < special.size() && i < values.size(); ++i) values[i] = special[i];
  return Tensor::from_vector(shape, values);
}

std::vector<AddCase> all_cases() {
  std::vector<AddCase> all = cases::add_edge_cases();
  for (const AddCase& c : cases::add_model_cases(2)) all.push_back(c);
  return all;
}

using AddParity = test::CudaTest;

TEST_F(AddParity, AddAndAccumulate) {
  const std::vector<float> special = {3e38f, -3e38f, 1e30f, 0.0f, -0.0f, kInf};
  uint64_t seed = 31;
  for (const AddCase& c : all_cases()) {
    const Tensor a = with_specials(c.x, seed++, -1e3f, 1e3f, special);
    const Tensor b = with_specials(c.x, seed++, -1.0f, 1.0f, special);
    const Tensor y0 = test::uniform_tensor(c.x, seed++, -1.0f, 1.0f);
    expect_parity(cases::describe("add", c), {a, b}, {written("y", c.x, Tolerance::equal())},
                  [](TensorList& in, TensorList& out) { dispatch::add_forward(in[0], in[1], out[0]); });
    expect_parity(cases::describe("accumulate", c), {a}, {Output{"y", y0, Tolerance::equal()}},
                  [](TensorList& in, TensorList& out) { dispatch::accumulate(in[0], out[0]); });
  }
}

}  // namespace
}  // namespace nebula
