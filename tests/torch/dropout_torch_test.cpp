// Dropout against PyTorch. The two draw their masks from different generators
// (torch's own, Nebula's Philox), so no test can ask for the same output. What
// is checked instead:
//  - the mask: Nebula's equals the one tools/make_torch_fixtures.py computes with
//    an independent Python port of Philox (the whole-network test relies on it);
//  - the math with the mask held: on the elements both torch and Nebula keep,
//    outputs and gradients are equal (same scale 1/(1-p)); elements Nebula drops
//    are 0 in the output and the gradient, as torch's dropped ones are;
//  - the kept fraction is 1-p for both, within 5 standard deviations;
//  - eval mode is the identity, as torch's.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/layers.h"
#include "engine/ops.h"
#include "tests/torch/torch_fixture.h"

namespace nebula {
namespace {

using torch_parity::fixture;
using torch_parity::variable;
using torch_parity::weighted_sum;

struct Run {
  std::vector<float> x, y, dx, dy, torch_y, torch_dx, reference_mask;
  float rate = 0;
};

Run run_case(const std::string& c) {
  const SafetensorsFile& f = fixture("torch_dropout");
  Run r;
  r.rate = std::stof(f.meta(c + ".rate"));
  const uint64_t seed = std::stoull(f.meta(c + ".seed"));
  const uint64_t offset = std::stoull(f.meta(c + ".offset"));
  Variable x = variable(f, c + ".x", true);
  Variable y = dropout(x, r.rate, seed, offset);
  Variable loss = weighted_sum(y, f.at(c + ".dy"));
  backward(loss);
  r.x = x.value().to_vector();
  r.y = y.value().to_vector();
  r.dx = x.grad().to_vector();
  r.dy = f.at(c + ".dy").to_vector();
  r.torch_y = f.at(c + ".torch_y").to_vector();
  r.torch_dx = f.at(c + ".torch_dx").to_vector();
  r.reference_mask = f.at(c + ".nebula_mask").to_vector();
  for (float v : r.x) EXPECT_NE(v, 0.0f) << "the fixture must hold no zeros: a zero output marks a drop";
  return r;
}

void check_mask(const std::string& c) {
  Run r = run_case(c);
  int64_t differ = 0;
  for (size_t i = 0; i < r.y.size(); ++i) differ += (r.y[i] != 0.0f) != (r.reference_mask[i] != 0.0f);
  EXPECT_EQ(differ, 0) << "Nebula's dropout mask differs from the Python Philox port at " << differ << " of "
                       << r.y.size() << " elements";
}

void check_math(const std::string& c) {
  Run r = run_case(c);
  int64_t both = 0;
  for (size_t i = 0; i < r.y.size(); ++i) {
    const bool kept = r.y[i] != 0.0f, torch_kept = r.torch_y[i] != 0.0f;
    if (!kept) {
      ASSERT_EQ(r.dx[i], 0.0f) << "a dropped element passed a gradient at " << i;
      continue;
    }
    // Kept by Nebula: y = x / (1 - p) and dx = dy / (1 - p), whatever torch drew.
    const float scale = 1.0f / (1.0f - r.rate);
    ASSERT_NEAR(r.y[i], r.x[i] * scale, 1e-6 * std::fabs(r.x[i] * scale)) << i;
    ASSERT_NEAR(r.dx[i], r.dy[i] * scale, 1e-6 * std::fabs(r.dy[i] * scale)) << i;
    if (torch_kept) {
      ++both;
      ASSERT_NEAR(r.y[i], r.torch_y[i], 1e-6 * std::fabs(r.torch_y[i])) << "output vs torch at " << i;
      ASSERT_NEAR(r.dx[i], r.torch_dx[i], 1e-6 * std::fabs(r.torch_dx[i])) << "gradient vs torch at " << i;
    }
  }
  // With 4096 elements and p <= 0.5, about a quarter or more are kept by both.
  EXPECT_GT(both, int64_t(r.y.size() / 8));
}

void check_fraction(const std::string& c) {
  Run r = run_case(c);
  double kept = 0, torch_kept = 0, n = double(r.y.size());
  for (size_t i = 0; i < r.y.size(); ++i) kept += r.y[i] != 0.0f, torch_kept += r.torch_y[i] != 0.0f;
  const double sigma = std::sqrt(r.rate * (1.0 - r.rate) / n);
  EXPECT_NEAR(kept / n, 1.0 - r.rate, 5 * sigma) << "Nebula";
  EXPECT_NEAR(torch_kept / n, 1.0 - r.rate, 5 * sigma) << "torch";
}

TEST(DropoutTorch, MaskMatchesPhiloxReferenceRate05) { check_mask("rate_0.5"); }
TEST(DropoutTorch, MaskMatchesPhiloxReferenceRate02) { check_mask("rate_0.2"); }
TEST(DropoutTorch, KeptValuesAndGradientsMatchRate05) { check_math("rate_0.5"); }
TEST(DropoutTorch, KeptValuesAndGradientsMatchRate02) { check_math("rate_0.2"); }
TEST(DropoutTorch, KeptFractionRate05) { check_fraction("rate_0.5"); }
TEST(DropoutTorch, KeptFractionRate02) { check_fraction("rate_0.2"); }

TEST(DropoutTorch, EvalModeIsIdentity) {
  const SafetensorsFile& f = fixture("torch_dropout");
  Dropout layer(0.5f);
  layer.eval();
  Variable x = variable(f, "rate_0.5.x");
  EXPECT_EQ(layer(x).value().to_vector(), x.value().to_vector());
}

}  // namespace
}  // namespace nebula
