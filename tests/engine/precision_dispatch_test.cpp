// The precision setting on the CPU: a convolution and a dense layer at tf32 or
// bf16 give exactly the fp32 op on operands rounded first (the rounding
// reference), which differs from fp32 by about the precision's unit and no
// more; the setting changes nothing else, and fp32 is the default.
#include <gtest/gtest.h>

#include <cmath>

#include "base/random.h"
#include "engine/dispatch.h"
#include "kernels/conv2d.h"

namespace nebula {
namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  std::vector<float> v(numel(shape));
  for (float& x : v) x = g.uniform(-1.0f, 1.0f);
  return Tensor::from_vector(shape, v);
}

Tensor rounded(const Tensor& t, Precision p) {
  std::vector<float> v = t.to_vector();
  for (float& x : v) x = round_to(p, x);
  return Tensor::from_vector(t.shape(), v);
}

class PrecisionScope {
 public:
  explicit PrecisionScope(Precision p) { set_precision(p); }
  ~PrecisionScope() { set_precision(Precision::FP32); }
};

float max_difference(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_vector(), y = b.to_vector();
  float worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - y[i]));
  return worst;
}

TEST(PrecisionDispatch, Fp32IsTheDefault) { EXPECT_EQ(precision(), Precision::FP32); }

// 64 inputs: sums of 64 products of values below 1, so the rounding error of
// the operands shows at about sqrt(64) x 2^-8 (bf16) or 2^-11 (tf32).
TEST(PrecisionDispatch, DenseRoundsItsOperandsAndNothingElse) {
  const Tensor x = random_tensor({5, 64}, 1), w = random_tensor({7, 64}, 2), b = random_tensor({7}, 3);
  Tensor exact({5, 7}), y({5, 7}), expected({5, 7});
  dispatch::dense_forward(x, w, &b, exact);
  for (Precision p : {Precision::TF32, Precision::BF16}) {
    {
      PrecisionScope scope(p);
      dispatch::dense_forward(x, w, &b, y);
    }
    dispatch::dense_forward(rounded(x, p), rounded(w, p), &b, expected);
    EXPECT_EQ(y.to_vector(), expected.to_vector()) << precision_name(p);
    const float unit = p == Precision::BF16 ? std::ldexp(1.0f, -8) : std::ldexp(1.0f, -11);
    EXPECT_GT(max_difference(y, exact), 0.0f) << precision_name(p) << ": the setting changed nothing";
    EXPECT_LT(max_difference(y, exact), 64 * unit) << precision_name(p);
  }
}

TEST(PrecisionDispatch, ConvolutionRoundsItsOperandsInEveryPass) {
  const Conv2dParams p = conv2d_params(2, 3, 9, 9, 4, 3, 1, Padding::Valid);
  const Tensor x = random_tensor({2, 3, 9, 9}, 4), w = random_tensor({4, 3, 3, 3}, 5);
  const Tensor dy = random_tensor({2, 4, 7, 7}, 6);
  Tensor y({2, 4, 7, 7}), dx({2, 3, 9, 9}), dw({4, 3, 3, 3});
  Tensor ey({2, 4, 7, 7}), edx({2, 3, 9, 9}), edw({4, 3, 3, 3});
  const Precision bf16 = Precision::BF16;
  {
    PrecisionScope scope(bf16);
    dispatch::conv2d_forward(p, x, w, nullptr, y);
    dispatch::conv2d_backward_data(p, dy, w, dx);
    dispatch::conv2d_backward_filter(p, x, dy, dw, nullptr);
  }
  dispatch::conv2d_forward(p, rounded(x, bf16), rounded(w, bf16), nullptr, ey);
  dispatch::conv2d_backward_data(p, rounded(dy, bf16), rounded(w, bf16), edx);
  dispatch::conv2d_backward_filter(p, rounded(x, bf16), rounded(dy, bf16), edw, nullptr);
  EXPECT_EQ(y.to_vector(), ey.to_vector());
  EXPECT_EQ(dx.to_vector(), edx.to_vector());
  EXPECT_EQ(dw.to_vector(), edw.to_vector());
}

}  // namespace
}  // namespace nebula
