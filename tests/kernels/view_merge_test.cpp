// Joining the views' features: a known case of each merge and a
// double-precision gradient check on every edge case.
#include "kernels/view_merge.h"

#include "tests/cases/view_merge_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

// Two views of two images, two features: rows view0-image0, view0-image1, view1-image0, view1-image1.
const Vec kRows = {1, 2, 3, 4, 5, 6, 7, 8};

TEST(ViewMergeForward, ConcatenatesEachImagesViewsInOrder) {
  Vec y = test::garbage(8);
  ref::view_merge_forward<double>({ViewMerge::Concat, 2, 2, 2}, kRows.data(), y.data());
  EXPECT_EQ(y, (Vec{1, 2, 5, 6, 3, 4, 7, 8}));
}

TEST(ViewMergeForward, AveragesEachImagesViews) {
  Vec y = test::garbage(4);
  ref::view_merge_forward<double>({ViewMerge::Mean, 2, 2, 2}, kRows.data(), y.data());
  EXPECT_EQ(y, (Vec{3, 4, 5, 6}));
}

void check_merge(const cases::ViewMergeCase& c, unsigned seed) {
  std::mt19937 rng(seed);
  Vec x = test::uniform(numel(c.x()), rng);
  const Vec r = test::uniform(numel(c.y()), rng);
  auto objective = [&] {
    Vec y = test::garbage(r.size());
    ref::view_merge_forward(c.p, x.data(), y.data());
    return test::dot(y, r);
  };
  Vec dx = test::garbage(x.size());
  ref::view_merge_backward(c.p, r.data(), dx.data());
  test::GradientChecker().check(cases::describe(c) + " dx", x, dx, objective);
}

TEST(ViewMergeGrad, EdgeCases) {
  unsigned seed = 1;
  for (const cases::ViewMergeCase& c : cases::view_merge_edge_cases()) check_merge(c, seed++);
}

}  // namespace
}  // namespace nebula
