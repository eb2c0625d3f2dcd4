// The image decoder (data/image_io.h): the header, then a decode at scales 1
// and 8, whole and through a window (the centre half, as a crop asks for).
// One decoder serves every input, as one serves a loader thread.
#include <algorithm>
#include <cstdint>
#include <string>

#include "base/error.h"
#include "data/image_io.h"
#include "fuzz_check.h"

using nebula::data::Image;
using nebula::data::ImageFormat;
using nebula::data::ImageHeader;
using nebula::data::Window;

namespace {

// A decode that succeeds holds the pixels it says, inside the decoded image,
// and covers the window it was asked for.
void check(const ImageHeader& header, int scale, const Image& image, const Window* window) {
  const int s = header.format == ImageFormat::Png ? 1 : scale;
  const int full_w = (header.width + s - 1) / s, full_h = (header.height + s - 1) / s;
  FUZZ_EXPECT(image.scale == s);
  FUZZ_EXPECT(image.source_width == header.width && image.source_height == header.height);
  FUZZ_EXPECT(image.width > 0 && image.height > 0);
  FUZZ_EXPECT(image.pixels.size() == size_t(image.width) * image.height * 3);
  FUZZ_EXPECT(image.x0 >= 0 && image.y0 >= 0 && image.x0 + image.width <= full_w && image.y0 + image.height <= full_h);
  if (window) {
    FUZZ_EXPECT(image.x0 <= window->x0 && image.x0 + image.width >= std::min(window->x1, full_w));
    FUZZ_EXPECT(image.y0 <= window->y0 && image.y0 + image.height >= std::min(window->y1, full_h));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nebula::data::ImageDecoder decoder;  // decoding never throws: any exception is a finding
  ImageHeader header;
  std::string error;
  if (!decoder.read_header(data, size, &header, &error)) {
    FUZZ_EXPECT(!error.empty());
    return 0;
  }
  FUZZ_EXPECT(header.width > 0 && header.height > 0);
  for (int scale : {1, 8}) {
    const int w = (header.width + scale - 1) / scale, h = (header.height + scale - 1) / scale;
    const Window centre{w / 4, h / 4, w / 4 + std::max(1, w / 2), h / 4 + std::max(1, h / 2)};
    for (const Window* window : {static_cast<const Window*>(nullptr), &centre}) {
      Image image;
      error.clear();
      if (decoder.decode(data, size, scale, &image, &error, window))
        check(header, scale, image, window);
      else
        FUZZ_EXPECT(!error.empty());
    }
  }
  return 0;
}
