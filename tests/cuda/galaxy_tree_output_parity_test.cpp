// The decision-tree output on the GPU against the CPU, forward and backward,
// on every case of the op's table (tests/cases/galaxy_tree_output_cases.h):
// both trees, rows past one block, the model outputs at batch 2 and 100. The
// GPU runs the CPU's row functions, so it matches to float rounding; inputs
// in [-1, 2] clip whole questions to zero in some rows.
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "tests/cases/galaxy_tree_output_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using cases::GalaxyTreeCase;
using test::expect_parity;
using test::TensorList;
using test::written;

std::vector<GalaxyTreeCase> all_cases() {
  std::vector<GalaxyTreeCase> all = cases::galaxy_tree_output_edge_cases();
  for (int batch : {2, 100})
    for (const GalaxyTreeCase& c : cases::galaxy_tree_output_model_cases(batch)) all.push_back(c);
  return all;
}

using GalaxyTreeOutputParity = test::CudaTest;

TEST_F(GalaxyTreeOutputParity, ForwardAndBackward) {
  uint64_t seed = 21;
  for (const GalaxyTreeCase& c : all_cases()) {
    const GalaxyTreeLayout t = c.tree;
    const Shape shape = c.x();
    const Tensor x = test::uniform_tensor(shape, seed++, -1.0f, 2.0f);
    Tensor y(shape);
    dispatch::galaxy_tree_forward(t, x, y);
    const Tensor dy = test::uniform_tensor(shape, seed++);
    expect_parity(cases::describe(c) + ", forward", {x}, {written("y", shape)},
                  [t](TensorList& in, TensorList& out) { dispatch::galaxy_tree_forward(t, in[0], out[0]); });
    expect_parity(
        cases::describe(c) + ", backward", {x, y, dy}, {written("dx", shape)},
        [t](TensorList& in, TensorList& out) { dispatch::galaxy_tree_backward(t, in[0], in[1], in[2], out[0]); });
  }
}

}  // namespace
}  // namespace nebula
