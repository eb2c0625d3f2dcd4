// The views on the GPU against the CPU: every case of the table (the model
// layers at batch 2), forward and backward. Exact views copy values, so they
// must be equal; the 45-degree taps sum four products, so may differ in the
// last bits, as may the backward's sums of several views.
#include "engine/dispatch.h"
#include "engine/view_tables.h"
#include "tests/cases/views_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::TensorList;
using test::Tolerance;
using test::written;

using ViewsParity = test::CudaTest;

TEST_F(ViewsParity, EveryCase) {
  std::vector<cases::ViewsCase> all = cases::views_edge_cases();
  for (const cases::ViewsCase& c : cases::views_model_cases(2)) all.push_back(c);
  uint64_t seed = 1;
  for (const cases::ViewsCase& c : all) {
    auto tables = std::make_shared<ViewTables>(make_view_table(c.kind, c.in_size, c.out_size));
    const Tolerance forward = c.kind == ViewKind::Dieleman ? Tolerance{} : Tolerance::equal();
    expect_parity(cases::describe(c) + ", forward", {test::uniform_tensor(c.x(), seed)},
                  {written("y", c.y(), forward)},
                  [tables](TensorList& in, TensorList& out) { dispatch::views_forward(*tables, in[0], out[0]); });
    expect_parity(cases::describe(c) + ", backward", {test::uniform_tensor(c.y(), seed + 1)}, {written("dx", c.x())},
                  [tables](TensorList& in, TensorList& out) { dispatch::views_backward(*tables, in[0], out[0]); });
    seed += 2;
  }
}

}  // namespace
}  // namespace nebula
