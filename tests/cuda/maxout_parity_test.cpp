// Maxout on the GPU against the CPU: every case of the table (the model
// layers at batch 2), and ties (values drawn from a few integers), which must
// go to the same piece. A selection: equal on both.
#include "engine/dispatch.h"
#include "tests/cases/maxout_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::TensorList;
using test::Tolerance;
using test::written;

void check_maxout(const cases::MaxoutCase& c, const Tensor& x, const Tensor& dy) {
  const int pieces = c.pieces;
  expect_parity(cases::describe(c) + ", forward", {x}, {written("y", c.y(), Tolerance::equal())},
                [pieces](TensorList& in, TensorList& out) { dispatch::maxout_forward(pieces, in[0], out[0]); });
  expect_parity(cases::describe(c) + ", backward", {x, dy}, {written("dx", c.x(), Tolerance::equal())},
                [pieces](TensorList& in, TensorList& out) {
                  dispatch::maxout_backward(pieces, in[0], in[1], out[0]);
                });
}

using MaxoutParity = test::CudaTest;

TEST_F(MaxoutParity, EveryCase) {
  std::vector<cases::MaxoutCase> all = cases::maxout_edge_cases();
  for (const cases::MaxoutCase& c : cases::maxout_model_cases(2)) all.push_back(c);
  uint64_t seed = 1;
  for (const cases::MaxoutCase& c : all) {
    check_maxout(c, test::uniform_tensor(c.x(), seed), test::uniform_tensor(c.y(), seed + 1));
    check_maxout(c, test::integer_tensor(c.x(), seed + 2, -2, 2), test::uniform_tensor(c.y(), seed + 3));
    seed += 4;
  }
}

}  // namespace
}  // namespace nebula
