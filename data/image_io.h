// Image decoding and encoding. JPEGs go through libjpeg-turbo's TurboJPEG API,
// which can decode at 1/2, 1/4 or 1/8 scale by skipping most of the inverse DCT;
// PNGs through stb_image. A decoder warning (premature end, corrupt data) is a
// failure: a damaged image must be reported and skipped, never trained on.
// Grayscale and CMYK JPEGs, progressive ones and any size decode to RGB.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nebula::data {

// An 8-bit RGB image, interleaved, row-major. When decoded at a reduced scale,
// decoded pixel (x, y) covers source pixels [x*scale, (x+1)*scale): its centre
// is at source coordinate (x + 0.5) * scale - 0.5. When only a window of the
// decoded image was decoded, pixels[0] is decoded pixel (x0, y0).
struct Image {
  int width = 0;  // of the pixels held
  int height = 0;
  int x0 = 0;  // the window's position in the whole decoded image
  int y0 = 0;
  int scale = 1;         // decoded at 1/scale of the source
  int source_width = 0;  // size of the encoded image
  int source_height = 0;
  std::vector<uint8_t> pixels;

  const uint8_t* at(int x, int y) const { return pixels.data() + (static_cast<size_t>(y) * width + x) * 3; }
};

enum class ImageFormat { Unknown, Jpeg, Png };
ImageFormat sniff_format(const uint8_t* data, size_t size);

struct ImageHeader {
  ImageFormat format = ImageFormat::Unknown;
  int width = 0;
  int height = 0;
  bool libjpeg_only = false;  // a JPEG whose subsampling TurboJPEG refuses: decoded through libjpeg
};

// The largest image a data set may hold, in pixels (PIL's default, 89.5 million, so
// a file PIL opens opens here too); decoding a bigger one is refused before any
// pixel is allocated. The environment variable raises it.
constexpr int64_t kDefaultMaxImagePixels = 89478485;
constexpr const char* kMaxImagePixelsVariable = "NEBULA_MAX_IMAGE_PIXELS";
// The limit in force: the variable's value, else the default (throws naming the
// variable when it is not a positive whole number).
int64_t max_image_pixels();

// The DCT scales TurboJPEG decodes at, largest reduction last.
constexpr int kDecodeScales[] = {1, 2, 4, 8};

// A rectangle of decoded pixels, [x0, x1) x [y0, y1).
struct Window {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// The largest reduction k in {1, 2, 4, 8} that still leaves `need_w` x `need_h`
// pixels across a source region of `region_w` x `region_h`.
int choose_decode_scale(int region_w, int region_h, int need_w, int need_h);

// One per thread: owns a TurboJPEG handle. Decoding never throws for bad data;
// it returns false with a one-line reason. The pixel limit is read when the
// decoder is made.
class ImageDecoder {
 public:
  ImageDecoder();
  ~ImageDecoder();
  ImageDecoder(const ImageDecoder&) = delete;
  ImageDecoder& operator=(const ImageDecoder&) = delete;

  bool read_header(const uint8_t* data, size_t size, ImageHeader* header, std::string* error);
  // Decodes at 1/scale (scale in {1, 2, 4, 8}; PNGs always decode at 1). With a
  // window, a baseline JPEG is decoded only as far as the window needs: rows
  // above it skip the inverse DCT, columns beside it are cropped (to iMCU
  // boundaries, so a little more may come back), rows below are never read.
  // A file without its end-of-image marker (truncated) is decoded whole, so
  // the damage is still caught.
  bool decode(const uint8_t* data, size_t size, int scale, Image* out, std::string* error,
              const Window* window = nullptr);

 private:
  bool read_header_once(const uint8_t* data, size_t size, ImageHeader* header, std::string* error);
  bool read_libjpeg_header(const uint8_t* data, size_t size, ImageHeader* header);
  // The libjpeg path for a window; returns 1 done, 0 broken, -1 not applicable (use the whole decode).
  // A libjpeg-only file is always decoded here.
  int decode_window(const uint8_t* data, size_t size, int scale, const Window& window, Image* out, std::string* error,
                    bool libjpeg_only);
  void* libjpeg();
  void reset();

  int64_t max_pixels_;  // max_image_pixels() when the decoder was made (first: it may throw)
  void* handle_;
  void* partial_ = nullptr;  // libjpeg decompressor for windows, created on first use
  std::vector<uint8_t> cmyk_;
};

struct JpegOptions {
  int quality = 90;
  bool chroma_420 = true;  // 4:2:0 chroma subsampling, as the Kaggle files use; else 4:4:4
  bool progressive = false;
};

// Encodes `channels` = 1 (gray), 3 (RGB) or 4 (Adobe-style inverted CMYK) pixels.
std::vector<uint8_t> encode_jpeg(const uint8_t* pixels, int width, int height, int channels,
                                 const JpegOptions& options = {});
// Encodes 1, 3 or 4 (RGBA) channel pixels as PNG.
std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels);

// TurboJPEG's quick CMYK <-> RGB conversion (Adobe inverted CMYK).
void rgb_to_cmyk(const uint8_t* rgb, uint8_t* cmyk, size_t pixels);
void cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb, size_t pixels);

}  // namespace nebula::data
