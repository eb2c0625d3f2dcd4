// Relu and sigmoid: known values, in-place use, and double-precision gradient checks.
#include "kernels/activation.h"

#include <cmath>

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

TEST(ReluGrad, AwayFromTheKink) {
  std::mt19937 rng(1);
  check_activation("relu dx", test::away_from_zero(257, rng), ref::relu_forward<double>, ref::relu_backward<double>, 2);
}

TEST(SigmoidGrad, ModerateAndSaturating) {
  std::mt19937 rng(3);
  Vec x = test::uniform(255, rng, -6.0, 6.0);
  x.push_back(-15.0);
  x.push_back(15.0);
  check_activation("sigmoid dx", x, ref::sigmoid_forward<double>, ref::sigmoid_backward<double>, 4);
}

}  // namespace
}  // namespace nebula
