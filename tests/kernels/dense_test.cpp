// Dense: a hand-computed forward, double-precision gradient checks of the
// reference, and the BLAS path against the reference.
#include "kernels/dense.h"

#include <limits>
#include <string>

#include "tests/cases/dense_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

TEST(DenseForward, HandComputed) {
  // x [2, 3], w [2, 3] (out x in), y = x w^T + b.
  const DenseParams p{2, 3, 2};
  const Vec x = {1, 2, 3, -1, 0, 2}, w = {1, 0, -1, 2, 1, 1}, b = {0.5, -1};
  Vec y(4);
  ref::dense_forward(p, x.data(), w.data(), b.data(), y.data());
  EXPECT_EQ(y, (Vec{1 - 3 + 0.5, 2 + 2 + 3 - 1, -1 - 2 + 0.5, -2 + 2 - 1}));
}

void check_dense_gradients(DenseParams p, bool with_bias, unsigned seed) {
  std::mt19937 rng(seed);
  Vec x = test::uniform(int64_t(p.batch) * p.in_features, rng);
  Vec w = test::uniform(int64_t(p.out_features) * p.in_features, rng);
  Vec b = test::uniform(p.out_features, rng);
  const Vec r = test::uniform(int64_t(p.batch) * p.out_features, rng);
  auto objective = [&] {
    Vec y = test::garbage(r.size());
    ref::dense_forward(p, x.data(), w.data(), with_bias ? b.data() : nullptr, y.data());
    return test::dot(y, r);
  };
  Vec dx = test::garbage(x.size()), dw = test::garbage(w.size()), db = test::garbage(b.size());
  ref::dense_backward_data(p, r.data(), w.data(), dx.data());
  ref::dense_backward_weight(p, x.data(), r.data(), dw.data(), with_bias ? db.data() : nullptr);
  test::GradientChecker checker;
  checker.check("dense dx", x, dx, objective);
  checker.check("dense dw", w, dw, objective);
  if (with_bias) checker.check("dense dbias", b, db, objective);
}

TEST(DenseGrad, EdgeCasesOfTheTable) {
  unsigned seed = 1;
  for (const cases::DenseCase& c : cases::dense_edge_cases()) {
    SCOPED_TRACE(cases::describe(c));
    check_dense_gradients(c.params(), /*with_bias=*/seed % 2 == 1, seed);
    ++seed;
  }
}

using test::FVec;
using test::random_floats;

void check_fast_dense(DenseParams p, unsigned seed) {
  std::mt19937 rng(seed);
  const size_t nx = size_t(p.batch) * p.in_features, nw = size_t(p.out_features) * p.in_features;
  const size_t ny = size_t(p.batch) * p.out_features;
  const FVec x = random_floats(nx, rng), w = random_floats(nw, rng), b = random_floats(p.out_features, rng);
  const FVec dy = random_floats(ny, rng);
  const float nan = std::numeric_limits<float>::quiet_NaN();  // every output must be overwritten
  FVec y_ref(ny), y_fast(ny, nan), dx_ref(nx), dx_fast(nx, nan), dw_ref(nw), dw_fast(nw, nan);
  FVec db_ref(p.out_features), db_fast(p.out_features, nan);
  ref::dense_forward(p, x.data(), w.data(), b.data(), y_ref.data());
  cpu::dense_forward(p, x.data(), w.data(), b.data(), y_fast.data());
  test::expect_fast_matches_reference(y_fast, y_ref, "dense forward");
  ref::dense_forward<float>(p, x.data(), w.data(), nullptr, y_ref.data());
  cpu::dense_forward(p, x.data(), w.data(), nullptr, y_fast.data());
  test::expect_fast_matches_reference(y_fast, y_ref, "dense forward without bias");
  ref::dense_backward_data(p, dy.data(), w.data(), dx_ref.data());
  cpu::dense_backward_data(p, dy.data(), w.data(), dx_fast.data());
  test::expect_fast_matches_reference(dx_fast, dx_ref, "dense backward data");
  ref::dense_backward_weight(p, x.data(), dy.data(), dw_ref.data(), db_ref.data());
  cpu::dense_backward_weight(p, x.data(), dy.data(), dw_fast.data(), db_fast.data());
  test::expect_fast_matches_reference(dw_fast, dw_ref, "dense backward weight dw");
  test::expect_fast_matches_reference(db_fast, db_ref, "dense backward weight dbias");
}

class DenseFast : public ::testing::TestWithParam<int> {};  // the batch size

TEST_P(DenseFast, OddShapes) { check_fast_dense({GetParam(), 13, 7}, 5); }
TEST_P(DenseFast, Wide) { check_fast_dense({GetParam(), 300, 65}, 6); }
TEST_P(DenseFast, SingleOutput) { check_fast_dense({GetParam(), 33, 1}, 7); }

INSTANTIATE_TEST_SUITE_P(Batch, DenseFast, ::testing::Values(1, 7));

}  // namespace
}  // namespace nebula
