// The decision-tree output: known values, the tree obeyed, the layout checks,
// and double-precision gradient checks through parents and normalisation on the
// small cases of the op's table (tests/cases/galaxy_tree_output_cases.h).
#include "kernels/galaxy_tree_output.h"

#include <cmath>

#include "base/error.h"
#include "tests/cases/galaxy_tree_output_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

// The table's small tree: Q1 (3 answers), Q2 (2, after Q1's second), Q7 (3, after Q1's first).
GalaxyTreeLayout small_tree() { return cases::small_galaxy_tree(); }

TEST(GalaxyTreeOutput, KnownValues) {
  const GalaxyTreeLayout t = small_tree();
  const Vec x = {1, 3, -2, 0.5, 1.5, 2, 0, 2};
  Vec y = test::garbage(8);
  ref::galaxy_tree_forward<double>(t, 1, x.data(), y.data());
  // Q1: clipped (1, 3, 0) over 4; Q2: (0.5, 1.5) over 2 times y[1] = 0.75; Q7: (2, 0, 2) over 4 times y[0].
  const Vec expected = {0.25, 0.75, 0, 0.1875, 0.5625, 0.125, 0, 0.125};
  for (int j = 0; j < 8; ++j) EXPECT_NEAR(y[j], expected[j], 1e-12) << j;
}

TEST(GalaxyTreeOutput, PredictionsObeyTheTree) {
  const GalaxyTreeLayout t = small_tree();
  std::mt19937 rng(7);
  const int rows = 50;
  std::vector<float> x(rows * 8), y(rows * 8, std::nanf(""));
  for (float& v : x) v = std::uniform_real_distribution<float>(-3, 3)(rng);
  ref::galaxy_tree_forward<float>(t, rows, x.data(), y.data());
  for (int r = 0; r < rows; ++r) {
    const float* p = &y[r * 8];
    for (int j = 0; j < 8; ++j) EXPECT_GE(p[j], 0.0f);
    const float q1 = p[0] + p[1] + p[2], q2 = p[3] + p[4], q7 = p[5] + p[6] + p[7];
    // Also where a question's answers all clip to zero: it splits its parent evenly.
    EXPECT_NEAR(q1, 1.0f, 1e-6f) << r;
    EXPECT_NEAR(q2, p[1], 1e-6f) << r;
    EXPECT_NEAR(q7, p[0], 1e-6f) << r;
  }
}

TEST(GalaxyTreeOutput, AQuestionClippedToZeroSplitsItsParentEvenly) {
  const GalaxyTreeLayout t = small_tree();
  // Q1 (1, 3, 0) as above; Q2 all negative; Q7 all zero.
  const std::vector<double> x = {1, 3, 0, -1, -2, 0, 0, 0};
  std::vector<double> y(8);
  ref::galaxy_tree_forward<double>(t, 1, x.data(), y.data());
  EXPECT_NEAR(y[3], 0.75 / 2, 1e-12);
  EXPECT_NEAR(y[4], 0.75 / 2, 1e-12);
  for (int j = 5; j < 8; ++j) EXPECT_NEAR(y[j], 0.25 / 3, 1e-12) << j;
}

void check_galaxy_tree_gradient(const GalaxyTreeLayout& t, int rows, unsigned seed) {
  std::mt19937 rng(seed);
  Vec x = test::away_from_zero(size_t(rows) * t.columns, rng);
  x[0] = x[1] = x[2] = 0.6;  // one row whose Q1 is sure to be live, so its children's gradients are not all zero
  const Vec r = test::uniform(x.size(), rng);
  auto objective = [&] {
    Vec y = test::garbage(x.size());
    ref::galaxy_tree_forward<double>(t, rows, x.data(), y.data());
    return test::dot(y, r);
  };
  Vec y = test::garbage(x.size()), dx = test::garbage(x.size());
  ref::galaxy_tree_forward<double>(t, rows, x.data(), y.data());
  ref::galaxy_tree_backward<double>(t, rows, x.data(), y.data(), r.data(), dx.data());
  test::GradientChecker checker;
  EXPECT_EQ(checker.check("galaxy tree dx", x, dx, objective), 0);
}

TEST(GalaxyTreeOutput, GradientCheckOnTheEdgeCases) {
  unsigned seed = 11;
  for (const cases::GalaxyTreeCase& c : cases::galaxy_tree_output_edge_cases()) {
    if (int64_t(c.rows) * c.tree.columns > 5000) continue;  // each of n finite differences runs every row
    SCOPED_TRACE(cases::describe(c));
    check_galaxy_tree_gradient(c.tree, c.rows, seed++);
  }
}

TEST(GalaxyTreeOutput, FloatMatchesDouble) {
  const GalaxyTreeLayout t = small_tree();
  const int rows = 300;  // several threads' worth of rows
  std::mt19937 rng(3);
  const test::FVec x = test::random_floats(rows * 8, rng), dy = test::random_floats(rows * 8, rng);
  test::FVec y(x.size(), std::nanf("")), dx(x.size(), std::nanf(""));
  ref::galaxy_tree_forward<float>(t, rows, x.data(), y.data());
  ref::galaxy_tree_backward<float>(t, rows, x.data(), y.data(), dy.data(), dx.data());
  Vec xd(x.begin(), x.end()), dyd(dy.begin(), dy.end()), yd(x.size()), dxd(x.size());
  ref::galaxy_tree_forward<double>(t, rows, xd.data(), yd.data());
  ref::galaxy_tree_backward<double>(t, rows, xd.data(), yd.data(), dyd.data(), dxd.data());
  test::expect_near_all(y, yd, 1e-5, 1e-6, "y");
  test::expect_near_all(dx, dxd, 1e-4, 1e-4, "dx");
}

TEST(GalaxyTreeOutput, LayoutChecksNameTheProblem) {
  GalaxyTreeLayout t = small_tree();
  EXPECT_NO_THROW(validate(t));
  EXPECT_NO_THROW(validate(cases::kaggle_galaxy_tree()));
  t.parent[1] = 5;  // Q2 led to by an answer of Q7, which comes after it
  try {
    validate(t);
    ADD_FAILURE() << "a parent after its child was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("comes before the question of its parent answer"), std::string::npos)
        << e.what();
  }
  t = small_tree();
  t.question_of[4] = 3;
  EXPECT_THROW(validate(t), Error);
  t = small_tree();
  t.columns = 65;
  EXPECT_THROW(validate(t), Error);
}

}  // namespace
}  // namespace nebula
