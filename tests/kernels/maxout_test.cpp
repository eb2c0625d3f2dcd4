// Maxout: a known case (a tie goes to the first piece) and a double-precision
// gradient check on every edge case, away from ties.
#include "kernels/maxout.h"

#include "tests/cases/maxout_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

TEST(MaxoutForward, KnownCaseAndTies) {
  const Vec x = {1, 3, -2, 5, 4, 4};  // three groups of two
  Vec y = test::garbage(3), dx = test::garbage(6);
  ref::maxout_forward<double>(3, 2, x.data(), y.data());
  EXPECT_EQ(y, (Vec{3, 5, 4}));
  const Vec dy = {10, 20, 30};
  ref::maxout_backward<double>(3, 2, x.data(), dy.data(), dx.data());
  EXPECT_EQ(dx, (Vec{0, 10, 0, 20, 30, 0}));
}

void check_maxout(const cases::MaxoutCase& c, unsigned seed) {
  std::mt19937 rng(seed);
  Vec x = test::distinct(numel(c.x()), rng);  // ties are where maxout has no derivative
  const Vec r = test::uniform(numel(c.y()), rng);
  const int64_t groups = numel(c.y());
  auto objective = [&] {
    Vec y = test::garbage(r.size());
    ref::maxout_forward(groups, c.pieces, x.data(), y.data());
    return test::dot(y, r);
  };
  Vec dx = test::garbage(x.size());
  ref::maxout_backward(groups, c.pieces, x.data(), r.data(), dx.data());
  test::GradientChecker().check(cases::describe(c) + " dx", x, dx, objective);
}

TEST(MaxoutGrad, EdgeCases) {
  unsigned seed = 1;
  for (const cases::MaxoutCase& c : cases::maxout_edge_cases()) check_maxout(c, seed++);
}

}  // namespace
}  // namespace nebula
