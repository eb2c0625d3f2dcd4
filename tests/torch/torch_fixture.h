// Helpers for the PyTorch parity tests: find and read the fixtures that
// tools/make_torch_fixtures.py wrote, feed a fixture's upstream gradient into
// the tape, and compare tensors.
//
// Tolerance: |nebula - torch| <= 1e-4 * max(|torch|, floor), floor = 1e-2 * max|torch| over
// the tensor. Nebula and PyTorch sum in different orders (im2col + OpenBLAS
// against oneDNN), and a float32 sum's rounding error scales with the size of
// its terms, that is with the tensor's largest values, not with each entry: an
// entry that cancels to nearly zero cannot be held to 1e-4 of itself. The
// floor therefore allows 1e-6 of the tensor's largest magnitude (about 16 ulps
// of it) on the small entries and 1e-4 relative on all the others. A fixed
// absolute floor would not do: gradients in the network test are ~1e-4 in size,
// where atol 1e-5 would pass almost anything.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/safetensors.h"

namespace nebula {
namespace torch_parity {

inline std::string source_dir() {
  if (const char* dir = std::getenv("NEBULA_SOURCE_DIR"); dir && *dir) return dir;
  return NEBULA_SOURCE_DIR_FALLBACK;
}

inline const SafetensorsFile& fixture(const std::string& name) {
  // Read once per process: several tests share a file.
  static std::map<std::string, SafetensorsFile> cache;
  auto it = cache.find(name);
  if (it == cache.end())
    it = cache.emplace(name, read_safetensors(source_dir() + "/tests/fixtures/" + name + ".safetensors")).first;
  return it->second;
}

inline float meta_float(const SafetensorsFile& f, const std::string& key) { return std::stof(f.meta(key)); }
inline int meta_int(const SafetensorsFile& f, const std::string& key) { return std::stoi(f.meta(key)); }

// A fresh copy of a fixture tensor as a Variable.
inline Variable variable(const SafetensorsFile& f, const std::string& name, bool requires_grad = false) {
  return Variable(f.at(name).clone(), requires_grad);
}

// L = sum(y * r): its gradient with respect to y is exactly r, so backward(L)
// sends the fixture's upstream gradient r into the graph below y.
inline Variable weighted_sum(const Variable& y, const Tensor& r) {
  std::vector<float> yv = y.value().to_vector(), rv = r.to_vector();
  double sum = 0;
  for (size_t i = 0; i < yv.size(); ++i) sum += double(yv[i]) * rv[i];
  Variable out(Tensor::full({1}, float(sum)), y.requires_grad());
  if (out.requires_grad()) {
    Tensor upstream = r.clone();
    record_backward([y, out, upstream]() {
      if (!out.grad().defined()) return;
      const float scale = out.grad().to_vector()[0];
      Tensor g = upstream.clone();
      for (int64_t i = 0; i < g.numel(); ++i) g.data()[i] *= scale;
      y.accumulate_grad(g);
    });
  }
  return out;
}

constexpr double kRtol = 1e-4;
constexpr double kFloorFraction = 1e-2;

inline ::testing::AssertionResult matches(const char* actual_expr, const char* expected_expr, const Tensor& actual,
                                          const Tensor& expected) {
  if (!actual.defined()) return ::testing::AssertionFailure() << actual_expr << " is undefined";
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << actual_expr << " has shape " << to_string(actual.shape()) << ", "
                                         << expected_expr << " " << to_string(expected.shape());
  std::vector<float> a = actual.to_vector(), b = expected.to_vector();
  double largest = 0;
  for (float v : b) largest = std::max(largest, double(std::fabs(v)));
  const double floor = kFloorFraction * largest;
  int64_t bad = 0, worst = -1;
  double worst_ratio = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double tol = kRtol * std::max(double(std::fabs(b[i])), floor);
    const double err = std::fabs(double(a[i]) - double(b[i]));
    if (!(err <= tol)) {  // also catches NaN
      ++bad;
      const double ratio = tol > 0 ? err / tol : INFINITY;
      if (worst < 0 || ratio > worst_ratio || std::isnan(err)) worst = int64_t(i), worst_ratio = ratio;
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << actual_expr << " differs from " << expected_expr << " at " << bad << " of "
                                       << a.size() << " entries; worst at flat index " << worst << ": "
                                       << a[size_t(worst)] << " vs " << b[size_t(worst)] << " (" << worst_ratio
                                       << "x the tolerance; largest |expected| " << largest << ")";
}

}  // namespace torch_parity
}  // namespace nebula

// EXPECT_MATCHES(nebula_tensor, torch_tensor)
#define EXPECT_MATCHES(actual, expected) EXPECT_PRED_FORMAT2(::nebula::torch_parity::matches, actual, expected)
