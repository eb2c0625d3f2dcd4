// Global average pooling: a known case and double-precision gradient checks
// on the small cases of the op's table (tests/cases/global_avg_pool_cases.h).
#include "kernels/global_avg_pool.h"

#include "tests/cases/global_avg_pool_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

TEST(GlobalAvgPoolForward, KnownCase) {
  const Vec x = {1, 2, 3, 6, -1, -1, -1, -1, 0, 0, 0, 4};  // three planes of 4
  Vec y = test::garbage(3), dx = test::garbage(12);
  ref::global_avg_pool_forward(3, 4, x.data(), y.data());
  EXPECT_EQ(y, (Vec{3, -1, 1}));
  const Vec dy = {4, 8, -2};
  ref::global_avg_pool_backward(3, 4, dy.data(), dx.data());
  EXPECT_EQ(dx, (Vec{1, 1, 1, 1, 2, 2, 2, 2, -0.5, -0.5, -0.5, -0.5}));
}

void check_gap(const cases::GlobalAvgPoolCase& c, unsigned seed) {
  const int planes = c.planes(), spatial = c.spatial();
  std::mt19937 rng(seed);
  Vec x = test::uniform(int64_t(planes) * spatial, rng, c.low, c.high);
  const Vec r = test::uniform(planes, rng);
  auto objective = [&] {
    Vec y = test::garbage(planes);
    ref::global_avg_pool_forward(planes, spatial, x.data(), y.data());
    return test::dot(y, r);
  };
  Vec dx = test::garbage(x.size());
  ref::global_avg_pool_backward(planes, spatial, r.data(), dx.data());
  test::GradientChecker().check("global_avg_pool dx", x, dx, objective);
}

TEST(GlobalAvgPoolGrad, EdgeCasesOfTheTable) {
  unsigned seed = 1;
  for (const cases::GlobalAvgPoolCase& c : cases::global_avg_pool_edge_cases()) {
    if (int64_t(c.planes()) * c.spatial() > 5000) continue;  // each of n finite differences pools all n values
    SCOPED_TRACE(cases::describe(c));
    check_gap(c, seed++);
  }
}

}  // namespace
}  // namespace nebula
