// Optimizer updates: a few steps of each rule against the same rule written out
// here in double, first steps worked by hand, and where Keras's and PyTorch's
// Adamax part ways.
#include "kernels/optimizer_update.h"

#include <cmath>

#include <gtest/gtest.h>

namespace nebula {
namespace {

using FVec = std::vector<float>;

// Gradients for three steps of three parameters; the middle one goes to zero.
const std::vector<FVec> kGrads = {{0.5f, -0.2f, 2.0f}, {0.3f, 0.0f, -1.0f}, {-0.1f, 0.0f, 0.05f}};
const FVec kStart = {1.0f, -0.5f, 0.25f};

void expect_close(const FVec& actual, const std::vector<double>& expected, const char* what) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], 1e-6 * std::max(1.0, std::abs(expected[i]))) << what << " [" << i << "]";
}

std::vector<double> run_adamax(const AdamaxParams& p, bool use_kernel, FVec* w_out = nullptr) {
  FVec w = kStart, m(3, 0.0f), u(3, 0.0f);
  std::vector<double> wd(kStart.begin(), kStart.end()), md(3, 0.0), ud(3, 0.0);
  for (size_t t = 1; t <= kGrads.size(); ++t) {
    if (use_kernel) ref::adamax_update(p, t, 3, w.data(), kGrads[t - 1].data(), m.data(), u.data());
    for (int i = 0; i < 3; ++i) {
      double g = kGrads[t - 1][i] + double(p.weight_decay) * wd[i];
      md[i] = p.beta1 * md[i] + (1 - double(p.beta1)) * g;
      double step_size = p.lr / (1 - std::pow(double(p.beta1), double(t)));
      if (p.eps_inside_max) {
        ud[i] = std::max(p.beta2 * ud[i], std::abs(g) + p.eps);
        wd[i] -= step_size * md[i] / ud[i];
      } else {
        ud[i] = std::max(p.beta2 * ud[i], std::abs(g));
        wd[i] -= step_size * md[i] / (ud[i] + p.eps);
      }
    }
  }
  if (w_out) *w_out = w;
  return wd;
}

TEST(AdamaxUpdate, KerasRuleFirstStepByHand) {
  // Step 1: m = (1-b1) g and u = |g|, and the bias correction cancels (1-b1):
  // w -= lr g / (|g| + eps), about lr in the direction of the gradient's sign.
  AdamaxParams p;
  p.lr = 0.01f;
  FVec w = kStart, m(3, 0.0f), u(3, 0.0f);
  ref::adamax_update(p, 1, 3, w.data(), kGrads[0].data(), m.data(), u.data());
  for (int i = 0; i < 3; ++i) {
    const double g = kGrads[0][i];
    EXPECT_NEAR(w[i], kStart[i] - 0.01 * g / (std::abs(g) + 1e-7), 1e-7) << i;
    EXPECT_NEAR(m[i], 0.1 * g, 1e-7) << i;
    EXPECT_FLOAT_EQ(u[i], std::abs(kGrads[0][i])) << i;
  }
}

TEST(AdamaxUpdate, KerasRuleThreeSteps) {
  AdamaxParams p;
  p.lr = 0.01f;
  FVec w;
  std::vector<double> expected = run_adamax(p, true, &w);
  expect_close(w, expected, "adamax keras");
}

TEST(AdamaxUpdate, TorchRuleDiffersWhereEpsMatters) {
  // Keras adds eps after the max, PyTorch inside it, where beta2 then decays it
  // too: once the max keeps the decayed history, PyTorch's denominator is
  // beta2 (u + eps) against Keras's beta2 u + eps. A large eps and a small beta2
  // make that visible; at step 1 both reduce to |g| + eps.
  AdamaxParams keras, torch;
  keras.lr = torch.lr = 0.01f;
  keras.eps = torch.eps = 0.5f;
  keras.beta2 = torch.beta2 = 0.5f;
  torch.eps_inside_max = true;
  FVec wk, wt;
  expect_close(wk, run_adamax(keras, true, &wk), "adamax keras, eps 0.5");
  expect_close(wt, run_adamax(torch, true, &wt), "adamax torch, eps 0.5");
  for (int i = 0; i < 3; ++i) EXPECT_GT(std::abs(wk[i] - wt[i]), 1e-4) << i;
  FVec wk1 = kStart, wt1 = kStart, m(3, 0.0f), u(3, 0.0f);
  ref::adamax_update(keras, 1, 3, wk1.data(), kGrads[0].data(), m.data(), u.data());
  m.assign(3, 0.0f), u.assign(3, 0.0f);
  ref::adamax_update(torch, 1, 3, wt1.data(), kGrads[0].data(), m.data(), u.data());
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(wk1[i], wt1[i]) << i;
}

TEST(AdamaxUpdate, WeightDecay) {
  AdamaxParams p;
  p.lr = 0.01f;
  p.weight_decay = 0.1f;
  FVec w;
  expect_close(w, run_adamax(p, true, &w), "adamax weight decay");
  FVec plain;
  AdamaxParams q = p;
  q.weight_decay = 0.0f;
  run_adamax(q, true, &plain);
  EXPECT_NE(w, plain);
}

TEST(AdamUpdate, FirstStepByHandAndThreeSteps) {
  AdamParams p;
  p.lr = 0.01f;
  FVec w = kStart, m(3, 0.0f), v(3, 0.0f);
  ref::adam_update(p, 1, 3, w.data(), kGrads[0].data(), m.data(), v.data());
  // Step 1: both bias corrections cancel, mhat = g, vhat = g^2: w -= lr g / (|g| + eps).
  for (int i = 0; i < 3; ++i) {
    const double g = kGrads[0][i];
    EXPECT_NEAR(w[i], kStart[i] - 0.01 * g / (std::abs(g) + 1e-8), 1e-7) << i;
  }
  std::vector<double> wd(kStart.begin(), kStart.end()), md(3, 0.0), vd(3, 0.0);
  w = kStart, m.assign(3, 0.0f), v.assign(3, 0.0f);
  for (size_t t = 1; t <= kGrads.size(); ++t) {
    ref::adam_update(p, t, 3, w.data(), kGrads[t - 1].data(), m.data(), v.data());
    for (int i = 0; i < 3; ++i) {
      double g = kGrads[t - 1][i];
      md[i] = p.beta1 * md[i] + (1 - double(p.beta1)) * g;
      vd[i] = p.beta2 * vd[i] + (1 - double(p.beta2)) * g * g;
      double mhat = md[i] / (1 - std::pow(double(p.beta1), double(t)));
      double vhat = vd[i] / (1 - std::pow(double(p.beta2), double(t)));
      wd[i] -= p.lr * mhat / (std::sqrt(vhat) + p.eps);
    }
  }
  expect_close(w, wd, "adam");
}

TEST(SgdUpdate, MomentumByHand) {
  SgdParams p;
  p.lr = 0.1f;
  p.momentum = 0.9f;
  FVec w = {1.0f}, v = {0.0f};
  const FVec g1 = {0.5f}, g2 = {-1.0f};
  ref::sgd_update(p, 1, w.data(), g1.data(), v.data());
  EXPECT_FLOAT_EQ(v[0], 0.5f);          // v = 0.9 * 0 + 0.5
  EXPECT_FLOAT_EQ(w[0], 1.0f - 0.05f);  // w -= 0.1 * 0.5
  ref::sgd_update(p, 1, w.data(), g2.data(), v.data());
  EXPECT_FLOAT_EQ(v[0], 0.45f - 1.0f);    // v = 0.9 * 0.5 - 1
  EXPECT_FLOAT_EQ(w[0], 0.95f + 0.055f);  // w -= 0.1 * (-0.55)
}

TEST(SgdUpdate, NesterovByHand) {
  SgdParams p;
  p.lr = 0.1f;
  p.momentum = 0.9f;
  p.nesterov = true;
  FVec w = {1.0f}, v = {0.0f};
  const FVec g1 = {0.5f}, g2 = {-1.0f};
  ref::sgd_update(p, 1, w.data(), g1.data(), v.data());
  EXPECT_FLOAT_EQ(v[0], 0.5f);                          // v = 0.9 * 0 + 0.5
  EXPECT_FLOAT_EQ(w[0], 1.0f - 0.1f * (0.5f + 0.45f));  // w -= lr (g + mu v)
  ref::sgd_update(p, 1, w.data(), g2.data(), v.data());
  EXPECT_FLOAT_EQ(v[0], -0.55f);                                   // v = 0.9 * 0.5 - 1
  EXPECT_FLOAT_EQ(w[0], 0.905f - 0.1f * (-1.0f + 0.9f * -0.55f));  // w -= 0.1 * (-1.495)
}

TEST(AdamWUpdate, DecaysTheWeightBeforeAnAdamStepOnTheBareGradient) {
  // Step 1 of AdamW is w (1 - lr wd) - lr g / (|g| + eps): the decay does not
  // enter the moments, as Adam's L2 term would.
  AdamParams p;
  p.lr = 0.01f;
  p.weight_decay = 0.5f;
  p.decoupled_weight_decay = true;
  FVec w = kStart, m(3, 0.0f), v(3, 0.0f);
  ref::adam_update(p, 1, 3, w.data(), kGrads[0].data(), m.data(), v.data());
  for (int i = 0; i < 3; ++i) {
    const double g = kGrads[0][i];
    EXPECT_NEAR(w[i], kStart[i] * (1 - 0.005) - 0.01 * g / (std::abs(g) + 1e-8), 1e-7) << i;
    EXPECT_NEAR(m[i], 0.1 * g, 1e-7) << i;
  }
}

TEST(SgdUpdate, PlainAndWeightDecay) {
  SgdParams p;
  p.lr = 0.5f;
  p.weight_decay = 0.1f;
  FVec w = {2.0f, -4.0f}, v = {0.0f, 0.0f};
  const FVec g = {1.0f, 1.0f};
  ref::sgd_update(p, 2, w.data(), g.data(), v.data());
  EXPECT_FLOAT_EQ(w[0], 2.0f - 0.5f * (1.0f + 0.2f));
  EXPECT_FLOAT_EQ(w[1], -4.0f - 0.5f * (1.0f - 0.4f));
}

}  // namespace
}  // namespace nebula
