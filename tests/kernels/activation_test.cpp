// Relu and sigmoid: known values, in-place use, and double-precision gradient
// checks on the small cases of the op's table (tests/cases/activation_cases.h).
#include "kernels/activation.h"

#include <cmath>

#include "tests/cases/activation_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

TEST(ReluForward, KnownValues) {
  const Vec x = {-2, -0.0, 0, 0.5, 3};
  Vec y(5), dx(5);
  ref::relu_forward<double>(5, x.data(), y.data());
  EXPECT_EQ(y, (Vec{0, 0, 0, 0.5, 3}));
  const Vec dy = {1, 2, 3, 4, 5};
  ref::relu_backward<double>(5, y.data(), dy.data(), dx.data());
  EXPECT_EQ(dx, (Vec{0, 0, 0, 4, 5}));  // the kink at 0 passes no gradient
}

TEST(ReluForward, InPlace) {
  std::vector<float> v = {-1, 2, -3, 4, 5, -6, 7, -8, 9};
  ref::relu_forward<float>(v.size(), v.data(), v.data());
  EXPECT_EQ(v, (std::vector<float>{0, 2, 0, 4, 5, 0, 7, 0, 9}));
  std::vector<float> g(v.size(), 1.5f);
  ref::relu_backward<float>(g.size(), v.data(), g.data(), g.data());
  EXPECT_EQ(g, (std::vector<float>{0, 1.5, 0, 1.5, 1.5, 0, 1.5, 0, 1.5}));
}

TEST(SigmoidForward, KnownValuesAndExtremes) {
  const Vec x = {0, 2, -2, 800, -800};
  Vec y(5);
  ref::sigmoid_forward<double>(5, x.data(), y.data());
  EXPECT_DOUBLE_EQ(y[0], 0.5);
  EXPECT_DOUBLE_EQ(y[1], 1 / (1 + std::exp(-2.0)));
  EXPECT_DOUBLE_EQ(y[1] + y[2], 1.0);
  EXPECT_EQ(y[3], 1.0);  // no overflow to NaN at large |x|
  EXPECT_EQ(y[4], 0.0);
  std::vector<float> xf = {100.0f, -100.0f}, yf(2);
  ref::sigmoid_forward<float>(2, xf.data(), yf.data());
  EXPECT_EQ(yf[0], 1.0f);
  EXPECT_GE(yf[1], 0.0f);
  EXPECT_LT(yf[1], 1e-30f);
}

// Backward takes the forward output y, so the objective differentiates through y(x).
template <typename Forward, typename Backward>
void check_activation(const char* name, Vec x, Forward forward, Backward backward, unsigned seed) {
  std::mt19937 rng(seed);
  const Vec r = test::uniform(x.size(), rng);
  auto objective = [&] {
    Vec y = test::garbage(x.size());
    forward(int64_t(x.size()), x.data(), y.data());
    return test::dot(y, r);
  };
  Vec y = test::garbage(x.size()), dx = test::garbage(x.size());
  forward(int64_t(x.size()), x.data(), y.data());
  backward(int64_t(x.size()), y.data(), r.data(), dx.data());
  test::GradientChecker().check(name, x, dx, objective);
}

// Finite differences cost n forwards of n values: the cases up to a few thousand.
constexpr int64_t kLargestChecked = 5000;

TEST(ReluGrad, EdgeCasesAwayFromTheKink) {
  unsigned seed = 1;
  for (const cases::ActivationCase& c : cases::activation_edge_cases()) {
    if (c.count() > kLargestChecked) continue;
    SCOPED_TRACE(cases::describe("relu", c));
    std::mt19937 rng(seed);
    Vec x = test::away_from_zero(size_t(c.count()), rng);
    x[0] = std::abs(x[0]);  // one value past the kink, so a one-value case has a gradient to check
    check_activation("relu dx", x, ref::relu_forward<double>, ref::relu_backward<double>, seed + 1);
    seed += 2;
  }
}

TEST(SigmoidGrad, EdgeCasesModerateAndSaturating) {
  unsigned seed = 3;
  for (const cases::ActivationCase& c : cases::activation_edge_cases()) {
    if (c.count() > kLargestChecked) continue;
    SCOPED_TRACE(cases::describe("sigmoid", c));
    std::mt19937 rng(seed);
    Vec x = test::uniform(size_t(c.count()), rng, -6.0, 6.0);
    if (x.size() >= 3) x[1] = -15.0, x[2] = 15.0;  // saturating
    check_activation("sigmoid dx", x, ref::sigmoid_forward<double>, ref::sigmoid_backward<double>, seed + 1);
    seed += 2;
  }
}

}  // namespace
}  // namespace nebula
