// A Caffe-style gradient checker in double precision, plus the random inputs the
// kernel tests share.
//
// The scalar objective is L = sum_i y_i r_i for a fixed random r, so every output
// contributes and backward runs with dy = r. For each input element the numeric
// derivative is the central difference (L(v + h) - L(v - h)) / 2h and must match
// the analytic one within |a - n| <= threshold * max(|a|, |n|, 1).
//
// Why h = 1e-5 and threshold 1e-6: the central difference's truncation error is
// h^2/6 |L'''| ~ 2e-11 for the smooth ops here (zero for the linear ones), and its
// rounding error is ~ eps |L| / h ~ 1e-16 * 10 / 1e-5 = 1e-10 for objectives of
// order 10. Both sit four orders below the threshold (the largest difference
// seen across these tests is under 1e-9), while a wrong index, a missing term or
// a wrong scale errs by O(1). Kinks (relu at 0, maxpool ties) are
// kept out of reach by the inputs, not skipped: see away_from_zero and distinct.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace nebula::test {

using Vec = std::vector<double>;

inline Vec uniform(size_t n, std::mt19937& rng, double lo = -1.0, double hi = 1.0) {
  std::uniform_real_distribution<double> dist(lo, hi);
  Vec v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Values in [-1, -gap] U [gap, 1]: no element within reach of a kink at 0.
inline Vec away_from_zero(size_t n, std::mt19937& rng, double gap = 0.05) {
  Vec v = uniform(n, rng, gap, 1.0);
  std::bernoulli_distribution sign(0.5);
  for (auto& x : v)
    if (sign(rng)) x = -x;
  return v;
}

// A random permutation of n values spaced `gap` apart, centred on 0 (plus a small
// shared jitter): no ties, and no two elements closer than gap, so a maxpool
// window's argmax cannot change under a perturbation of h << gap.
inline Vec distinct(size_t n, std::mt19937& rng, double gap = 0.01) {
  Vec v(n);
  std::iota(v.begin(), v.end(), 0.0);
  std::shuffle(v.begin(), v.end(), rng);
  const double jitter = std::uniform_real_distribution<double>(0.0, 0.5 * gap)(rng);
  for (auto& x : v) x = (x - 0.5 * double(n)) * gap + jitter;
  return v;
}

// An output buffer full of NaN: a kernel that leaves any element unwritten (every
// kernel here must overwrite its output) poisons the checks that read it.
inline Vec garbage(size_t n) { return Vec(n, std::numeric_limits<double>::quiet_NaN()); }

inline double dot(const Vec& a, const Vec& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

struct GradientChecker {
  double step = 1e-5;
  double threshold = 1e-6;

  // Perturbs each element of `input` in turn, evaluating `objective` (which reads
  // `input` and returns L), and compares with analytic[i] = dL/dinput[i]. Reports
  // the first few mismatches by name and index; returns how many there were.
  int check(const std::string& name, Vec& input, const Vec& analytic, const std::function<double()>& objective) {
    EXPECT_EQ(input.size(), analytic.size()) << name;
    if (input.size() != analytic.size()) return 1;
    int failures = 0;
    for (size_t i = 0; i < input.size(); ++i) {
      const double saved = input[i];
      input[i] = saved + step;
      const double plus = objective();
      input[i] = saved - step;
      const double minus = objective();
      input[i] = saved;
      const double numeric = (plus - minus) / (2.0 * step);
      const double scale = std::max({std::abs(analytic[i]), std::abs(numeric), 1.0});
      if (!(std::abs(analytic[i] - numeric) <= threshold * scale)) {
        if (++failures <= 5)
          ADD_FAILURE() << name << "[" << i << "]: analytic " << analytic[i] << " vs numeric " << numeric
                        << " (difference " << analytic[i] - numeric << ", allowed " << threshold * scale << ")";
      }
    }
    if (failures > 5) ADD_FAILURE() << name << ": " << failures << " of " << input.size() << " elements differ";
    // A check whose gradient is identically zero would pass vacuously.
    double norm = 0.0;
    for (double a : analytic) norm += std::abs(a);
    EXPECT_GT(norm, 0.0) << name << ": the analytic gradient is all zero, so the check proves nothing";
    return failures;
  }
};

// |a - b| <= atol + rtol |b| elementwise, reporting the first mismatch.
template <typename A, typename B>
void expect_near_all(const A& actual, const B& expected, double rtol, double atol, const std::string& name) {
  ASSERT_EQ(actual.size(), expected.size()) << name;
  int failures = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    if (!(std::abs(a - e) <= atol + rtol * std::abs(e)) && ++failures <= 3)
      ADD_FAILURE() << name << "[" << i << "]: " << a << " vs expected " << e;
  }
  if (failures > 3) ADD_FAILURE() << name << ": " << failures << " of " << actual.size() << " differ";
}

// The fast float paths against the reference: inputs in [-1, 1), and a match to
// float rounding, since the fast path may sum in another order: rtol 1e-4, plus
// an atol of 1e-4 of the largest magnitude for outputs that cancel.
using FVec = std::vector<float>;

inline FVec random_floats(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  FVec v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline void expect_fast_matches_reference(const FVec& fast, const FVec& ref, const std::string& name) {
  double largest = 0.0;
  for (float v : ref) largest = std::max(largest, double(std::abs(v)));
  expect_near_all(fast, ref, 1e-4, 1e-4 * largest, name);
}

}  // namespace nebula::test
