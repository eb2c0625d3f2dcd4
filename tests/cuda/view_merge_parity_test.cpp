// Joining the views' features on the GPU against the CPU: every case of the
// table (the model layers at batch 2). Concatenation moves values, so must be
// equal; the mean and its gradient divide, in the same order on both.
#include "engine/dispatch.h"
#include "tests/cases/view_merge_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::TensorList;
using test::Tolerance;
using test::written;

using ViewMergeParity = test::CudaTest;

TEST_F(ViewMergeParity, EveryCase) {
  std::vector<cases::ViewMergeCase> all = cases::view_merge_edge_cases();
  for (const cases::ViewMergeCase& c : cases::view_merge_model_cases(2)) all.push_back(c);
  uint64_t seed = 1;
  for (const cases::ViewMergeCase& c : all) {
    const ViewMergeParams p = c.p;
    const Tolerance exact = p.merge == ViewMerge::Concat ? Tolerance::equal() : Tolerance{};
    expect_parity(cases::describe(c) + ", forward", {test::uniform_tensor(c.x(), seed)}, {written("y", c.y(), exact)},
                  [p](TensorList& in, TensorList& out) { dispatch::view_merge_forward(p, in[0], out[0]); });
    expect_parity(cases::describe(c) + ", backward", {test::uniform_tensor(c.y(), seed + 1)},
                  {written("dx", c.x(), exact)},
                  [p](TensorList& in, TensorList& out) { dispatch::view_merge_backward(p, in[0], out[0]); });
    seed += 2;
  }
}

}  // namespace
}  // namespace nebula
