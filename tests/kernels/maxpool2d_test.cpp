// MaxPool2d: parameter rules, known cases (ties, padding), and double-precision
// gradient checks on inputs without near-ties, so no window's argmax can change
// under the checker's perturbation.
#include "kernels/maxpool2d.h"
#include "tests/cases/maxpool2d_cases.h"

#include <string>

#include "base/error.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

TEST(Pool2dParams, OutputSizeAndErrors) {
  Pool2dParams p = pool2d_params(2, 3, 7, 6, 2, 2, 0);
  EXPECT_EQ(p.out_h, 3);  // floor((7 - 2) / 2) + 1: the last row is dropped, as in Keras 'valid'
  EXPECT_EQ(p.out_w, 3);
  p = pool2d_params(1, 1, 5, 4, 3, 1, 1);
  EXPECT_EQ(p.out_h, 5);
  EXPECT_EQ(p.out_w, 4);
  try {
    pool2d_params(1, 1, 1, 1, 2, 2, 0);
    FAIL() << "a 2x2 window on a 1x1 input was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("maxpool2d"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pool2d_params(1, 1, 4, 4, 2, 2, 2), Error);  // padding over kernel/2
  EXPECT_THROW(pool2d_params(1, 1, 4, 4, 2, 0, 0), Error);
}

TEST(MaxPool2dForward, KnownCase) {
  const Pool2dParams p = pool2d_params(1, 1, 4, 4, 2, 2, 0);
  const Vec x = {1,  5,  2, 0,  //
                 3,  4,  8, 7,  //
                 -1, -2, 6, 6,  //
                 -4, -3, 9, 5};
  Vec y(4);
  ref::maxpool2d_forward(p, x.data(), y.data());
  EXPECT_EQ(y, (Vec{5, 8, -1, 9}));
}

TEST(MaxPool2dForward, PaddingIsNeverChosen) {
  // All pixels negative: a zero-valued padding would win; -infinity must not.
  const Pool2dParams p = pool2d_params(1, 1, 2, 2, 2, 1, 1);
  const Vec x = {-1, -2, -3, -4};
  Vec y(9);
  ref::maxpool2d_forward(p, x.data(), y.data());
  EXPECT_EQ(y, (Vec{-1, -1, -2, -1, -1, -2, -3, -3, -4}));
}

TEST(MaxPool2dBackward, TiesGoToTheFirstInScanOrder) {
  const Pool2dParams p = pool2d_params(1, 1, 2, 4, 2, 2, 0);
  const Vec x = {0, 1, 3, 3,   // window 0: 1 at (0, 1), (1, 0) and (1, 1)
                 1, 1, 3, 2};  // window 1: 3 at (0, 2), (0, 3) and (1, 2)
  const Vec dy = {10, 20};
  Vec dx = test::garbage(8);
  ref::maxpool2d_backward(p, x.data(), dy.data(), dx.data());
  EXPECT_EQ(dx, (Vec{0, 10, 20, 0, 0, 0, 0, 0}));
}

TEST(MaxPool2dBackward, OverlappingWindowsAccumulate) {
  // 3x3 windows, stride 1, padding 1 over a 3x3 image: all nine hold the centre maximum.
  const Pool2dParams p = pool2d_params(1, 1, 3, 3, 3, 1, 1);
  Vec x = {0, 0, 0, 0, 9, 0, 0, 0, 0};
  x[0] = -1, x[2] = -2, x[6] = -3, x[8] = -4, x[1] = 1;
  Vec dy(9, 1.0), dx = test::garbage(9), y = test::garbage(9);
  ref::maxpool2d_forward(p, x.data(), y.data());
  EXPECT_EQ(y, Vec(9, 9.0));
  ref::maxpool2d_backward(p, x.data(), dy.data(), dx.data());
  EXPECT_EQ(dx, (Vec{0, 0, 0, 0, 9, 0, 0, 0, 0}));
}

// An independent maxpool: every window scanned tap by tap with explicit bounds.
void brute_force_maxpool(const Pool2dParams& p, const Vec& x, Vec& y, Vec& argmax) {
  for (int q = 0; q < p.batch * p.channels; ++q)
    for (int i = 0; i < p.out_h; ++i)
      for (int j = 0; j < p.out_w; ++j) {
        double best = -1e300;
        int64_t at = -1;
        for (int r = 0; r < p.kernel; ++r)
          for (int s = 0; s < p.kernel; ++s) {
            const int h = i * p.stride - p.pad + r, w = j * p.stride - p.pad + s;
            if (h < 0 || h >= p.in_h || w < 0 || w >= p.in_w) continue;
            const int64_t k = (int64_t(q) * p.in_h + h) * p.in_w + w;
            if (at < 0 || x[k] > best) best = x[k], at = k;
          }
        const int64_t o = (int64_t(q) * p.out_h + i) * p.out_w + j;
        y[o] = best;
        argmax[o] = double(at);
      }
}

// Edge windows must read only their own pixels: with ramps that grow to the
// right and downwards, a window that wrapped into the previous row or past the
// edge would pick up a larger value.
TEST(MaxPool2dForward, MatchesBruteForceAtEdges) {
  const Pool2dParams cases[] = {pool2d_params(1, 2, 4, 5, 2, 2, 1), pool2d_params(2, 1, 8, 7, 4, 3, 2),
                                pool2d_params(1, 1, 1, 1, 3, 1, 1), pool2d_params(1, 1, 3, 1, 3, 2, 1),
                                pool2d_params(1, 1, 1, 4, 3, 2, 1), pool2d_params(1, 2, 7, 9, 3, 2, 0),
                                pool2d_params(1, 1, 6, 6, 5, 2, 2)};
  for (const Pool2dParams& p : cases) {
    const int64_t nx = int64_t(p.batch) * p.channels * p.in_h * p.in_w;
    const int64_t ny = int64_t(p.batch) * p.channels * p.out_h * p.out_w;
    for (int pattern = 0; pattern < 3; ++pattern) {
      Vec x(nx);
      for (int64_t k = 0; k < nx; ++k) {
        const int64_t w = k % p.in_w, h = (k / p.in_w) % p.in_h;
        x[k] = pattern == 0 ? double(w * 100 + h) : pattern == 1 ? double(-w * 100 - h) : double((k * 7919) % 101);
      }
      Vec y = test::garbage(ny), y_expected(ny), argmax(ny), dx = test::garbage(nx), dx_expected(nx, 0.0);
      brute_force_maxpool(p, x, y_expected, argmax);
      ref::maxpool2d_forward(p, x.data(), y.data());
      EXPECT_EQ(y, y_expected) << "in " << p.in_h << "x" << p.in_w << ", kernel " << p.kernel << ", stride " << p.stride
                               << ", pad " << p.pad << ", pattern " << pattern;
      Vec dy(ny);
      for (int64_t o = 0; o < ny; ++o) dy[o] = double(o + 1), dx_expected[int64_t(argmax[o])] += dy[o];
      ref::maxpool2d_backward(p, x.data(), dy.data(), dx.data());
      EXPECT_EQ(dx, dx_expected) << "in " << p.in_h << "x" << p.in_w << ", kernel " << p.kernel << ", stride "
                                 << p.stride << ", pad " << p.pad << ", pattern " << pattern;
    }
  }
}

// Ties everywhere (pixels from {0, 1, 2}) on every small case of the op's
// table: each window routes its gradient to its first maximum in scan order
// (rows, then columns), as the brute force above finds it.
TEST(MaxPool2dBackward, TiesRouteLikeTheBruteForceOnTheTable) {
  for (const cases::MaxPool2dCase& c : cases::maxpool2d_edge_cases()) {
    const Pool2dParams& p = c.p;
    const size_t nx = size_t(p.batch) * p.channels * p.in_h * p.in_w,
                 ny = size_t(p.batch) * p.channels * p.out_h * p.out_w;
    Vec x(nx), dy(ny), y_expected(ny), argmax(ny), dx_expected(nx, 0.0), dx = test::garbage(nx);
    for (size_t i = 0; i < nx; ++i) x[i] = double((i * 7 + i / 5) % 3);
    brute_force_maxpool(p, x, y_expected, argmax);
    for (size_t o = 0; o < ny; ++o) dy[o] = double(o + 1), dx_expected[size_t(argmax[o])] += dy[o];
    ref::maxpool2d_backward(p, x.data(), dy.data(), dx.data());
    EXPECT_EQ(dx, dx_expected) << cases::describe(c);
  }
}

void check_pool_gradient(const Pool2dParams& p, unsigned seed) {
  std::mt19937 rng(seed);
  const int64_t nx = int64_t(p.batch) * p.channels * p.in_h * p.in_w;
  const int64_t ny = int64_t(p.batch) * p.channels * p.out_h * p.out_w;
  Vec x = test::distinct(nx, rng);  // spaced 0.01 apart, far beyond the step 1e-5
  const Vec r = test::uniform(ny, rng);
  auto objective = [&] {
    Vec y = test::garbage(ny);
    ref::maxpool2d_forward(p, x.data(), y.data());
    return test::dot(y, r);
  };
  Vec dx = test::garbage(nx);
  ref::maxpool2d_backward(p, x.data(), r.data(), dx.data());
  test::GradientChecker().check("maxpool2d dx", x, dx, objective);
}

// Every edge case of the op's table.
TEST(MaxPool2dGrad, EdgeCasesOfTheTable) {
  unsigned seed = 1;
  for (const cases::MaxPool2dCase& c : cases::maxpool2d_edge_cases()) {
    SCOPED_TRACE(cases::describe(c));
    check_pool_gradient(c.p, seed++);
  }
}

TEST(MaxPool2dForward, FloatMatchesDouble) {
  const Pool2dParams p = pool2d_params(2, 3, 9, 7, 3, 2, 1);
  std::mt19937 rng(6);
  const Vec x = test::uniform(int64_t(2) * 3 * 9 * 7, rng);
  std::vector<float> xf(x.begin(), x.end()), yf(int64_t(2) * 3 * p.out_h * p.out_w), dxf(xf.size());
  Vec y(yf.size()), dx(x.size());
  ref::maxpool2d_forward(p, x.data(), y.data());
  ref::maxpool2d_forward(p, xf.data(), yf.data());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(yf[i], float(y[i])) << i;
  const std::vector<float> dyf(yf.size(), 1.0f);
  const Vec dy(y.size(), 1.0);
  ref::maxpool2d_backward(p, x.data(), dy.data(), dx.data());
  ref::maxpool2d_backward(p, xf.data(), dyf.data(), dxf.data());
  for (size_t i = 0; i < dx.size(); ++i) EXPECT_EQ(dxf[i], float(dx[i])) << i;
}

}  // namespace
}  // namespace nebula
