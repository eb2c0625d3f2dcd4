#include "models/imagenet_preprocess.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/error.h"

namespace nebula {

namespace {

// Pillow's Resample.c: precompute_coeffs for the bilinear filter (support 1)
// over the box [0, in_size), then normalize_coeffs_8bpc.
constexpr int kPrecisionBits = 32 - 8 - 2;

struct Coefficients {
  int taps = 0;                   // coefficients per output pixel
  std::vector<int> first, count;  // per output pixel: first input pixel, how many
  std::vector<int32_t> weights;   // [out][taps], fixed point
};

Coefficients precompute(int in_size, int out_size) {
  double scale = static_cast<double>(in_size) / out_size;
  double filterscale = std::max(scale, 1.0);
  double support = 1.0 * filterscale;
  Coefficients c;
  c.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.weights.assign(static_cast<size_t>(out_size) * c.taps, 0);
  std::vector<double> k(c.taps);
  for (int xx = 0; xx < out_size; ++xx) {
    double center = (xx + 0.5) * scale;
    double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      double t = std::fabs((x + xmin - center + 0.5) * ss);
      double w = t < 1.0 ? 1.0 - t : 0.0;
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      if (ww != 0.0) k[x] /= ww;
      double v = k[x] * (1 << kPrecisionBits);
      c.weights[static_cast<size_t>(xx) * c.taps + x] = static_cast<int32_t>(v < 0 ? v - 0.5 : v + 0.5);
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

uint8_t clip8(int32_t v) {
  v >>= kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

data::Image resize_horizontal(const data::Image& in, int width) {
  Coefficients c = precompute(in.width, width);
  data::Image out;
  out.width = width;
  out.height = in.height;
  out.pixels.resize(static_cast<size_t>(width) * in.height * 3);
  for (int y = 0; y < in.height; ++y)
    for (int x = 0; x < width; ++x) {
      const int32_t* k = &c.weights[static_cast<size_t>(x) * c.taps];
      for (int ch = 0; ch < 3; ++ch) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int i = 0; i < c.count[x]; ++i) ss += in.at(c.first[x] + i, y)[ch] * k[i];
        out.pixels[(static_cast<size_t>(y) * width + x) * 3 + ch] = clip8(ss);
      }
    }
  return out;
}

data::Image resize_vertical(const data::Image& in, int height) {
  Coefficients c = precompute(in.height, height);
  data::Image out;
  out.width = in.width;
  out.height = height;
  out.pixels.resize(static_cast<size_t>(in.width) * height * 3);
  for (int y = 0; y < height; ++y) {
    const int32_t* k = &c.weights[static_cast<size_t>(y) * c.taps];
    for (int x = 0; x < in.width; ++x)
      for (int ch = 0; ch < 3; ++ch) {
        int32_t ss = 1 << (kPrecisionBits - 1);
        for (int i = 0; i < c.count[y]; ++i) ss += in.at(x, c.first[y] + i)[ch] * k[i];
        out.pixels[(static_cast<size_t>(y) * in.width + x) * 3 + ch] = clip8(ss);
      }
  }
  return out;
}

}  // namespace

data::Image resize_bilinear(const data::Image& image, int width, int height) {
  NEBULA_CHECK(width > 0 && height > 0 && image.width > 0 && image.height > 0, "resize of a ", image.width, "x",
               image.height, " image to ", width, "x", height);
  NEBULA_CHECK(image.pixels.size() == static_cast<size_t>(image.width) * image.height * 3,
               "resize: the image's pixels do not match its size");
  data::Image out = image;
  // Pillow resamples horizontally first, then vertically, skipping a pass
  // whose size does not change.
  if (width != out.width) out = resize_horizontal(out, width);
  if (height != out.height) out = resize_vertical(out, height);
  out.scale = 1;
  out.source_width = image.source_width;
  out.source_height = image.source_height;
  return out;
}

int imagenet_resize_size(int size) { return static_cast<int>(std::lround(size / 0.875)); }

void imagenet_preprocess(const data::Image& image, int size, float* out) {
  const data::Image* source = &image;
  data::Image resized;
  int left = 0, top = 0;
  if (image.width != size || image.height != size) {
    // torchvision's Resize(short): the long side becomes int(short * long / short_side).
    int target = imagenet_resize_size(size);
    int w = image.width, h = image.height;
    int new_w, new_h;
    if (w <= h) {
      new_w = target;
      new_h = static_cast<int>(static_cast<int64_t>(target) * h / w);
    } else {
      new_h = target;
      new_w = static_cast<int>(static_cast<int64_t>(target) * w / h);
    }
    resized = resize_bilinear(image, new_w, new_h);
    source = &resized;
    // CenterCrop: int(round((side - size) / 2.0)), round half to even.
    left = static_cast<int>(std::nearbyint((new_w - size) / 2.0));
    top = static_cast<int>(std::nearbyint((new_h - size) / 2.0));
  }
  const size_t plane = static_cast<size_t>(size) * size;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const uint8_t* p = source->at(left + x, top + y);
      for (int c = 0; c < 3; ++c) {
        float v = static_cast<float>(p[c]) / 255.0f;
        out[c * plane + static_cast<size_t>(y) * size + x] = (v - kImagenetMean[c]) / kImagenetStd[c];
      }
    }
}

}  // namespace nebula
