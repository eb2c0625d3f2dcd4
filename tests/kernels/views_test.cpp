// The views: known quarter turns and flips, the 45-degree turn's taps, the
// table's transpose, and a double-precision gradient check on every edge case.
#include "kernels/views.h"

#include "base/error.h"
#include "tests/cases/views_cases.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

using test::Vec;

Vec forward(const ViewTable& t, int batch, int channels, const Vec& x) {
  Vec y = test::garbage(size_t(t.views) * batch * channels * t.out_pixels());
  ref::views_forward(host_arrays(t), batch, channels, x.data(), y.data());
  return y;
}

// The image   a b   turned a quarter counter-clockwise is   b d   and flipped   b a
//             c d                                           a c                 d c
TEST(ViewsForward, DihedralOfTwoByTwo) {
  const ViewTable t = make_view_table(ViewKind::Dihedral, 2, 2);
  const Vec y = forward(t, 1, 1, {1, 2, 3, 4});
  const Vec expected = {1, 2, 3, 4, /*turn*/ 2, 4, 1, 3, /*2 turns*/ 4, 3, 2, 1, /*3*/ 3, 1, 4, 2,
                        /*flip*/ 2, 1, 4, 3, 4, 2, 3, 1, 3, 4, 1, 2, 1, 3, 2, 4};
  EXPECT_EQ(y, expected);
}

// Views are view-major: all images' view 0, then all images' view 1, ...; and
// each cut to its top-left corner.
TEST(ViewsForward, ViewMajorAndCutToTheCorner) {
  const ViewTable t = make_view_table(ViewKind::Rotations, 3, 2);
  const Vec x = {1, 2, 3, 4, 5, 6, 7, 8, 9, /*image 2*/ 10, 20, 30, 40, 50, 60, 70, 80, 90};
  const Vec y = forward(t, 2, 1, x);
  ASSERT_EQ(y.size(), 4u * 2 * 4);
  EXPECT_EQ(Vec(y.begin(), y.begin() + 8), (Vec{1, 2, 4, 5, 10, 20, 40, 50}));
  // A quarter turn of 1..9 is 3 6 9 / 2 5 8 / 1 4 7.
  EXPECT_EQ(Vec(y.begin() + 8, y.begin() + 12), (Vec{3, 6, 2, 5}));
}

// Dieleman's first eight views are the dihedral ones; the others sample the
// 45-degree turn: an image's centre stays put, and a constant image stays
// constant wherever the four taps fall inside it.
TEST(ViewsForward, DielemanTurnedViews) {
  const int side = 9;
  const ViewTable d = make_view_table(ViewKind::Dieleman, side, side);
  const ViewTable e = make_view_table(ViewKind::Dihedral, side, side);
  std::mt19937 rng(3);
  const Vec x = test::uniform(side * side, rng);
  const Vec yd = forward(d, 1, 1, x), ye = forward(e, 1, 1, x);
  EXPECT_EQ(Vec(yd.begin(), yd.begin() + 8 * side * side), ye);
  const int centre = side / 2 * side + side / 2;
  for (int v = 8; v < 16; ++v) EXPECT_NEAR(yd[v * side * side + centre], x[centre], 1e-6) << v;
  const Vec ones = forward(d, 1, 1, Vec(side * side, 1.0));
  for (int64_t o = 8 * d.out_pixels(); o < 16 * d.out_pixels(); ++o) {
    const int64_t at = o * d.taps;
    bool inside = true;
    for (int k = 0; k < d.taps; ++k) inside = inside && d.index[at + k] >= 0;
    if (inside) {
      EXPECT_NEAR(ones[o], 1.0, 1e-6) << o;
    }
    EXPECT_LE(ones[o], 1.0 + 1e-6) << o;
  }
}

TEST(ViewTable, TransposeHoldsEveryTap) {
  for (const cases::ViewsCase& c : cases::views_edge_cases()) {
    const ViewTable t = make_view_table(c.kind, c.in_size, c.out_size);
    int64_t taps = 0;
    for (int32_t i : t.index) taps += i >= 0;
    EXPECT_EQ(int64_t(t.entry.size()), taps) << cases::describe(c);
    EXPECT_EQ(t.start.back(), taps) << cases::describe(c);
  }
}

TEST(ViewTable, RefusesAViewLargerThanTheImage) {
  EXPECT_THROW(make_view_table(ViewKind::Dihedral, 4, 5), Error);
  EXPECT_THROW(make_view_table(ViewKind::Dihedral, 4, 0), Error);
  EXPECT_THROW(parse_view_kind("octagonal"), Error);
  EXPECT_EQ(parse_view_kind("dieleman"), ViewKind::Dieleman);
}

void check_views(const cases::ViewsCase& c, unsigned seed) {
  const ViewTable t = make_view_table(c.kind, c.in_size, c.out_size);
  std::mt19937 rng(seed);
  Vec x = test::uniform(numel(c.x()), rng);
  const Vec r = test::uniform(numel(c.y()), rng);
  auto objective = [&] { return test::dot(forward(t, c.batch, c.channels, x), r); };
  Vec dx = test::garbage(x.size());
  ref::views_backward(host_arrays(t), c.batch, c.channels, r.data(), dx.data());
  test::GradientChecker().check(cases::describe(c) + " dx", x, dx, objective);
}

TEST(ViewsGrad, EdgeCases) {
  unsigned seed = 1;
  for (const cases::ViewsCase& c : cases::views_edge_cases()) check_views(c, seed++);
}

}  // namespace
}  // namespace nebula
