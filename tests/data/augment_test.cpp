// The one-affine resampler: identity and flip are exact, a 90 degree rotation
// moves pixels where Keras would, crop and resize land where expected, the
// DCT scale is accounted for, and the random draws follow Keras's ranges; and
// the study's two-step order (resize, then transform the small image).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "data/augment.h"
#include "data_test_util.h"

namespace nebula::data {
namespace {

Image make_image(int w, int h, const std::vector<uint8_t>& rgb) {
  Image image;
  image.width = image.source_width = w;
  image.height = image.source_height = h;
  image.pixels = rgb;
  return image;
}

float expected(const Image& image, int x, int y, int c) { return image.at(x, y)[c] * (1.0f / 255.0f); }

TEST(Augment, IdentityIsExact) {
  const int n = 37;
  Image image = make_image(n, n, test::noise_image(n, n));
  std::vector<float> out(3 * n * n);
  render_sample(image, Preprocess{0, n}, nullptr, out.data());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) ASSERT_EQ(out[(c * n + y) * n + x], expected(image, x, y, c)) << x << "," << y;
  // Parameters that draw nothing are the identity too.
  AugmentParams none;
  std::vector<float> again(out.size());
  render_sample(image, Preprocess{0, n}, &none, again.data());
  EXPECT_EQ(again, out);
}

TEST(Augment, FlipIsExact) {
  const int n = 24;
  Image image = make_image(n, n, test::noise_image(n, n, 7));
  AugmentParams flip;
  flip.flip = true;
  std::vector<float> out(3 * n * n);
  render_sample(image, Preprocess{0, n}, &flip, out.data());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) ASSERT_EQ(out[(c * n + y) * n + x], expected(image, n - 1 - x, y, c));
}

TEST(Augment, QuarterTurnMovesPixelsLikeKeras) {
  // Keras: input = R (output - o) + o with R = [[cos, -sin], [sin, cos]] on (row, col).
  // At 90 degrees, output (r, c) reads input row o - (c - o) = n-1-c, column r.
  const int n = 20;
  Image image = make_image(n, n, test::noise_image(n, n, 3));
  AugmentParams turn;
  turn.theta = 90.0;
  std::vector<float> out(3 * n * n);
  render_sample(image, Preprocess{0, n}, &turn, out.data());
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < n; ++r)
      for (int col = 0; col < n; ++col)
        ASSERT_NEAR(out[(c * n + r) * n + col], expected(image, /*x=*/r, /*y=*/n - 1 - col, c), 1e-4)
            << "output row " << r << " col " << col;
}

// Keras flips after the affine transform (apply_transform: transform, then
// flip_axis on the columns), so a quarter turn then a flip is a transpose:
// output (r, c) = turned (r, n-1-c) = input row c, column r.
TEST(Augment, FlipComesAfterTheTurnAsInKeras) {
  const int n = 18;
  Image image = make_image(n, n, test::noise_image(n, n, 13));
  AugmentParams both;
  both.theta = 90.0;
  both.flip = true;
  std::vector<float> out(3 * n * n);
  render_sample(image, Preprocess{0, n}, &both, out.data());
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < n; ++r)
      for (int col = 0; col < n; ++col)
        ASSERT_NEAR(out[(c * n + r) * n + col], expected(image, /*x=*/r, /*y=*/col, c), 1e-4)
            << "output row " << r << " col " << col;
}

// Keras's zoom maps output to input: input = z (output - o) + o, so zx < 1
// magnifies the rows (a vertical ramp gets shallower) and leaves columns alone.
TEST(Augment, ZoomBelowOneMagnifiesAlongItsAxis) {
  const int n = 41;  // o = 20: sampled rows 0.5 (r - 20) + 20 stay inside the image
  std::vector<uint8_t> rgb(size_t(n) * n * 3);
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x)
      for (int c = 0; c < 3; ++c) rgb[(size_t(y) * n + x) * 3 + c] = uint8_t(y * 6);
  Image image = make_image(n, n, rgb);
  AugmentParams zoom;
  zoom.zx = 0.5;
  std::vector<float> out(3 * n * n);
  render_sample(image, Preprocess{0, n}, &zoom, out.data());
  const double o = (n - 1) / 2.0;
  for (int r = 0; r < n; ++r) {
    const double source_row = 0.5 * (r - o) + o;
    EXPECT_NEAR(out[r * n + 7] * 255.0, 6.0 * source_row, 1e-3) << "row " << r;
    EXPECT_EQ(out[r * n + 7], out[r * n + 33]) << "columns must not move, row " << r;
  }
}

TEST(Augment, KerasMatrixMatchesHandComputation) {
  AugmentParams p;
  p.theta = 30.0;
  p.tx = 3.0;
  p.ty = -2.0;
  p.shear = 10.0;
  p.zx = 1.1;
  p.zy = 0.9;
  const int n = 70;
  Affine a = keras_affine(p, n, n);
  const double t = 30.0 * M_PI / 180.0, s = 10.0 * M_PI / 180.0, o = n / 2.0 - 0.5;
  // R.T.S.Z applied to (out - o), then + o, written out by hand for one output point.
  const double r = 12.0, c = 50.0;
  double x = (r - o) * 1.1, y = (c - o) * 0.9;            // Z
  double xs = x - std::sin(s) * y, ys = std::cos(s) * y;  // S
  xs += 3.0;                                              // T
  ys += -2.0;
  double xr = std::cos(t) * xs - std::sin(t) * ys, yr = std::sin(t) * xs + std::cos(t) * ys;  // R
  EXPECT_NEAR(a.m[0][0] * r + a.m[0][1] * c + a.m[0][2], xr + o, 1e-9);
  EXPECT_NEAR(a.m[1][0] * r + a.m[1][1] * c + a.m[1][2], yr + o, 1e-9);
}

TEST(Augment, ShiftFillsWithTheNearestEdge) {
  const int n = 16;
  Image image = make_image(n, n, test::noise_image(n, n, 5));
  AugmentParams shift;
  shift.tx = 5.0;  // rows: output row r reads input row r + 5
  std::vector<float> out(3 * n * n);
  render_sample(image, Preprocess{0, n}, &shift, out.data());
  for (int r = 0; r < n; ++r)
    for (int col = 0; col < n; ++col)
      ASSERT_EQ(out[r * n + col], expected(image, col, std::min(r + 5, n - 1), 0)) << r << "," << col;
}

TEST(Augment, CropAndResizeMapPixelCentres) {
  // A horizontal ramp: value = x. Crop 60 of 100 and resize to 30: output column j
  // samples source x = (j + 0.5) * 2 - 0.5 + 20.
  const int w = 100;
  std::vector<uint8_t> rgb(size_t(w) * w * 3);
  for (int y = 0; y < w; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) rgb[(size_t(y) * w + x) * 3 + c] = uint8_t(x * 2);
  Image image = make_image(w, w, rgb);
  std::vector<float> out(3 * 30 * 30);
  render_sample(image, Preprocess{60, 30}, nullptr, out.data());
  for (int j = 0; j < 30; ++j) {
    double x = (j + 0.5) * 2.0 - 0.5 + 20.0;
    EXPECT_NEAR(out[5 * 30 + j] * 255.0, 2.0 * x, 1e-3) << j;
  }
}

TEST(Augment, DownsamplingIsAntialiased) {
  // One-pixel stripes shrunk 1.8x: point sampling aliases them into bands
  // anywhere between black and white; the antialiased render stays near grey.
  const int w = 126, n = 70;
  std::vector<uint8_t> rgb(size_t(w) * w * 3);
  for (int y = 0; y < w; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) rgb[(size_t(y) * w + x) * 3 + c] = x % 2 ? 255 : 0;
  Image image = make_image(w, w, rgb);
  auto worst_distance_from_grey = [&](bool antialias) {
    Preprocess pre{0, n};
    pre.antialias = antialias;
    std::vector<float> out(3 * n * n);
    render_sample(image, pre, nullptr, out.data());
    float worst = 0;
    for (int x = 2; x < n - 2; ++x) worst = std::max(worst, std::fabs(out[35 * n + x] - 0.5f));
    return worst;
  };
  EXPECT_GT(worst_distance_from_grey(false), 0.3f);
  EXPECT_LT(worst_distance_from_grey(true), 0.15f);
}

TEST(Augment, DecodedScaleIsAccountedFor) {
  // The same ramp decoded at 1/2 (pixel x' covers source 2x', 2x'+1: value = 2x'+0.5 averaged)
  // must give the same output as the full image.
  const int w = 100, k = 2;
  Image full, half;
  std::vector<uint8_t> rgb(size_t(w) * w * 3), small(size_t(w / k) * (w / k) * 3);
  for (int y = 0; y < w; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) rgb[(size_t(y) * w + x) * 3 + c] = uint8_t(x * 2);
  for (int y = 0; y < w / k; ++y)
    for (int x = 0; x < w / k; ++x)
      for (int c = 0; c < 3; ++c) small[(size_t(y) * (w / k) + x) * 3 + c] = uint8_t(4 * x + 1);
  full = make_image(w, w, rgb);
  half = make_image(w / k, w / k, small);
  half.scale = k;
  half.source_width = half.source_height = w;
  std::vector<float> a(3 * 25 * 25), b(3 * 25 * 25);
  AugmentParams p;
  p.theta = 17.0;
  p.zx = 1.1;
  render_sample(full, Preprocess{80, 25}, &p, a.data());
  render_sample(half, Preprocess{80, 25}, &p, b.data());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1.0f / 255.0f) << i;
}

TEST(Augment, DrawsFollowKerasRangesAndAreDeterministic) {
  AugmentRanges ranges;
  double min_theta = 1e9, max_theta = -1e9, min_zoom = 1e9, max_zoom = -1e9;
  int flips = 0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    AugmentParams p = draw_augment(ranges, 70, 70, 42, 3, uint64_t(i));
    ASSERT_GE(p.theta, -40.0);
    ASSERT_LT(p.theta, 40.0);
    ASSERT_LE(std::abs(p.tx), 0.2 * 70);
    ASSERT_LE(std::abs(p.ty), 0.2 * 70);
    ASSERT_LE(std::abs(p.shear), 0.2);
    ASSERT_GE(p.zx, 0.8);
    ASSERT_LT(p.zy, 1.2);
    min_theta = std::min(min_theta, p.theta);
    max_theta = std::max(max_theta, p.theta);
    min_zoom = std::min(min_zoom, p.zx);
    max_zoom = std::max(max_zoom, p.zx);
    flips += p.flip;
    AugmentParams again = draw_augment(ranges, 70, 70, 42, 3, uint64_t(i));
    ASSERT_EQ(p.theta, again.theta);
    ASSERT_EQ(p.zy, again.zy);
  }
  EXPECT_LT(min_theta, -39.0);
  EXPECT_GT(max_theta, 39.0);
  EXPECT_LT(min_zoom, 0.81);
  EXPECT_GT(max_zoom, 1.19);
  EXPECT_NEAR(flips / double(draws), 0.5, 0.04);
  // Another epoch or seed draws differently.
  EXPECT_NE(draw_augment(ranges, 70, 70, 42, 4, 1).theta, draw_augment(ranges, 70, 70, 42, 3, 1).theta);
  EXPECT_NE(draw_augment(ranges, 70, 70, 43, 3, 1).theta, draw_augment(ranges, 70, 70, 42, 3, 1).theta);
}

TEST(Augment, TinyAndOddImagesRenderSafely) {
  // A constant image renders constant under any geometry; sizes down to 1x1
  // exercise every edge of the neighbour loads.
  AugmentRanges ranges;
  for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {2, 1}, {1, 2}, {2, 2}, {3, 5}, {7, 3}}) {
    Image image = make_image(w, h, std::vector<uint8_t>(size_t(w) * h * 3, 200));
    for (int size : {1, 5, 9}) {
      std::vector<float> out(3 * size * size);
      for (int i = 0; i < 4; ++i) {
        AugmentParams p = draw_augment(ranges, size, size, 2, 0, uint64_t(i));
        render_sample(image, Preprocess{0, size}, i == 0 ? nullptr : &p, out.data());
        for (float v : out) ASSERT_EQ(v, 200.0f * (1.0f / 255.0f)) << w << "x" << h << " -> " << size;
      }
    }
  }
}

TEST(Augment, OutputStaysInUnitRange) {
  const int n = 64;
  Image image = make_image(n, n, test::noise_image(n, n, 9));
  AugmentRanges ranges;
  std::vector<float> out(3 * 40 * 40);
  for (int i = 0; i < 50; ++i) {
    AugmentParams p = draw_augment(ranges, 40, 40, 1, 0, uint64_t(i));
    render_sample(image, Preprocess{50, 40}, &p, out.data());
    for (float v : out) ASSERT_TRUE(v >= 0.0f && v <= 1.0f) << v;
  }
}

// Preprocess::resize_first: Keras's transform applied to the plain render.
TEST(Augment, ResizeFirstTransformsThePlainRender) {
  const int w = 300, n = 70;
  Image image = make_image(w, w, test::noise_image(w, w, 11));
  Preprocess pre{250, n};
  std::vector<float> plain(3 * n * n), out(3 * n * n);
  render_sample(image, pre, nullptr, plain.data());
  pre.resize_first = true;
  // Without parameters (validation, test) the flag changes nothing.
  render_sample(image, pre, nullptr, out.data());
  EXPECT_EQ(out, plain);
  // Parameters that draw nothing give the plain render exactly; a flip mirrors it.
  AugmentParams none, flip;
  flip.flip = true;
  render_sample(image, pre, &none, out.data());
  EXPECT_EQ(out, plain);
  render_sample(image, pre, &flip, out.data());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x) ASSERT_EQ(out[(c * n + y) * n + x], plain[(c * n + y) * n + n - 1 - x]);
  // Random draws: Keras's apply_affine_transform on the plain render (bilinear,
  // 'nearest' fill), then its horizontal flip, computed here in double.
  AugmentRanges ranges;
  for (int i = 0; i < 10; ++i) {
    const AugmentParams p = draw_augment(ranges, n, n, 5, 0, uint64_t(i));
    render_sample(image, pre, &p, out.data());
    AugmentParams unflipped = p;
    unflipped.flip = false;
    const Affine a = keras_affine(unflipped, n, n);
    double worst = 0;
    for (int c = 0; c < 3; ++c) {
      auto at = [&](int row, int col) { return double(plain[(c * n + row) * n + col]); };
      for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x) {
          const int col = p.flip ? n - 1 - x : x;  // Keras flips the transformed image
          const double u = std::clamp(a.m[0][0] * y + a.m[0][1] * col + a.m[0][2], 0.0, n - 1.0);
          const double v = std::clamp(a.m[1][0] * y + a.m[1][1] * col + a.m[1][2], 0.0, n - 1.0);
          const int r0 = std::min(int(std::floor(u)), n - 2), c0 = std::min(int(std::floor(v)), n - 2);
          const double fr = u - r0, fc = v - c0;
          const double want = (1 - fr) * ((1 - fc) * at(r0, c0) + fc * at(r0, c0 + 1)) +
                              fr * ((1 - fc) * at(r0 + 1, c0) + fc * at(r0 + 1, c0 + 1));
          worst = std::max(worst, std::fabs(double(out[(c * n + y) * n + x]) - want));
        }
    }
    EXPECT_LT(worst, 1e-5) << "draw " << i;
  }
}

}  // namespace
}  // namespace nebula::data
