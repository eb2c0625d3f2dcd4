// Dropout: the keep rate and scale, mask reproducibility from (seed, offset), and
// gradient checks with the mask fixed by the seed, on the small cases of the
// op's table (tests/cases/dropout_cases.h) at each of its rates, seeds and offsets.
#include "kernels/dropout.h"

#include <cmath>

#include "base/error.h"
#include "base/philox.h"
#include "tests/cases/dropout_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

TEST(DropoutForward, KeepsAboutOneMinusRateAndScales) {
  const int64_t n = 100000;
  const float rate = 0.3f;
  const std::vector<float> x(n, 2.0f);
  std::vector<float> y(n);
  ref::dropout_forward<float>(n, rate, 42, 0, x.data(), y.data());
  int64_t kept = 0;
  for (float v : y) {
    if (v != 0.0f) {
      ++kept;
      EXPECT_FLOAT_EQ(v, 2.0f / 0.7f);
    }
  }
  // Binomial(n, 0.7): standard deviation ~145, so 1% (1000) is ~7 sigma.
  EXPECT_NEAR(double(kept) / n, 0.7, 0.01);
}

TEST(DropoutForward, RateZeroIsIdentityAndBadRatesThrow) {
  const std::vector<float> x = {1, -2, 3};
  std::vector<float> y(3);
  ref::dropout_forward<float>(3, 0.0f, 7, 0, x.data(), y.data());
  EXPECT_EQ(y, x);
  EXPECT_THROW(ref::dropout_forward<float>(3, 1.0f, 7, 0, x.data(), y.data()), Error);
  EXPECT_THROW(ref::dropout_forward<float>(3, -0.1f, 7, 0, x.data(), y.data()), Error);
}

TEST(DropoutForward, MaskIsAFunctionOfSeedAndOffset) {
  const int64_t n = 1000;
  const Vec x(n + 10, 1.0);
  Vec a(n + 10), b(n), c(n + 10);
  ref::dropout_forward<double>(n + 10, 0.5f, 9, 0, x.data(), a.data());
  ref::dropout_forward<double>(n, 0.5f, 9, 10, x.data(), b.data());  // the same stream, 10 elements on
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(b[i], a[i + 10]) << i;
  ref::dropout_forward<double>(n + 10, 0.5f, 10, 0, x.data(), c.data());
  int differ = 0;
  for (int64_t i = 0; i < n + 10; ++i) differ += a[i] != c[i];
  EXPECT_GT(differ, 300);  // another seed, another mask (about half differ)
  // Element i is kept exactly when philox_uniform(seed, offset + i) >= rate.
  for (int64_t i = 0; i < 20; ++i) EXPECT_EQ(a[i] != 0.0, philox_uniform(9, i) >= 0.5f) << i;
}

void check_dropout_gradient(int64_t n, float rate, uint64_t seed, uint64_t offset, unsigned values) {
  std::mt19937 rng(values);
  Vec x = test::uniform(n, rng);
  const Vec r = test::uniform(n, rng);
  auto objective = [&] {
    Vec y = test::garbage(n);
    ref::dropout_forward<double>(n, rate, seed, offset, x.data(), y.data());
    return test::dot(y, r);
  };
  Vec dx = test::garbage(n);
  ref::dropout_backward<double>(n, rate, seed, offset, r.data(), dx.data());
  // Dropped elements get no gradient, kept ones dy / (1 - rate), as the mask says.
  int64_t dropped = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool kept = philox_uniform(seed, offset + uint64_t(i)) >= rate;
    if (!kept) {
      ++dropped;
      EXPECT_EQ(dx[i], 0.0) << i;
    } else {
      EXPECT_NEAR(dx[i], r[i] / (1.0 - rate), 1e-7) << i;  // rate is a float, so the scale rounds
    }
  }
  // A draw that drops everything leaves nothing for finite differences to check.
  if (dropped < n) {
    test::GradientChecker().check("dropout dx", x, dx, objective);
  }
  // About n rate dropped: within 6 standard deviations of the binomial, and none at rate 0.
  const double spread = 6.0 * std::sqrt(double(n) * rate * (1.0 - rate)) + 1.0;
  if (n >= 100) {
    EXPECT_NEAR(double(dropped), double(n) * rate, spread);
  }
  if (rate == 0.0f) {
    EXPECT_EQ(dropped, 0);
  }
}

TEST(DropoutGrad, MaskFixedBySeedOnTheEdgeCases) {
  unsigned values = 1;
  for (const cases::DropoutCase& c : cases::dropout_edge_cases()) {
    if (c.count() > 5000) continue;  // each of n finite differences runs all n values
    for (float rate : cases::dropout_rates())
      for (uint64_t seed : cases::dropout_seeds())
        for (uint64_t offset : cases::dropout_offsets()) {
          SCOPED_TRACE(cases::describe(c, rate, seed, offset));
          check_dropout_gradient(c.count(), rate, seed, offset, values++);
        }
  }
}

}  // namespace
}  // namespace nebula
