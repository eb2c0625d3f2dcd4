// Global average pooling: a known case and a double-precision gradient check.
#include "kernels/global_avg_pool.h"

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

void check_gap(int planes, int spatial, unsigned seed) {
  std::mt19937 rng(seed);
  Vec x = test::uniform(int64_t(planes) * spatial, rng);
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

TEST(GlobalAvgPoolGrad, OddPlanes) { check_gap(2 * 3, 5 * 7, 1); }
TEST(GlobalAvgPoolGrad, SinglePixel) { check_gap(4, 1, 2); }

}  // namespace
}  // namespace nebula
