// BatchNorm2d: statistics and running-average updates on known values, the
// channel layout, and double-precision gradient checks in train and eval mode
// for the input, gamma and beta on the small cases of the op's table
// (tests/cases/batchnorm2d_cases.h).
#include "kernels/batchnorm2d.h"

#include <cmath>

#include "tests/cases/batchnorm2d_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

TEST(BatchNorm2dForward, TrainStatisticsAndUnbiasedRunningVariance) {
  BatchNormParams p;
  p.batch = 2, p.channels = 1, p.spatial = 2;
  const Vec x = {1, 2, 3, 6};  // mean 3, biased variance 14/4, unbiased 14/3
  const Vec gamma = {2}, beta = {0.5};
  Vec y(4), mean(1), invstd(1), running_mean = {1.0}, running_var = {2.0};
  ref::batchnorm2d_forward_train(p, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), invstd.data(),
                                 running_mean.data(), running_var.data());
  const double m = p.momentum;  // 0.1f as a double
  const double expected_invstd = 1.0 / std::sqrt(3.5 + double(p.eps));
  EXPECT_DOUBLE_EQ(mean[0], 3.0);
  EXPECT_DOUBLE_EQ(invstd[0], expected_invstd);
  EXPECT_DOUBLE_EQ(running_mean[0], (1 - m) * 1.0 + m * 3.0);
  EXPECT_DOUBLE_EQ(running_var[0], (1 - m) * 2.0 + m * 14.0 / 3.0);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], 2 * (x[i] - 3) * expected_invstd + 0.5, 1e-12) << i;
}

TEST(BatchNorm2dForward, ChannelsAreNormalizedSeparately) {
  // [N=2, C=2, spatial=3]: channel 1 is channel 0 times 10 plus 100.
  BatchNormParams p;
  p.batch = 2, p.channels = 2, p.spatial = 3;
  const Vec x = {1, 2, 3, 110, 120, 130,  //
                 4, 5, 9, 140, 150, 190};
  const Vec gamma = {1, 1}, beta = {0, 0};
  Vec y(12), mean(2), invstd(2), running_mean(2, 0.0), running_var(2, 1.0);
  ref::batchnorm2d_forward_train(p, x.data(), gamma.data(), beta.data(), y.data(), mean.data(), invstd.data(),
                                 running_mean.data(), running_var.data());
  EXPECT_DOUBLE_EQ(mean[0], 4.0);
  EXPECT_DOUBLE_EQ(mean[1], 140.0);
  // Per channel, y has mean 0 and (biased) variance var / (var + eps), just under 1.
  for (int c = 0; c < 2; ++c) {
    double sum = 0, sq = 0;
    for (int n = 0; n < 2; ++n)
      for (int i = 0; i < 3; ++i) {
        double v = y[(n * 2 + c) * 3 + i];
        sum += v, sq += v * v;
      }
    EXPECT_NEAR(sum / 6, 0.0, 1e-12) << c;
    EXPECT_NEAR(sq / 6, 1.0, 1e-5) << c;
  }
  // Same shape of data, so after normalization the channels coincide.
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(y[(n * 2 + 0) * 3 + i], y[(n * 2 + 1) * 3 + i], 1e-4);
}

TEST(BatchNorm2dForward, EvalUsesRunningStatistics) {
  BatchNormParams p;
  p.batch = 1, p.channels = 2, p.spatial = 2;
  const Vec x = {1, 3, -1, 5}, gamma = {2, -1}, beta = {1, 0}, running_mean = {2, 1}, running_var = {4, 0.25};
  Vec y(4);
  ref::batchnorm2d_forward_eval(p, x.data(), gamma.data(), beta.data(), running_mean.data(), running_var.data(),
                                y.data());
  const double s0 = 1 / std::sqrt(4 + double(p.eps)), s1 = 1 / std::sqrt(0.25 + double(p.eps));
  EXPECT_NEAR(y[0], 2 * (1 - 2) * s0 + 1, 1e-12);
  EXPECT_NEAR(y[1], 2 * (3 - 2) * s0 + 1, 1e-12);
  EXPECT_NEAR(y[2], -1 * (-1 - 1) * s1, 1e-12);
  EXPECT_NEAR(y[3], -1 * (5 - 1) * s1, 1e-12);
}

void check_batchnorm_gradients(BatchNormParams p, bool training, unsigned seed) {
  std::mt19937 rng(seed);
  const int64_t n = int64_t(p.batch) * p.channels * p.spatial;
  Vec x = test::uniform(n, rng, -2.0, 3.0), gamma = test::uniform(p.channels, rng, 0.5, 1.5);
  Vec beta = test::uniform(p.channels, rng);
  const Vec r = test::uniform(n, rng);
  const Vec running_mean = test::uniform(p.channels, rng), running_var = test::uniform(p.channels, rng, 0.5, 2.0);
  Vec save_mean(p.channels), save_invstd(p.channels);
  auto forward = [&](Vec& y) {
    if (training) {
      Vec rm = running_mean, rv = running_var;  // fresh copies: the update must not leak between calls
      ref::batchnorm2d_forward_train(p, x.data(), gamma.data(), beta.data(), y.data(), save_mean.data(),
                                     save_invstd.data(), rm.data(), rv.data());
    } else {
      ref::batchnorm2d_forward_eval(p, x.data(), gamma.data(), beta.data(), running_mean.data(), running_var.data(),
                                    y.data());
      for (int c = 0; c < p.channels; ++c) {
        save_mean[c] = running_mean[c];
        save_invstd[c] = 1.0 / std::sqrt(running_var[c] + double(p.eps));
      }
    }
  };
  auto objective = [&] {
    Vec y = test::garbage(n);
    forward(y);
    return test::dot(y, r);
  };
  Vec y = test::garbage(n), dx = test::garbage(n), dgamma = test::garbage(p.channels);
  Vec dbeta = test::garbage(p.channels);
  forward(y);
  ref::batchnorm2d_backward(p, training, x.data(), r.data(), gamma.data(), save_mean.data(), save_invstd.data(),
                            dx.data(), dgamma.data(), dbeta.data());
  test::GradientChecker checker;
  checker.check("batchnorm2d dx", x, dx, objective);
  checker.check("batchnorm2d dgamma", gamma, dgamma, objective);
  checker.check("batchnorm2d dbeta", beta, dbeta, objective);
}

// The table's shapes, eps and momentum; the values are the check's own (see the table's comment).
void check_edge_cases(bool training) {
  unsigned seed = training ? 1 : 1001;
  for (const cases::BatchNorm2dCase& c : cases::batchnorm2d_edge_cases()) {
    if (c.count() > 5000) continue;  // each of n finite differences normalizes all n values
    SCOPED_TRACE(cases::describe(c) + (training ? " (train)" : " (eval)"));
    check_batchnorm_gradients(c.params(), training, seed++);
  }
}

TEST(BatchNorm2dGrad, TrainOnTheEdgeCases) { check_edge_cases(true); }
TEST(BatchNorm2dGrad, EvalOnTheEdgeCases) { check_edge_cases(false); }

}  // namespace
}  // namespace nebula
