// Decoding: a known image comes back, DCT scaling gives the expected sizes and
// values, awkward but valid files (grayscale, CMYK, progressive, other sizes,
// PNG) decode to RGB, and broken ones fail with a reason, never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/image_io.h"
#include "data_test_util.h"

namespace nebula::data {
namespace {

double mean_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  double sum = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) sum += std::abs(int(a[i]) - int(b[i]));
  return sum / double(a.size());
}

TEST(ImageIo, KnownImageDecodesBack) {
  const int w = 96, h = 64;
  std::vector<uint8_t> rgb = test::pattern_image(w, h);
  JpegOptions options;
  options.quality = 100;
  options.chroma_420 = false;
  std::vector<uint8_t> jpeg = encode_jpeg(rgb.data(), w, h, 3, options);
  ImageDecoder decoder;
  Image image;
  std::string error;
  ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), 1, &image, &error)) << error;
  EXPECT_EQ(image.width, w);
  EXPECT_EQ(image.height, h);
  EXPECT_EQ(image.source_width, w);
  EXPECT_EQ(image.scale, 1);
  EXPECT_LT(mean_abs_diff(image.pixels, rgb), 1.0);
  int worst = 0;
  for (size_t i = 0; i < rgb.size(); ++i) worst = std::max(worst, std::abs(int(image.pixels[i]) - int(rgb[i])));
  EXPECT_LE(worst, 4);
}

TEST(ImageIo, ScaledDecodingAveragesBlocks) {
  const int w = 424, h = 424;
  std::vector<uint8_t> rgb = test::pattern_image(w, h);
  std::vector<uint8_t> jpeg = encode_jpeg(rgb.data(), w, h, 3, JpegOptions{95, false, false});
  ImageDecoder decoder;
  for (int k : {2, 4, 8}) {
    Image image;
    std::string error;
    ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), k, &image, &error)) << error;
    EXPECT_EQ(image.width, (w + k - 1) / k);
    EXPECT_EQ(image.height, (h + k - 1) / k);
    EXPECT_EQ(image.scale, k);
    // Each decoded pixel is close to the mean of its k x k source block.
    double total = 0.0;
    for (int y = 0; y < image.height; ++y)
      for (int x = 0; x < image.width; ++x)
        for (int c = 0; c < 3; ++c) {
          double mean = 0.0;
          for (int dy = 0; dy < k; ++dy)
            for (int dx = 0; dx < k; ++dx) mean += rgb[((size_t(y) * k + dy) * w + x * k + dx) * 3 + c];
          total += std::abs(mean / (k * k) - image.at(x, y)[c]);
        }
    EXPECT_LT(total / (image.width * image.height * 3), 2.5) << "scale 1/" << k;
  }
}

TEST(ImageIo, ChoosesTheSmallestSufficientScale) {
  EXPECT_EQ(choose_decode_scale(250, 250, 70, 70), 2);    // crop 250 -> 70: 125 >= 70, 62 < 70
  EXPECT_EQ(choose_decode_scale(424, 424, 100, 100), 4);  // 106 >= 100
  EXPECT_EQ(choose_decode_scale(424, 424, 70, 70), 4);
  EXPECT_EQ(choose_decode_scale(424, 424, 50, 50), 8);
  EXPECT_EQ(choose_decode_scale(424, 424, 424, 424), 1);
  EXPECT_EQ(choose_decode_scale(100, 100, 200, 200), 1);
}

TEST(ImageIo, AwkwardValidImagesDecodeToRgb) {
  const int w = 120, h = 80;
  std::vector<uint8_t> rgb = test::pattern_image(w, h);
  ImageDecoder decoder;
  Image image;
  std::string error;

  // Grayscale: three equal channels.
  std::vector<uint8_t> gray(size_t(w) * h);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = rgb[3 * i + 1];
  std::vector<uint8_t> jpeg = encode_jpeg(gray.data(), w, h, 1, JpegOptions{100, false, false});
  ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), 1, &image, &error)) << error;
  ASSERT_EQ(image.pixels.size(), size_t(w) * h * 3);
  double diff = 0.0;
  for (size_t i = 0; i < gray.size(); ++i) {
    EXPECT_EQ(image.pixels[3 * i], image.pixels[3 * i + 1]);
    EXPECT_EQ(image.pixels[3 * i + 2], image.pixels[3 * i + 1]);
    diff += std::abs(int(image.pixels[3 * i]) - int(gray[i]));
  }
  EXPECT_LT(diff / gray.size(), 1.0);

  // CMYK (Adobe-style inverted, as Photoshop writes it).
  std::vector<uint8_t> cmyk(size_t(w) * h * 4);
  rgb_to_cmyk(rgb.data(), cmyk.data(), size_t(w) * h);
  jpeg = encode_jpeg(cmyk.data(), w, h, 4, JpegOptions{100, false, false});
  ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), 1, &image, &error)) << error;
  EXPECT_LT(mean_abs_diff(image.pixels, rgb), 3.0);

  // Progressive.
  jpeg = encode_jpeg(rgb.data(), w, h, 3, JpegOptions{100, false, true});
  ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), 2, &image, &error)) << error;
  EXPECT_EQ(image.width, 60);
  EXPECT_EQ(image.height, 40);

  // Odd size at a reduced scale rounds up, like TurboJPEG.
  std::vector<uint8_t> odd = test::pattern_image(101, 37);
  jpeg = encode_jpeg(odd.data(), 101, 37, 3);
  ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), 4, &image, &error)) << error;
  EXPECT_EQ(image.width, 26);
  EXPECT_EQ(image.height, 10);

  // PNG, exact.
  std::vector<uint8_t> png = encode_png(rgb.data(), w, h, 3);
  ASSERT_TRUE(decoder.decode(png.data(), png.size(), 4, &image, &error)) << error;
  EXPECT_EQ(image.scale, 1);
  EXPECT_EQ(image.pixels, rgb);
}

TEST(ImageIo, WindowedDecodingMatchesTheWholeDecode) {
  // A busy 424x424 4:2:0 JPEG like the Kaggle files, decoded whole and through the crop's window.
  std::vector<uint8_t> rgb = test::noise_image(424, 424, 2);
  std::vector<uint8_t> smooth = test::pattern_image(424, 424);
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = uint8_t((rgb[i] / 4 + smooth[i]) / 1.3);
  std::vector<uint8_t> jpeg = encode_jpeg(rgb.data(), 424, 424, 3, JpegOptions{85, true, false});
  ImageDecoder decoder;
  for (int scale : {1, 2, 4, 8}) {
    Image whole, part;
    std::string error;
    ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), scale, &whole, &error)) << error;
    Window window = decode_window_for(424, 424, Preprocess{250, 70}, scale);
    ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), scale, &part, &error, &window)) << error;
    EXPECT_LE(part.x0, window.x0);
    EXPECT_EQ(part.y0, window.y0);
    EXPECT_GE(part.x0 + part.width, window.x1);
    EXPECT_EQ(part.y0 + part.height, window.y1);
    EXPECT_LT(part.width * part.height, whole.width * whole.height) << "scale 1/" << scale;
    // Every pixel the window asked for is as in the whole decode. (The first column of a
    // crop can differ: libjpeg upsamples chroma there without its left neighbour. The
    // window asks for one pixel more than sampling touches, so that column is never used.)
    ASSERT_GT(window.x0, part.x0 - 1);
    for (int y = 0; y < part.height; ++y)
      ASSERT_EQ(0, std::memcmp(part.at(window.x0 - part.x0 + 1, y), whole.at(window.x0 + 1, part.y0 + y),
                               size_t(window.x1 - window.x0 - 1) * 3))
          << "scale 1/" << scale << " row " << y;
  }
  // A truncated file is decoded whole, so the damage is caught even outside the window.
  std::vector<uint8_t> cut(jpeg.begin(), jpeg.end() - jpeg.size() / 10);
  Window window = decode_window_for(424, 424, Preprocess{250, 70}, 2);
  Image image;
  std::string error;
  EXPECT_FALSE(decoder.decode(cut.data(), cut.size(), 2, &image, &error, &window));
  EXPECT_NE(error.find("JPEG"), std::string::npos) << error;
  // Corrupt data inside the window is caught by the windowed decode itself.
  std::vector<uint8_t> corrupt = jpeg;
  for (size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 200; ++i) corrupt[i] = uint8_t(i * 37);
  EXPECT_FALSE(decoder.decode(corrupt.data(), corrupt.size(), 2, &image, &error, &window));
  EXPECT_NE(error.find("JPEG"), std::string::npos) << error;
  // Progressive files take the whole decode and still give the window's pixels.
  std::vector<uint8_t> progressive = encode_jpeg(rgb.data(), 424, 424, 3, JpegOptions{85, true, true});
  ASSERT_TRUE(decoder.decode(progressive.data(), progressive.size(), 2, &image, &error, &window)) << error;
  EXPECT_EQ(image.x0, 0);
  EXPECT_EQ(image.width, 212);
}

TEST(ImageIo, RenderingFromTheWindowEqualsRenderingFromTheWholeImage) {
  std::vector<uint8_t> rgb = test::pattern_image(424, 424);
  std::vector<uint8_t> jpeg = encode_jpeg(rgb.data(), 424, 424, 3);
  ImageDecoder decoder;
  Image whole, part;
  std::string error;
  const Preprocess pre{250, 70};
  ASSERT_TRUE(decoder.decode(jpeg.data(), jpeg.size(), 2, &whole, &error)) << error;
  ASSERT_TRUE(decode_for(jpeg.data(), jpeg.size(), pre, 0, decoder, &part, &error)) << error;
  EXPECT_EQ(part.scale, 2);
  EXPECT_GT(part.x0, 0);
  std::vector<float> a(3 * 70 * 70), b(a.size());
  AugmentRanges ranges;
  for (int i = 0; i < 20; ++i) {
    AugmentParams p = draw_augment(ranges, 70, 70, 9, 0, uint64_t(i));
    render_sample(whole, pre, &p, a.data());
    render_sample(part, pre, &p, b.data());
    ASSERT_EQ(a, b) << "draw " << i;
  }
}

// A PNG signature and IHDR chunk claiming width x height: all a header read looks at.
std::vector<uint8_t> png_header_claiming(uint32_t width, uint32_t height) {
  std::vector<uint8_t> bytes = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  for (uint32_t v : {width, height})
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(uint8_t(v >> shift));
  for (uint8_t b : {8, 2, 0, 0, 0, 0, 0, 0, 0}) bytes.push_back(b);  // 8-bit RGB, then a CRC stb ignores
  return bytes;
}

TEST(ImageIo, ImagesOverThePixelLimitAreRefusedAtTheHeader) {
  ::unsetenv(kMaxImagePixelsVariable);
  std::vector<uint8_t> huge = png_header_claiming(16384, 16384);
  ImageDecoder decoder;
  ImageHeader header;
  std::string error;
  EXPECT_FALSE(decoder.read_header(huge.data(), huge.size(), &header, &error));
  EXPECT_EQ(error,
            "image of 16384x16384 = 268435456 pixels is over the limit of 89478485 (set "
            "NEBULA_MAX_IMAGE_PIXELS to raise it)");
  Image image;
  EXPECT_FALSE(decoder.decode(huge.data(), huge.size(), 1, &image, &error));
  EXPECT_TRUE(image.pixels.empty());
  std::vector<uint8_t> large = png_header_claiming(9000, 9000);  // 81 million: under the default
  EXPECT_TRUE(decoder.read_header(large.data(), large.size(), &header, &error)) << error;
}

TEST(ImageIo, ThePixelLimitIsRaisedByItsVariable) {
  std::vector<uint8_t> huge = png_header_claiming(16384, 16384);
  ::setenv(kMaxImagePixelsVariable, "300000000", 1);
  ImageDecoder raised;
  ImageHeader header;
  std::string error;
  EXPECT_TRUE(raised.read_header(huge.data(), huge.size(), &header, &error)) << error;
  ::setenv(kMaxImagePixelsVariable, "1000", 1);
  ImageDecoder lowered;
  std::vector<uint8_t> small = png_header_claiming(40, 30);
  EXPECT_FALSE(lowered.read_header(small.data(), small.size(), &header, &error));
  EXPECT_NE(error.find("over the limit of 1000"), std::string::npos) << error;
  ::setenv(kMaxImagePixelsVariable, "lots", 1);
  EXPECT_THROW(ImageDecoder(), Error);
  ::unsetenv(kMaxImagePixelsVariable);
}

TEST(ImageIo, BrokenFilesFailWithAReason) {
  const int w = 128, h = 128;
  std::vector<uint8_t> noise = test::noise_image(w, h);
  std::vector<uint8_t> good = encode_jpeg(noise.data(), w, h, 3, JpegOptions{90, true, false});
  std::vector<uint8_t> progressive = encode_jpeg(noise.data(), w, h, 3, JpegOptions{90, true, true});

  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    const char* reason;
  };
  std::vector<Case> cases;
  cases.push_back({"empty", {}, "empty file"});
  cases.push_back({"garbage", std::vector<uint8_t>(1000, 0x42), "not a JPEG or PNG"});
  cases.push_back({"JPEG magic only", {0xFF, 0xD8, 0xFF}, "JPEG"});
  cases.push_back({"truncated to the header", std::vector<uint8_t>(good.begin(), good.begin() + 300), "JPEG"});
  cases.push_back({"truncated at half", std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2), "JPEG"});
  cases.push_back({"last bytes cut", std::vector<uint8_t>(good.begin(), good.end() - 10), "JPEG"});
  cases.push_back({"progressive truncated",
                   std::vector<uint8_t>(progressive.begin(), progressive.begin() + progressive.size() / 2), "JPEG"});
  std::vector<uint8_t> corrupt = good;
  for (size_t i = corrupt.size() / 3; i < corrupt.size() / 3 + 64; ++i) corrupt[i] = 0xFF;  // markers in the scan
  cases.push_back({"corrupt entropy data", corrupt, "JPEG"});
  std::vector<uint8_t> png = encode_png(noise.data(), w, h, 3);
  cases.push_back({"truncated PNG", std::vector<uint8_t>(png.begin(), png.begin() + png.size() / 2), "PNG"});

  ImageDecoder decoder;
  for (const Case& c : cases) {
    Image image;
    std::string error;
    for (int scale : {1, 8}) {
      EXPECT_FALSE(decoder.decode(c.bytes.data(), c.bytes.size(), scale, &image, &error)) << c.what;
      EXPECT_NE(error.find(c.reason), std::string::npos) << c.what << ": '" << error << "'";
    }
  }
  // The decoder is still good after all that.
  Image image;
  std::string error;
  EXPECT_TRUE(decoder.decode(good.data(), good.size(), 1, &image, &error)) << error;
}

}  // namespace
}  // namespace nebula::data
