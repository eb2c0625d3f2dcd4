// Mean squared error: known values and double-precision gradient checks on
// the small cases of the op's table (tests/cases/mse_cases.h).
#include "kernels/mse.h"

#include "base/error.h"
#include "engine/dispatch.h"
#include "tests/cases/mse_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

TEST(MseForward, KnownValues) {
  const Vec p = {1, 2, 3, 4}, t = {1, 0, 4, 8};  // squared errors 0, 4, 1, 16
  EXPECT_DOUBLE_EQ(ref::mse_forward<double>(4, p.data(), t.data()), 21.0 / 4);
  EXPECT_DOUBLE_EQ(ref::sum_squared_error<double>(4, p.data(), t.data()), 21.0);
  const std::vector<float> pf = {0.5f, 0.25f}, tf = {0.0f, 0.0f};
  EXPECT_FLOAT_EQ(ref::mse_forward<float>(2, pf.data(), tf.data()), (0.25f + 0.0625f) / 2);
  Vec dp(4);
  ref::mse_backward<double>(4, p.data(), t.data(), 2.0, dp.data());
  EXPECT_EQ(dp, (Vec{0, 2, -1, -4}));  // 2 * 2 (p - t) / 4
}

void check_mse_gradient(const cases::MseCase& c, unsigned seed) {
  const int64_t n = c.count();
  std::mt19937 rng(seed);
  Vec p = test::uniform(n, rng, -c.scale, c.scale);
  const Vec t = test::uniform(n, rng, 0.0, c.scale);
  const double r = 1.7;  // the loss is a scalar, so the objective is r * loss and dloss = r
  auto objective = [&] { return r * ref::mse_forward<double>(n, p.data(), t.data()); };
  Vec dp = test::garbage(n);
  ref::mse_backward<double>(n, p.data(), t.data(), r, dp.data());
  test::GradientChecker checker;
  checker.step *= c.scale;  // the loss is quadratic, so any step is exact but for rounding, which scales with p
  checker.check("mse dp", p, dp, objective);
}

TEST(MseLossGrad, PredictionsOnTheEdgeCases) {
  unsigned seed = 1;
  for (const cases::MseCase& c : cases::mse_edge_cases()) {
    if (c.count() > 5000) continue;  // each of n finite differences sums all n values
    SCOPED_TRACE(cases::describe(c));
    check_mse_gradient(c, seed++);
  }
}

}  // namespace
}  // namespace nebula

namespace nebula {
namespace {

// The RMSE meter's per-column reduction: sums[c] = sum over rows of (p - t)^2.
TEST(Mse, ColumnSquaredErrorSumsEachColumn) {
  Tensor p = Tensor::from_vector({3, 2}, {1.0f, 0.5f, 2.0f, 0.0f, -1.0f, 0.25f});
  Tensor t = Tensor::from_vector({3, 2}, {0.0f, 0.5f, 0.0f, 1.0f, 1.0f, 0.0f});
  Tensor sums({2});
  dispatch::column_squared_error(p, t, sums);
  EXPECT_EQ(sums.to_vector(), (std::vector<float>{1.0f + 4.0f + 4.0f, 0.0f + 1.0f + 0.0625f}));
  Tensor wrong({3});
  EXPECT_THROW(dispatch::column_squared_error(p, t, wrong), Error);
}

}  // namespace
}  // namespace nebula
