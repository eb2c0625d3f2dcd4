// Elementwise add and accumulate: known values and double-precision gradient
// checks on the small cases of the op's table (tests/cases/add_cases.h).
#include "kernels/add.h"

#include "tests/cases/add_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

TEST(AddForward, KnownValuesAndAccumulate) {
  const Vec a = {1, 2, 3}, b = {10, -20, 0.5};
  Vec y(3);
  ref::add_forward<double>(3, a.data(), b.data(), y.data());
  EXPECT_EQ(y, (Vec{11, -18, 3.5}));
  ref::accumulate<double>(3, a.data(), y.data());
  EXPECT_EQ(y, (Vec{12, -16, 6.5}));
  std::vector<float> f = {1, 2};
  ref::add_forward<float>(2, f.data(), f.data(), f.data());  // in place
  EXPECT_EQ(f, (std::vector<float>{2, 4}));
}

void check_add_gradients(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  Vec a = test::uniform(n, rng), b = test::uniform(n, rng);
  const Vec r = test::uniform(n, rng);
  auto objective = [&] {
    Vec y = test::garbage(n);
    ref::add_forward<double>(n, a.data(), b.data(), y.data());
    return test::dot(y, r);
  };
  // Backward of add is the identity on dy for both inputs; autograd sums it into
  // existing gradients with accumulate, checked here from zero.
  Vec da(n, 0.0), db(n, 0.0);
  ref::accumulate<double>(n, r.data(), da.data());
  ref::accumulate<double>(n, r.data(), db.data());
  test::GradientChecker checker;
  checker.check("add da", a, da, objective);
  checker.check("add db", b, db, objective);
}

TEST(AddGrad, BothInputsOnTheEdgeCases) {
  unsigned seed = 1;
  for (const cases::AddCase& c : cases::add_edge_cases()) {
    if (c.count() > 5000) continue;  // finite differences cost n sums of n values
    SCOPED_TRACE(cases::describe("add", c));
    check_add_gradients(c.count(), seed++);
  }
}

}  // namespace
}  // namespace nebula
