#include "data/image_io.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include <turbojpeg.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <jpeglib.h>

#include "base/environment.h"
#include "base/error.h"

namespace nebula::data {

namespace {

// Guards against a header that claims a giant image (a hostile or damaged file
// must not make us allocate gigabytes).
constexpr int kMaxSide = 16384;

class CompressHandle {
 public:
  CompressHandle() : handle_(tjInitCompress()) {
    NEBULA_CHECK(handle_ != nullptr, "TurboJPEG: cannot create a compressor: ", tjGetErrorStr2(nullptr));
  }
  ~CompressHandle() { tjDestroy(handle_); }
  tjhandle get() const { return handle_; }

 private:
  tjhandle handle_;
};

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const uint8_t* bytes = static_cast<const uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

// libjpeg's decompressor for partial decodes; errors and warnings jump back
// to the decode with the message.
struct PartialDecoder {
  struct ErrorManager {
    jpeg_error_mgr pub;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
  };
  jpeg_decompress_struct cinfo;
  ErrorManager error;
};

void partial_error_exit(j_common_ptr cinfo) {
  auto* error = reinterpret_cast<PartialDecoder::ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, error->message);
  std::longjmp(error->jump, 1);
}

void partial_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  auto* error = reinterpret_cast<PartialDecoder::ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, error->message);
  std::longjmp(error->jump, 2);  // a warning: corrupt data, premature end
}

// True when the file ends with an end-of-image marker (allowing a little trailing padding).
bool has_end_marker(const uint8_t* data, size_t size) {
  size_t from = size > 64 ? size - 64 : 0;
  for (size_t i = size; i-- > from + 1;)
    if (data[i - 1] == 0xFF && data[i] == 0xD9) return true;
  return false;
}

}  // namespace

ImageFormat sniff_format(const uint8_t* data, size_t size) {
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::Jpeg;
  static const uint8_t png[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (size >= 8 && std::memcmp(data, png, 8) == 0) return ImageFormat::Png;
  return ImageFormat::Unknown;
}

int choose_decode_scale(int region_w, int region_h, int need_w, int need_h) {
  int best = 1;
  for (int k : kDecodeScales)
    if (region_w >= need_w * k && region_h >= need_h * k) best = k;
  return best;
}

int64_t max_image_pixels() {
  return positive_whole_from_environment(kMaxImagePixelsVariable, kDefaultMaxImagePixels,
                                         "the largest image, in pixels, a data set may hold");
}

ImageDecoder::ImageDecoder() : max_pixels_(max_image_pixels()), handle_(tjInitDecompress()) {
  NEBULA_CHECK(handle_ != nullptr, "TurboJPEG: cannot create a decompressor: ", tjGetErrorStr2(nullptr));
}

ImageDecoder::~ImageDecoder() {
  tjDestroy(static_cast<tjhandle>(handle_));
  if (partial_) {
    auto* partial = static_cast<PartialDecoder*>(partial_);
    jpeg_destroy_decompress(&partial->cinfo);
    delete partial;
  }
}

// The libjpeg decompressor, made on first use; null if libjpeg cannot make one.
void* ImageDecoder::libjpeg() {
  if (partial_) return partial_;
  auto* partial = new PartialDecoder;
  partial->cinfo.err = jpeg_std_error(&partial->error.pub);
  partial->error.pub.error_exit = partial_error_exit;
  partial->error.pub.emit_message = partial_emit_message;
  if (setjmp(partial->error.jump)) {
    delete partial;
    return nullptr;
  }
  jpeg_create_decompress(&partial->cinfo);
  partial_ = partial;
  return partial_;
}

// TurboJPEG 2.1 reads only the subsamplings it names (4:4:4, 4:2:2, 4:2:0, gray,
// 4:4:0, 4:1:1); libjpeg reads any, such as 1x4 or 3x2 luma blocks.
bool ImageDecoder::read_libjpeg_header(const uint8_t* data, size_t size, ImageHeader* header) {
  if (!libjpeg()) return false;
  if (setjmp(static_cast<PartialDecoder*>(partial_)->error.jump)) {
    jpeg_abort_decompress(&static_cast<PartialDecoder*>(partial_)->cinfo);
    return false;
  }
  j_decompress_ptr cinfo = &static_cast<PartialDecoder*>(partial_)->cinfo;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  header->width = int(cinfo->image_width);
  header->height = int(cinfo->image_height);
  header->libjpeg_only = true;
  jpeg_abort_decompress(cinfo);
  return true;
}

int ImageDecoder::decode_window(const uint8_t* data, size_t size, int scale, const Window& window, Image* out,
                                std::string* error, bool libjpeg_only) {
  // Probably truncated: the whole decode will say so.
  if (!libjpeg_only && !has_end_marker(data, size)) return -1;
  if (!libjpeg()) {
    *error = "JPEG decoding failed: libjpeg cannot make a decompressor";
    return 0;
  }
  if (int kind = setjmp(static_cast<PartialDecoder*>(partial_)->error.jump)) {
    // Only members are read here: locals may not survive the longjmp.
    auto* failed = static_cast<PartialDecoder*>(partial_);
    jpeg_abort_decompress(&failed->cinfo);
    *error = std::string(kind == 2 ? "corrupt JPEG data: " : "JPEG decoding failed: ") + failed->error.message;
    return 0;
  }
  j_decompress_ptr cinfo = &static_cast<PartialDecoder*>(partial_)->cinfo;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  const bool rgb_output = cinfo->jpeg_color_space == JCS_YCbCr || cinfo->jpeg_color_space == JCS_GRAYSCALE;
  if (libjpeg_only && !rgb_output) {
    jpeg_abort_decompress(cinfo);
    *error = "JPEG decoding failed: an unusual chroma subsampling in a CMYK or other non-YCbCr colour space";
    return 0;
  }
  if (!libjpeg_only && (cinfo->progressive_mode || !rgb_output)) {
    jpeg_abort_decompress(cinfo);
    return -1;  // rare formats take the whole decode
  }
  cinfo->scale_num = 1;
  cinfo->scale_denom = static_cast<unsigned>(scale);
  cinfo->out_color_space = JCS_RGB;
  jpeg_start_decompress(cinfo);
  const int full_w = int(cinfo->output_width), full_h = int(cinfo->output_height);
  const int y0 = std::clamp(window.y0, 0, full_h - 1), y1 = std::clamp(window.y1, y0 + 1, full_h);
  JDIMENSION x0 = JDIMENSION(std::clamp(window.x0, 0, full_w - 1));
  JDIMENSION width = JDIMENSION(std::clamp(window.x1, int(x0) + 1, full_w)) - x0;
  if (width < JDIMENSION(full_w)) jpeg_crop_scanline(cinfo, &x0, &width);
  if (y0 > 0) jpeg_skip_scanlines(cinfo, JDIMENSION(y0));
  out->x0 = int(x0);
  out->y0 = y0;
  out->width = int(cinfo->output_width);
  out->height = y1 - y0;
  out->pixels.resize(size_t(out->width) * out->height * 3);
  const size_t stride = size_t(out->width) * 3;
  while (int(cinfo->output_scanline) < y1) {
    JSAMPROW rows[4];
    int count = std::min(4, y1 - int(cinfo->output_scanline));
    for (int i = 0; i < count; ++i) rows[i] = out->pixels.data() + (cinfo->output_scanline - y0 + i) * stride;
    jpeg_read_scanlines(cinfo, rows, JDIMENSION(count));
  }
  jpeg_abort_decompress(cinfo);  // the rows below the window are never read
  return 1;
}

bool ImageDecoder::read_header(const uint8_t* data, size_t size, ImageHeader* header, std::string* error) {
  if (!read_header_once(data, size, header, error)) {
    reset();
    return false;
  }
  return true;
}

// TurboJPEG 2.1 can leave a handle in a bad state after a failure (the next
// header reads as 0x0), so a failure always gets a fresh handle.
void ImageDecoder::reset() {
  tjDestroy(static_cast<tjhandle>(handle_));
  handle_ = tjInitDecompress();
  NEBULA_CHECK(handle_ != nullptr, "TurboJPEG: cannot create a decompressor: ", tjGetErrorStr2(nullptr));
}

bool ImageDecoder::read_header_once(const uint8_t* data, size_t size, ImageHeader* header, std::string* error) {
  *header = ImageHeader{};
  if (size == 0) {
    *error = "empty file";
    return false;
  }
  header->format = sniff_format(data, size);
  if (header->format == ImageFormat::Jpeg) {
    int subsamp = 0, colorspace = 0;
    if (tjDecompressHeader3(static_cast<tjhandle>(handle_), data, static_cast<unsigned long>(size), &header->width,
                            &header->height, &subsamp, &colorspace) != 0) {
      *error = std::string("bad JPEG header: ") + tjGetErrorStr2(static_cast<tjhandle>(handle_));
      if (!read_libjpeg_header(data, size, header)) return false;
      error->clear();
      reset();  // the failed read may have left the TurboJPEG handle unusable
    }
  } else if (header->format == ImageFormat::Png) {
    int channels = 0;
    if (!stbi_info_from_memory(data, static_cast<int>(size), &header->width, &header->height, &channels)) {
      *error = std::string("bad PNG header: ") + stbi_failure_reason();
      return false;
    }
  } else {
    *error = "not a JPEG or PNG file";
    return false;
  }
  const std::string size_text = std::to_string(header->width) + "x" + std::to_string(header->height);
  if (header->width <= 0 || header->height <= 0 || header->width > kMaxSide || header->height > kMaxSide) {
    *error = std::string(header->format == ImageFormat::Jpeg ? "bad JPEG header" : "bad PNG header") +
             ": unreasonable image size " + size_text;
    return false;
  }
  const int64_t pixels = int64_t(header->width) * header->height;
  if (pixels > max_pixels_) {
    *error = "image of " + size_text + " = " + std::to_string(pixels) + " pixels is over the limit of " +
             std::to_string(max_pixels_) + " (set " + kMaxImagePixelsVariable + " to raise it)";
    return false;
  }
  return true;
}

bool ImageDecoder::decode(const uint8_t* data, size_t size, int scale, Image* out, std::string* error,
                          const Window* window) {
  ImageHeader header;
  if (!read_header(data, size, &header, error)) return false;
  out->source_width = header.width;
  out->source_height = header.height;
  out->x0 = out->y0 = 0;
  if (header.libjpeg_only) {
    // A truncated file is decoded to its last row, so the damage is caught (as below).
    const Window whole{0, 0, header.width, header.height};  // in decoded pixels: clamped to the scaled size
    const bool windowed = window && has_end_marker(data, size);
    out->scale = scale;
    return decode_window(data, size, scale, windowed ? *window : whole, out, error, true) == 1;
  }
  if (window && header.format == ImageFormat::Jpeg) {
    out->scale = scale;
    int done = decode_window(data, size, scale, *window, out, error, false);
    if (done >= 0) return done == 1;
    out->x0 = out->y0 = 0;
  }

  if (header.format == ImageFormat::Png) {
    int w = 0, h = 0, channels = 0;
    uint8_t* pixels = stbi_load_from_memory(data, static_cast<int>(size), &w, &h, &channels, 3);
    if (!pixels) {
      *error = std::string("PNG decoding failed: ") + stbi_failure_reason();
      return false;
    }
    out->width = w;
    out->height = h;
    out->scale = 1;
    out->pixels.assign(pixels, pixels + static_cast<size_t>(w) * h * 3);
    stbi_image_free(pixels);
    return true;
  }

  auto handle = static_cast<tjhandle>(handle_);
  int subsamp = 0, colorspace = 0, w = 0, h = 0;
  tjDecompressHeader3(handle, data, static_cast<unsigned long>(size), &w, &h, &subsamp, &colorspace);
  tjscalingfactor factor{1, scale};
  out->scale = scale;
  out->width = TJSCALED(w, factor);
  out->height = TJSCALED(h, factor);
  // Warnings (a premature end, corrupt entropy data) stop the decode: such an image is broken.
  const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;
  const size_t count = static_cast<size_t>(out->width) * out->height;
  out->pixels.resize(count * 3);
  int status;
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    cmyk_.resize(count * 4);
    status = tjDecompress2(handle, data, static_cast<unsigned long>(size), cmyk_.data(), out->width, 0, out->height,
                           TJPF_CMYK, flags);
    if (status == 0) cmyk_to_rgb(cmyk_.data(), out->pixels.data(), count);
  } else {
    status = tjDecompress2(handle, data, static_cast<unsigned long>(size), out->pixels.data(), out->width, 0,
                           out->height, TJPF_RGB, flags);
  }
  if (status != 0) {
    const char* kind = tjGetErrorCode(handle) == TJERR_WARNING ? "corrupt JPEG data: " : "JPEG decoding failed: ";
    *error = std::string(kind) + tjGetErrorStr2(handle);
    reset();
    return false;
  }
  return true;
}

std::vector<uint8_t> encode_jpeg(const uint8_t* pixels, int width, int height, int channels,
                                 const JpegOptions& options) {
  NEBULA_CHECK(channels == 1 || channels == 3 || channels == 4, "encode_jpeg: channels must be 1, 3 or 4, got ",
               channels);
  // TurboJPEG 2.1 leaves a handle that made a progressive JPEG writing corrupt
  // baseline ones afterwards, so progressive encodes get a handle of their own.
  thread_local CompressHandle baseline_compressor;
  std::unique_ptr<CompressHandle> progressive_compressor;
  if (options.progressive) progressive_compressor = std::make_unique<CompressHandle>();
  const CompressHandle& compressor = options.progressive ? *progressive_compressor : baseline_compressor;
  int format = channels == 1 ? TJPF_GRAY : channels == 3 ? TJPF_RGB : TJPF_CMYK;
  int subsamp = channels == 1 ? TJSAMP_GRAY : options.chroma_420 ? TJSAMP_420 : TJSAMP_444;
  int flags = options.progressive ? TJFLAG_PROGRESSIVE : 0;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  int status =
      tjCompress2(compressor.get(), pixels, width, 0, height, format, &buffer, &size, subsamp, options.quality, flags);
  if (status != 0) {
    std::string message = tjGetErrorStr2(compressor.get());
    tjFree(buffer);
    NEBULA_FAIL("JPEG encoding of a ", width, "x", height, " image failed: ", message);
  }
  std::vector<uint8_t> out(buffer, buffer + size);
  tjFree(buffer);
  return out;
}

std::vector<uint8_t> encode_png(const uint8_t* pixels, int width, int height, int channels) {
  std::vector<uint8_t> out;
  int ok = stbi_write_png_to_func(append_bytes, &out, width, height, channels, pixels, width * channels);
  NEBULA_CHECK(ok, "PNG encoding of a ", width, "x", height, " image failed");
  return out;
}

void rgb_to_cmyk(const uint8_t* rgb, uint8_t* cmyk, size_t pixels) {
  for (size_t i = 0; i < pixels; ++i) {
    double c = 1.0 - rgb[3 * i] / 255.0, m = 1.0 - rgb[3 * i + 1] / 255.0, y = 1.0 - rgb[3 * i + 2] / 255.0;
    double k = std::min(std::min(c, m), y);
    if (k == 1.0) {
      c = m = y = 0.0;
    } else {
      c = (c - k) / (1.0 - k);
      m = (m - k) / (1.0 - k);
      y = (y - k) / (1.0 - k);
    }
    cmyk[4 * i] = static_cast<uint8_t>(255.0 - c * 255.0 + 0.5);
    cmyk[4 * i + 1] = static_cast<uint8_t>(255.0 - m * 255.0 + 0.5);
    cmyk[4 * i + 2] = static_cast<uint8_t>(255.0 - y * 255.0 + 0.5);
    cmyk[4 * i + 3] = static_cast<uint8_t>(255.0 - k * 255.0 + 0.5);
  }
}

void cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb, size_t pixels) {
  for (size_t i = 0; i < pixels; ++i) {
    unsigned k = cmyk[4 * i + 3];
    for (int c = 0; c < 3; ++c) rgb[3 * i + c] = static_cast<uint8_t>((cmyk[4 * i + c] * k + 127) / 255);
  }
}

}  // namespace nebula::data
