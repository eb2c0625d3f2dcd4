// Conv2d: parameter rules, a hand-computed forward, double-precision gradient
// checks of the reference, and the fast float path against the reference.
#include "kernels/conv2d.h"
#include "tests/cases/conv2d_cases.h"

#include <cstdlib>
#include <limits>
#include <string>

#include "base/error.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

int64_t x_size(const Conv2dParams& p) { return int64_t(p.batch) * p.in_channels * p.in_h * p.in_w; }
int64_t w_size(const Conv2dParams& p) { return int64_t(p.out_channels) * p.in_channels * p.kernel_h * p.kernel_w; }
int64_t y_size(const Conv2dParams& p) { return int64_t(p.batch) * p.out_channels * p.out_h * p.out_w; }

// ---- parameters ----

TEST(Conv2dParams, KerasSamePutsTheOddPixelAfter) {
  Conv2dParams p = conv2d_params(1, 1, 7, 5, 1, 3, 2, Padding::Same);
  EXPECT_EQ(p.out_h, 4);  // ceil(7 / 2); pad total (4-1)*2 + 3 - 7 = 2
  EXPECT_EQ(p.out_w, 3);  // ceil(5 / 2); pad total 2
  EXPECT_EQ(p.pad_top, 1);
  EXPECT_EQ(p.pad_left, 1);
  p = conv2d_params(1, 1, 6, 8, 1, 3, 2, Padding::Same);
  EXPECT_EQ(p.out_h, 3);  // pad total 1: none on top, one at the bottom
  EXPECT_EQ(p.out_w, 4);  // pad total 1
  EXPECT_EQ(p.pad_top, 0);
  EXPECT_EQ(p.pad_left, 0);
  p = conv2d_params(1, 1, 5, 5, 1, 4, 1, Padding::Same);
  EXPECT_EQ(p.out_h, 5);
  EXPECT_EQ(p.pad_top, 1);                                // pad total 3: one before, two after
  p = conv2d_params(1, 1, 2, 2, 1, 5, 1, Padding::Same);  // TensorFlow allows a kernel larger than the input
  EXPECT_EQ(p.out_h, 2);
  EXPECT_EQ(p.pad_top, 2);
}

TEST(Conv2dParams, ValidAndTorchPadding) {
  Conv2dParams p = conv2d_params(2, 3, 7, 8, 4, 3, 2, Padding::Valid);
  EXPECT_EQ(p.out_h, 3);
  EXPECT_EQ(p.out_w, 3);
  EXPECT_EQ(p.pad_top, 0);
  p = conv2d_params_padded(2, 3, 5, 6, 4, 3, 2, 1);
  EXPECT_EQ(p.out_h, 3);  // (5 + 2 - 3) / 2 + 1
  EXPECT_EQ(p.out_w, 3);  // (6 + 2 - 3) / 2 + 1
  EXPECT_EQ(p.pad_top, 1);
  EXPECT_EQ(p.pad_left, 1);
  EXPECT_EQ(p.kernel_h, 3);
  EXPECT_EQ(p.kernel_w, 3);
}

TEST(Conv2dParams, RejectsBadArguments) {
  try {
    conv2d_params(1, 3, 4, 4, 8, 5, 1, Padding::Valid);
    FAIL() << "a 5x5 kernel on a 4x4 input with 'valid' padding was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("conv2d"), std::string::npos) << message;
    EXPECT_NE(message.find("4x4"), std::string::npos) << message;
  }
  EXPECT_THROW(conv2d_params_padded(1, 3, 4, 4, 8, 7, 1, 1), Error);  // 7 > 4 + 2
  EXPECT_THROW(conv2d_params(1, 3, 4, 4, 8, 3, 0, Padding::Same), Error);
  EXPECT_THROW(conv2d_params(0, 3, 4, 4, 8, 3, 1, Padding::Same), Error);
  EXPECT_THROW(conv2d_params_padded(1, 3, 4, 4, 8, 3, 1, -1), Error);
  EXPECT_NO_THROW(conv2d_params_padded(1, 3, 4, 4, 8, 6, 1, 1));  // exactly fits
}

// ---- forward, by hand ----

TEST(Conv2dForward, HandComputedValid) {
  // x = 1..9 in a 3x3 image, w = [[1, 2], [3, 4]], bias 0.5.
  const Conv2dParams p = conv2d_params(1, 1, 3, 3, 1, 2, 1, Padding::Valid);
  const Vec x = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w = {1, 2, 3, 4}, b = {0.5};
  Vec y(4);
  ref::conv2d_forward(p, x.data(), w.data(), b.data(), y.data());
  // y00 = 1*1 + 2*2 + 3*4 + 4*5 = 37, then each step right adds 10, down adds 30.
  EXPECT_EQ(y, (Vec{37.5, 47.5, 67.5, 77.5}));
}

TEST(Conv2dForward, HandComputedSameStride2) {
  // x = 1..16 in a 4x4 image, a 3x3 kernel of ones, 'same' with stride 2: the one
  // pixel of padding goes to the bottom and right, so y00 sums rows 0-2, cols 0-2.
  const Conv2dParams p = conv2d_params(1, 1, 4, 4, 1, 3, 2, Padding::Same);
  Vec x(16), w(9, 1.0), y(4);
  for (int i = 0; i < 16; ++i) x[i] = i + 1;
  ref::conv2d_forward<double>(p, x.data(), w.data(), nullptr, y.data());
  EXPECT_EQ(y, (Vec{54, 45, 72, 54}));
}

TEST(Conv2dForward, ChannelsAndFiltersIndexPyTorchStyle) {
  // Two input channels, two filters, 1x1 kernels: y[k] = sum_c w[k, c] x[c].
  const Conv2dParams p = conv2d_params(1, 2, 1, 2, 2, 1, 1, Padding::Valid);
  const Vec x = {1, 2, 10, 20};  // channel 0: (1, 2); channel 1: (10, 20)
  const Vec w = {1, 3, -1, 2};   // filter 0: (1, 3); filter 1: (-1, 2)
  Vec y(4);
  ref::conv2d_forward<double>(p, x.data(), w.data(), nullptr, y.data());
  EXPECT_EQ(y, (Vec{31, 62, 19, 38}));
}

// ---- gradients ----

void check_conv_gradients(const Conv2dParams& p, bool with_bias, unsigned seed) {
  std::mt19937 rng(seed);
  Vec x = test::uniform(x_size(p), rng), w = test::uniform(w_size(p), rng), b = test::uniform(p.out_channels, rng);
  const Vec r = test::uniform(y_size(p), rng);
  const double* bias = with_bias ? b.data() : nullptr;
  auto objective = [&] {
    Vec y = test::garbage(y_size(p));
    ref::conv2d_forward(p, x.data(), w.data(), with_bias ? b.data() : nullptr, y.data());
    return test::dot(y, r);
  };
  Vec dx = test::garbage(x.size()), dw = test::garbage(w.size()), db = test::garbage(b.size());
  ref::conv2d_backward_data(p, r.data(), w.data(), dx.data());
  ref::conv2d_backward_filter(p, x.data(), r.data(), dw.data(), bias ? db.data() : nullptr);
  test::GradientChecker checker;
  checker.check("conv2d dx", x, dx, objective);
  checker.check("conv2d dw", w, dw, objective);
  if (with_bias) checker.check("conv2d dbias", b, db, objective);
}

// Every edge case of the op's table small enough for finite differences
// (inputs x multiply-adds, the checker's cost, under 2e6: the ten smallest).
TEST(Conv2dGrad, SmallEdgeCasesOfTheTable) {
  int checked = 0;
  unsigned seed = 1;
  for (const cases::Conv2dCase& c : cases::conv2d_edge_cases()) {
    const Conv2dParams& p = c.p;
    if (double(x_size(p) + w_size(p)) * cases::conv2d_macs(p) > 2e6) continue;
    SCOPED_TRACE(cases::describe(c));
    check_conv_gradients(p, c.bias, seed++);
    ++checked;
  }
  EXPECT_GE(checked, 10) << "the table's small cases shrank";
}

// ---- fast float path against the reference ----

using test::FVec;
using test::random_floats;

void check_fast_conv(const Conv2dParams& p, unsigned seed) {
  std::mt19937 rng(seed);
  const FVec x = random_floats(x_size(p), rng), w = random_floats(w_size(p), rng);
  const FVec b = random_floats(p.out_channels, rng), dy = random_floats(y_size(p), rng);
  // NaN-filled outputs: the fast path must overwrite every element.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  FVec y_ref(y_size(p)), y_fast(y_size(p), nan), dx_ref(x.size()), dx_fast(x.size(), nan);
  FVec dw_ref(w.size()), dw_fast(w.size(), nan), db_ref(b.size()), db_fast(b.size(), nan);
  ref::conv2d_forward(p, x.data(), w.data(), b.data(), y_ref.data());
  cpu::conv2d_forward(p, x.data(), w.data(), b.data(), y_fast.data());
  ref::conv2d_backward_data(p, dy.data(), w.data(), dx_ref.data());
  cpu::conv2d_backward_data(p, dy.data(), w.data(), dx_fast.data());
  ref::conv2d_backward_filter(p, x.data(), dy.data(), dw_ref.data(), db_ref.data());
  cpu::conv2d_backward_filter(p, x.data(), dy.data(), dw_fast.data(), db_fast.data());
  test::expect_fast_matches_reference(y_fast, y_ref, "conv2d forward");
  test::expect_fast_matches_reference(dx_fast, dx_ref, "conv2d backward data");
  test::expect_fast_matches_reference(dw_fast, dw_ref, "conv2d backward filter dw");
  test::expect_fast_matches_reference(db_fast, db_ref, "conv2d backward filter dbias");
  // Without a bias: forward adds nothing, and backward_filter accepts a null dbias.
  ref::conv2d_forward<float>(p, x.data(), w.data(), nullptr, y_ref.data());
  cpu::conv2d_forward(p, x.data(), w.data(), nullptr, y_fast.data());
  test::expect_fast_matches_reference(y_fast, y_ref, "conv2d forward without bias");
  cpu::conv2d_backward_filter(p, x.data(), dy.data(), dw_fast.data(), nullptr);
  test::expect_fast_matches_reference(dw_fast, dw_ref, "conv2d backward filter without dbias");
}

class Conv2dFast : public ::testing::TestWithParam<int> {};  // the batch size

TEST_P(Conv2dFast, ValidStride1) { check_fast_conv(conv2d_params(GetParam(), 3, 9, 7, 5, 3, 1, Padding::Valid), 11); }
TEST_P(Conv2dFast, ValidStride2) { check_fast_conv(conv2d_params(GetParam(), 4, 11, 8, 6, 3, 2, Padding::Valid), 12); }
TEST_P(Conv2dFast, SameStride1) { check_fast_conv(conv2d_params(GetParam(), 5, 7, 9, 4, 3, 1, Padding::Same), 13); }
TEST_P(Conv2dFast, SameStride2) { check_fast_conv(conv2d_params(GetParam(), 3, 9, 6, 5, 3, 2, Padding::Same), 14); }
TEST_P(Conv2dFast, SameKernelLargerThanInput) {
  check_fast_conv(conv2d_params(GetParam(), 2, 3, 4, 3, 5, 1, Padding::Same), 15);
}
TEST_P(Conv2dFast, TorchPaddingKernel5Stride2) {
  check_fast_conv(conv2d_params_padded(GetParam(), 3, 10, 7, 4, 5, 2, 2), 16);
}
TEST_P(Conv2dFast, Pointwise) { check_fast_conv(conv2d_params(GetParam(), 6, 5, 3, 7, 1, 1, Padding::Valid), 17); }
TEST_P(Conv2dFast, PointwiseStride2) {
  check_fast_conv(conv2d_params(GetParam(), 3, 5, 6, 4, 1, 2, Padding::Valid), 18);
}

INSTANTIATE_TEST_SUITE_P(Batch, Conv2dFast, ::testing::Values(1, 7));

// The filter gradient sums over the batch; its order must not depend on the
// thread count, so results are bitwise equal for 1, 2 and 3 workers.
TEST(Conv2dFastDeterminism, FilterGradientIndependentOfThreadCount) {
  const Conv2dParams p = conv2d_params(37, 3, 9, 8, 5, 3, 1, Padding::Same);
  std::mt19937 rng(19);
  const FVec x = random_floats(x_size(p), rng), dy = random_floats(y_size(p), rng);
  const char* saved = std::getenv("NEBULA_CPU_THREADS");
  const std::string restore = saved ? saved : "";
  std::vector<FVec> dws, dbs;
  for (const char* threads : {"1", "2", "3"}) {
    setenv("NEBULA_CPU_THREADS", threads, 1);
    FVec dw(w_size(p)), db(p.out_channels);
    cpu::conv2d_backward_filter(p, x.data(), dy.data(), dw.data(), db.data());
    dws.push_back(dw);
    dbs.push_back(db);
  }
  if (saved)
    setenv("NEBULA_CPU_THREADS", restore.c_str(), 1);
  else
    unsetenv("NEBULA_CPU_THREADS");
  EXPECT_EQ(dws[0], dws[1]);
  EXPECT_EQ(dws[0], dws[2]);
  EXPECT_EQ(dbs[0], dbs[1]);
  EXPECT_EQ(dbs[0], dbs[2]);
}

}  // namespace
}  // namespace nebula
