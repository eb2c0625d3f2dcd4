// JPEGs whose chroma subsampling TurboJPEG 2.1 refuses ("Could not determine
// subsampling type": luma blocks of 1x4 or 3x2, which PIL reads) decode through
// libjpeg: whole, windowed, DCT-scaled, and truncated ones still fail.
#include <gtest/gtest.h>

#include <string>

#include "data/image_io.h"
#include "data_test_util.h"
#include "tests/data/jpeg_sampling.h"

namespace nebula::data {
namespace {

// Encodes RGB with the given luma sampling factors (chroma 1x1), as libjpeg allows
// and TurboJPEG's API does not.
std::vector<uint8_t> encode_with_sampling(const std::vector<uint8_t>& rgb, int w, int h, int luma_h, int luma_v) {
  return nebula::test::jpeg_with_luma_sampling(rgb.data(), w, h, luma_h, luma_v, 98);
}

// A smooth image, so that chroma subsampling loses little.
std::vector<uint8_t> smooth_image(int w, int h) {
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = rgb.data() + (size_t(y) * w + x) * 3;
      p[0] = uint8_t(40 + x * 150 / w);
      p[1] = uint8_t(200 - y * 120 / h);
      p[2] = uint8_t(90 + (x + y) * 60 / (w + h));
    }
  return rgb;
}

double mean_abs_diff(const uint8_t* a, const uint8_t* b, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += std::abs(int(a[i]) - int(b[i]));
  return sum / double(n);
}

struct Sampling {
  int h, v;
};

class UnusualSubsampling : public ::testing::TestWithParam<Sampling> {};

TEST_P(UnusualSubsampling, DecodesWholeLikeTheSource) {
  const int w = 96, h = 80;
  std::vector<uint8_t> rgb = smooth_image(w, h);
  std::vector<uint8_t> jpeg = encode_with_sampling(rgb, w, h, GetParam().h, GetParam().v);
  ImageDecoder decoder;
  ImageHeader header;
  std::string error;
  ASSERT_TRUE(decoder.read_header(jpeg.data(), jpeg.size(), &header, &error)) << error;
  EXPECT_TRUE(header.libjpeg_only);  // else this test no longer covers the fallback
  EXPECT_EQ(header.width, w);
  EXPECT_EQ(header.height, h);
  Image image;
  ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), 1, &image, &error)) << error;
  ASSERT_EQ(image.width, w);
  ASSERT_EQ(image.height, h);
  EXPECT_LT(mean_abs_diff(image.pixels.data(), rgb.data(), rgb.size()), 2.0);
}

TEST_P(UnusualSubsampling, WindowsAndScalesAgreeWithTheWholeDecode) {
  const int w = 160, h = 128;
  std::vector<uint8_t> jpeg = encode_with_sampling(test::noise_image(w, h), w, h, GetParam().h, GetParam().v);
  ImageDecoder decoder;
  std::string error;
  for (int scale : {1, 2, 4}) {
    Image whole, part;
    ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), scale, &whole, &error)) << error;
    EXPECT_EQ(whole.width, w / scale);
    Window window{8 / scale, 40 / scale, 120 / scale, 100 / scale};
    ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), scale, &part, &error, &window)) << error;
    ASSERT_LE(part.x0, window.x0);
    ASSERT_EQ(part.y0, window.y0);
    ASSERT_GE(part.x0 + part.width, window.x1);
    for (int y = window.y0; y < window.y1; ++y)
      for (int x = window.x0; x < window.x1; ++x)
        for (int c = 0; c < 3; ++c)
          ASSERT_EQ(part.at(x - part.x0, y - part.y0)[c], whole.at(x, y)[c])
              << "scale " << scale << " at " << x << "," << y;
  }
}

TEST_P(UnusualSubsampling, TruncatedFilesStillFail) {
  const int w = 96, h = 96;
  std::vector<uint8_t> jpeg = encode_with_sampling(test::noise_image(w, h), w, h, GetParam().h, GetParam().v);
  std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + jpeg.size() * 2 / 3);
  ImageDecoder decoder;
  Image image;
  std::string error;
  Window window{0, 0, 16, 16};  // the damage is below the window: the whole file is read anyway
  EXPECT_FALSE(decoder.decode(cut.data(), cut.size(), 1, &image, &error, &window));
  EXPECT_NE(error.find("JPEG"), std::string::npos) << error;
  EXPECT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), 1, &image, &error)) << error;
}

INSTANTIATE_TEST_SUITE_P(LumaBlocks, UnusualSubsampling, ::testing::Values(Sampling{1, 4}, Sampling{3, 2}),
                         [](const auto& info) {
                           return std::to_string(info.param.h) + "x" + std::to_string(info.param.v);
                         });

}  // namespace
}  // namespace nebula::data
