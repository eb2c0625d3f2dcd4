// What the CUDA parity tests share. Each test runs an op through the engine's
// dispatch on CPU tensors (the reference), then on GPU copies of the same
// tensors under each GPU backend, and compares the results copied back:
//
//   |gpu - cpu| <= atol + rtol |cpu|,   rtol = 1e-4,   atol = 1e-5 max |cpu|
//
// with the maximum taken over the output tensor. Why these: fp32 results
// summed in another order differ by a few ulp of the largest partial sums, so
// an error relative to the tensor's scale of 1e-5 is ample, while a wrong
// index, a missing term or a wrong scale errs by O(1) of it. An element that
// cancels to near zero is held to the tensor's scale, not its own size. Where
// the result is exact on every backend (a max, a mask, a single rounding) the
// tests ask for equality.
//
// Every test skips when no GPU answers; all of them compile without one.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "base/random.h"
#include "engine/device.h"
#include "engine/dispatch.h"
#include "engine/tensor.h"

namespace nebula::test {

inline constexpr Backend kBackends[] = {Backend::Native, Backend::Cudnn};

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_available()) GTEST_SKIP() << "no GPU: " << cuda_unavailable_reason();
  }
  void TearDown() override { set_backend(Backend::Native); }
};

// Sets the GPU backend for a scope and leaves Native behind it.
class BackendScope {
 public:
  explicit BackendScope(Backend backend) { set_backend(backend); }
  ~BackendScope() { set_backend(Backend::Native); }
  BackendScope(const BackendScope&) = delete;
  BackendScope& operator=(const BackendScope&) = delete;
};

// The seeds that draw random shapes and values: a fixed list, so a failure
// repeats. NEBULA_TEST_SEEDS="5,6,7" replaces it, to explore fresh shapes.
inline std::vector<uint64_t> test_seeds() {
  if (const char* text = std::getenv("NEBULA_TEST_SEEDS")) {
    std::vector<uint64_t> seeds;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ','))
      if (!item.empty()) seeds.push_back(std::strtoull(item.c_str(), nullptr, 10));
    if (!seeds.empty()) return seeds;
  }
  return {11, 23, 37, 41, 59, 67, 71, 89, 97, 101, 113, 127};
}

// An integer in [lo, hi].
inline int pick(Generator& g, int lo, int hi) {
  const int value = lo + static_cast<int>(g.uniform() * (hi - lo + 1));
  return value > hi ? hi : value;
}

inline Tensor uniform_tensor(const Shape& shape, uint64_t seed, float low = -1.0f, float high = 1.0f) {
  Generator g(seed);
  std::vector<float> values(numel(shape));
  for (float& v : values) v = g.uniform(low, high);
  return Tensor::from_vector(shape, values);
}

// Box-Muller on the engine's generator.
inline Tensor normal_tensor(const Shape& shape, uint64_t seed, float mean = 0.0f, float stddev = 1.0f) {
  constexpr double kTwoPi = 6.283185307179586;
  Generator g(seed);
  std::vector<float> values(numel(shape));
  for (float& v : values) {
    const double u1 = 1.0 - g.uniform(), u2 = g.uniform();  // u1 in (0, 1]
    v = static_cast<float>(mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(kTwoPi * u2));
  }
  return Tensor::from_vector(shape, values);
}

// Whole numbers in [low, high]: many ties and zeros, and sums of a few of them
// are exact in fp32 whatever the order, so results can be compared for equality.
inline Tensor integer_tensor(const Shape& shape, uint64_t seed, int low, int high) {
  Generator g(seed);
  std::vector<float> values(numel(shape));
  for (float& v : values) v = static_cast<float>(pick(g, low, high));
  return Tensor::from_vector(shape, values);
}

// An output buffer full of NaN: an element the op leaves unwritten (every op
// overwrites its output) shows up as a mismatch, on either side (compare()
// counts NaN as agreement only where a Tolerance expects it).
inline Tensor garbage(const Shape& shape) { return Tensor::full(shape, std::numeric_limits<float>::quiet_NaN()); }

inline float max_abs(const std::vector<float>& values) {
  float m = 0.0f;
  for (float v : values)
    if (std::isfinite(v)) m = std::max(m, std::fabs(v));
  return m;
}

// "[1, 2, 3, 4]" for flat index i of a tensor of this shape.
inline std::string index_string(const Shape& shape, int64_t i) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = shape[d] > 0 ? i % shape[d] : 0;
    i = shape[d] > 0 ? i / shape[d] : 0;
  }
  return to_string(index);
}

struct Tolerance {
  float rtol = 1e-4f;
  float atol_scale = 1e-5f;  // atol = atol_scale * max |cpu| over the tensor
  double atol_floor = 0.0;   // at least this: a result whose terms cancel errs relative to the terms
  bool exact = false;        // equal values (+0 equals -0)
  // NaN on both sides agrees only where the reference is NaN by construction
  // (special values carried through); otherwise a NaN anywhere is a mismatch,
  // so an element both sides left poisoned (garbage()) fails.
  bool nan_expected = false;
  static Tolerance equal() {
    Tolerance t;
    t.exact = true;
    return t;
  }
  // The same values, NaN included: an input that must come back unchanged.
  static Tolerance unchanged() {
    Tolerance t = equal();
    t.nan_expected = true;
    return t;
  }
};

// Compares a GPU result with the CPU's; the failure names how many values are
// out, the worst one with its index, and the first few.
inline ::testing::AssertionResult compare(const std::vector<float>& cpu, const std::vector<float>& gpu,
                                          const Shape& shape, const Tolerance& tol) {
  if (cpu.size() != gpu.size())
    return ::testing::AssertionFailure() << "sizes differ: cpu " << cpu.size() << ", gpu " << gpu.size();
  const double atol = std::max(double(tol.atol_scale) * max_abs(cpu), tol.atol_floor);
  int64_t bad = 0, worst = -1;
  double worst_ratio = -1.0;
  std::ostringstream first;
  first.precision(9);
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double c = cpu[i], g = gpu[i];
    const double bound = tol.exact ? 0.0 : atol + double(tol.rtol) * std::fabs(c);
    const bool ok =
        c == g || (tol.nan_expected && std::isnan(c) && std::isnan(g)) || (!tol.exact && std::fabs(g - c) <= bound);
    if (ok) continue;
    const double ratio =
        std::isnan(g - c) ? std::numeric_limits<double>::infinity() : std::fabs(g - c) / std::max(bound, 1e-300);
    if (ratio > worst_ratio) {
      worst_ratio = ratio;
      worst = int64_t(i);
    }
    if (++bad <= 5) first << "\n  at " << index_string(shape, int64_t(i)) << ": cpu " << cpu[i] << ", gpu " << gpu[i];
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  std::ostringstream message;
  message.precision(9);
  message << bad << " of " << cpu.size() << " values of " << to_string(shape) << " differ";
  if (tol.exact)
    message << " (equality required)";
  else
    message << " (|gpu - cpu| <= " << atol << " + " << tol.rtol << " |cpu|)";
  message << "; worst at " << index_string(shape, worst) << ": cpu " << cpu[worst] << ", gpu " << gpu[worst]
          << "; first:" << first.str();
  return ::testing::AssertionFailure() << message.str();
}

inline ::testing::AssertionResult compare(const Tensor& cpu, const Tensor& gpu, const Tolerance& tol) {
  return compare(cpu.to_vector(), gpu.to_vector(), cpu.shape(), tol);
}

// Byte for byte: the rerun tests.
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

inline std::string describe_backend(Backend backend) { return std::string(backend_name(backend)) + " backend"; }

// One output of an op: its name for messages, its contents before the op (NaN
// where the op must write every element; the state it updates otherwise) and
// how closely the GPU must match.
struct Output {
  std::string name;
  Tensor initial;
  Tolerance tol = {};
};

inline Output written(std::string name, const Shape& shape, Tolerance tol = {}) {
  return Output{std::move(name), garbage(shape), tol};
}

using TensorList = std::vector<Tensor>;
// Runs the op: reads `in`, writes `out` (all on one device).
using Op = std::function<void(TensorList& in, TensorList& out)>;

// Runs op on the CPU, then on GPU copies under each backend, and compares every
// output with the CPU's. The GPU inputs must come back unchanged. `what` names
// the op and its shapes in every failure.
inline void expect_parity(const std::string& what, const TensorList& inputs, const std::vector<Output>& outputs,
                          const Op& op) {
  TensorList cpu_in, cpu_out;
  for (const Tensor& t : inputs) cpu_in.push_back(t.clone());
  for (const Output& o : outputs) cpu_out.push_back(o.initial.clone());
  try {
    op(cpu_in, cpu_out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": the CPU reference threw: " << e.what();
    return;
  }
  for (Backend backend : kBackends) {
    BackendScope scope(backend);
    TensorList gpu_in, gpu_out;
    for (const Tensor& t : inputs) gpu_in.push_back(t.to(Device::CUDA));
    for (const Output& o : outputs) gpu_out.push_back(o.initial.to(Device::CUDA));
    try {
      op(gpu_in, gpu_out);
      for (size_t i = 0; i < outputs.size(); ++i) {
        EXPECT_EQ(gpu_out[i].device(), Device::CUDA) << what << ": " << outputs[i].name;
        EXPECT_TRUE(compare(cpu_out[i], gpu_out[i], outputs[i].tol))
            << what << ": " << outputs[i].name << " (" << describe_backend(backend) << ")";
      }
      for (size_t i = 0; i < inputs.size(); ++i)
        EXPECT_TRUE(compare(inputs[i], gpu_in[i], Tolerance::unchanged()))
            << what << ": input " << i << " was modified (" << describe_backend(backend) << ")";
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << " (" << describe_backend(backend) << ") threw: " << e.what();
    }
  }
}

}  // namespace nebula::test
