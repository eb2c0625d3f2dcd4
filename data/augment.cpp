#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#include "base/counter_random.h"
#include "base/error.h"

namespace nebula::data {

namespace {

constexpr double kPi = 3.14159265358979323846;

Affine multiply(const Affine& a, const Affine& b) {
  Affine c;
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      c.m[i][j] = a.m[i][0] * b.m[0][j] + a.m[i][1] * b.m[1][j];
      if (j == 2) c.m[i][j] += a.m[i][2];
    }
  }
  return c;
}

}  // namespace

AugmentParams draw_augment(const AugmentRanges& r, int n_rows, int n_cols, uint64_t seed, uint64_t epoch,
                           uint64_t sample) {
  // Keras's draw order: theta, tx, ty, shear, (zx, zy), flip.
  CounterRandom random(seed, epoch, sample);
  AugmentParams p;
  p.theta = random.uniform(-r.rotation, r.rotation);
  p.tx = random.uniform(-r.height_shift, r.height_shift);
  if (r.height_shift < 1.0) p.tx *= n_rows;
  p.ty = random.uniform(-r.width_shift, r.width_shift);
  if (r.width_shift < 1.0) p.ty *= n_cols;
  p.shear = random.uniform(-r.shear, r.shear);
  p.zx = random.uniform(1.0 - r.zoom, 1.0 + r.zoom);
  p.zy = random.uniform(1.0 - r.zoom, 1.0 + r.zoom);
  p.flip = r.horizontal_flip && random.uniform(0.0, 1.0) < 0.5;
  return p;
}

Affine keras_affine(const AugmentParams& p, int n_rows, int n_cols) {
  double theta = p.theta * kPi / 180.0, shear = p.shear * kPi / 180.0;
  Affine rotation, shift, shearing, zoom;
  rotation.m[0][0] = std::cos(theta);
  rotation.m[0][1] = -std::sin(theta);
  rotation.m[1][0] = std::sin(theta);
  rotation.m[1][1] = std::cos(theta);
  shift.m[0][2] = p.tx;
  shift.m[1][2] = p.ty;
  shearing.m[0][1] = -std::sin(shear);
  shearing.m[1][1] = std::cos(shear);
  zoom.m[0][0] = p.zx;
  zoom.m[1][1] = p.zy;
  Affine m = multiply(multiply(multiply(rotation, shift), shearing), zoom);
  // Centre on o = (n/2 - 0.5): input = M (output - o) + o.
  double o_row = n_rows / 2.0 - 0.5, o_col = n_cols / 2.0 - 0.5;
  m.m[0][2] += o_row - m.m[0][0] * o_row - m.m[0][1] * o_col;
  m.m[1][2] += o_col - m.m[1][0] * o_row - m.m[1][1] * o_col;
  return m;
}

Region crop_region(int source_width, int source_height, int crop) {
  Region region;
  region.width = crop > 0 ? std::min(crop, source_width) : source_width;
  region.height = crop > 0 ? std::min(crop, source_height) : source_height;
  region.x0 = (source_width - region.width) / 2.0;
  region.y0 = (source_height - region.height) / 2.0;
  return region;
}

int decode_scale_for(int source_width, int source_height, const Preprocess& pre) {
  Region region = crop_region(source_width, source_height, pre.crop);
  return choose_decode_scale(region.width, region.height, pre.size, pre.size);
}

Window decode_window_for(int source_width, int source_height, const Preprocess& pre, int scale) {
  const Region region = crop_region(source_width, source_height, pre.crop);
  const int full_w = (source_width + scale - 1) / scale, full_h = (source_height + scale - 1) / scale;
  // Every sample lands in [region/k - 0.5, (region + size)/k - 0.5]; bilinear needs one more pixel each side.
  Window w;
  w.x0 = std::max(0, int(std::floor(region.x0 / scale - 0.5)) - 1);
  w.y0 = std::max(0, int(std::floor(region.y0 / scale - 0.5)) - 1);
  w.x1 = std::min(full_w, int(std::ceil((region.x0 + region.width) / scale - 0.5)) + 2);
  w.y1 = std::min(full_h, int(std::ceil((region.y0 + region.height) / scale - 0.5)) + 2);
  return w;
}

namespace {
// Renders at 2n (the same geometry: Keras's shifts are in output pixels, so
// they double) and averages each 2x2 block into one output pixel.
void render_supersampled(const Image& image, const Preprocess& pre, const AugmentParams* params, float* out) {
  const int n = pre.size, n2 = 2 * n;
  Preprocess twice = pre;
  twice.size = n2;
  twice.antialias = false;
  AugmentParams doubled;
  if (params) {
    doubled = *params;
    doubled.tx *= 2;
    doubled.ty *= 2;
  }
  thread_local std::vector<float> big;
  big.resize(size_t(3) * n2 * n2);
  render_sample(image, twice, params ? &doubled : nullptr, big.data());
  for (int ch = 0; ch < 3; ++ch) {
    const float* plane = big.data() + size_t(ch) * n2 * n2;
    float* out_plane = out + size_t(ch) * n * n;
    for (int r = 0; r < n; ++r) {
      const float* top = plane + size_t(2 * r) * n2;
      const float* bottom = top + n2;
      for (int c = 0; c < n; ++c)
        out_plane[size_t(r) * n + c] = 0.25f * ((top[2 * c] + top[2 * c + 1]) + (bottom[2 * c] + bottom[2 * c + 1]));
    }
  }
}

// Output (row, col) -> n x n coordinate (u, v): Keras's matrix, flip folded in.
Affine output_to_resized(const AugmentParams& params, int n) {
  Affine a = keras_affine(params, n, n);
  if (params.flip) {
    // Output column c reads the affine's column n - 1 - c.
    for (int i = 0; i < 2; ++i) {
      a.m[i][2] += a.m[i][1] * (n - 1);
      a.m[i][1] = -a.m[i][1];
    }
  }
  return a;
}

// Preprocess::resize_first: the plain n x n render, then Keras's transform of
// it, bilinear with coordinates clamped to the image ('nearest' fill).
void render_resized_then_transformed(const Image& image, const Preprocess& pre, const AugmentParams& params,
                                     float* out) {
  const int n = pre.size;
  Preprocess plain = pre;
  plain.resize_first = false;
  thread_local std::vector<float> resized;
  resized.resize(size_t(3) * n * n);
  render_sample(image, plain, nullptr, resized.data());
  const Affine a = output_to_resized(params, n);
  const double last = n - 1;
  const size_t plane = size_t(n) * n;
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) {
      const double u = std::clamp(a.m[0][0] * r + a.m[0][1] * c + a.m[0][2], 0.0, last);
      const double v = std::clamp(a.m[1][0] * r + a.m[1][1] * c + a.m[1][2], 0.0, last);
      const int r0 = int(u), c0 = int(v);
      const int r1 = std::min(r0 + 1, n - 1), c1 = std::min(c0 + 1, n - 1);
      const float fr = float(u - r0), fc = float(v - c0);
      for (int ch = 0; ch < 3; ++ch) {
        const float* src = resized.data() + ch * plane;
        const float top = src[r0 * n + c0] + (src[r0 * n + c1] - src[r0 * n + c0]) * fc;
        const float bottom = src[r1 * n + c0] + (src[r1 * n + c1] - src[r1 * n + c0]) * fc;
        out[ch * plane + size_t(r) * n + c] = top + (bottom - top) * fr;
      }
    }
  }
}
}  // namespace

namespace {
// What every output pixel of one render shares: Keras's matrix (output row,
// col -> n x n coordinate), the resize, crop and DCT scale (-> decoded
// coordinate), the decoded window's offset, and the image's bounds.
struct Mapping {
  int n = 0;
  float a00, a01, a02, a10, a11, a12;
  float fsy, fsx, by, bx;
  float oy, ox;  // a decoded window's position, subtracted after the mapping
  float last, fmax_x, fmax_y;
  int last_x0, last_y0;
  const uint8_t* pixels;
  size_t bytes, stride, plane, dx1, dy1;
};

Mapping make_mapping(const Image& image, const Preprocess& pre, const AugmentParams* params, const Region& region) {
  Mapping m;
  const int n = m.n = pre.size;
  const double k = image.scale;
  const Affine a = params ? output_to_resized(*params, n) : Affine{};
  m.a00 = float(a.m[0][0]), m.a01 = float(a.m[0][1]), m.a02 = float(a.m[0][2]);
  m.a10 = float(a.m[1][0]), m.a11 = float(a.m[1][1]), m.a12 = float(a.m[1][2]);
  // n x n coordinate -> decoded coordinate: through the resize, the crop and the DCT scale.
  const double sy = region.height / (n * k), sx = region.width / (n * k);
  m.by = static_cast<float>(0.5 * sy + region.y0 / k - 0.5);
  m.bx = static_cast<float>(0.5 * sx + region.x0 / k - 0.5);
  m.fsy = float(sy), m.fsx = float(sx);
  // Subtracting an integer is exact after the mapping, so a decoded window
  // gives bit for bit the whole image's result.
  m.oy = float(image.y0), m.ox = float(image.x0);
  m.last = float(n - 1);
  const int max_x = image.width - 1, max_y = image.height - 1;
  m.fmax_x = float(max_x), m.fmax_y = float(max_y);
  // The left/top neighbour is kept at most at width-2 / height-2 (the fraction
  // reaching 1 at the far edge), so both neighbours always exist.
  m.last_x0 = std::max(0, max_x - 1), m.last_y0 = std::max(0, max_y - 1);
  m.pixels = image.pixels.data();
  m.bytes = image.pixels.size();
  m.stride = size_t(image.width) * 3;
  m.plane = size_t(n) * n;
  m.dx1 = max_x > 0 ? 3 : 0, m.dy1 = max_y > 0 ? m.stride : 0;
  return m;
}

constexpr float kRescale = 1.0f / 255.0f;

#if defined(__SSE2__)
// Four RGB neighbours as float vectors [R, G, B, *]: a 4-byte load for the
// left ones, and for the right ones a 4-byte load starting one byte early,
// shifted, so no load runs past the image. Needs an image at least 2 wide.
inline __m128 widen(uint32_t bits) {
  __m128i v = _mm_cvtsi32_si128(int(bits));
  v = _mm_unpacklo_epi16(_mm_unpacklo_epi8(v, _mm_setzero_si128()), _mm_setzero_si128());
  return _mm_cvtepi32_ps(v);
}
inline __m128 left_neighbour(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p, 4);
  return widen(bits);
}
inline __m128 right_neighbour(const uint8_t* p) {
  uint32_t bits;
  std::memcpy(&bits, p - 1, 4);
  return widen(bits >> 8);
}
// Both neighbours of a row from one 8-byte load where the buffer allows it.
inline void neighbours(const Mapping& m, const uint8_t* p, __m128* l, __m128* r) {
  if (m.bytes >= 8 && size_t(p - m.pixels) <= m.bytes - 8) {
    const __m128i zero = _mm_setzero_si128();
    const __m128i bytes = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), zero);
    *l = _mm_cvtepi32_ps(_mm_unpacklo_epi16(bytes, zero));
    *r = _mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_srli_si128(bytes, 6), zero));
  } else {
    *l = left_neighbour(p);
    *r = right_neighbour(p + 3);
  }
}

// Four output pixels of row r at a time, from column 0; returns the first
// column left undone. Their coordinates as vectors (the same operations in the
// same order as render_pixel, so the results match it bit for bit), then each
// pixel's neighbours, then a 4x4 transpose turns four [R, G, B, *] vectors
// into one vector per channel plane.
struct MappingVectors {
  __m128 a00, a01, a02, a10, a11, a12, fsy, fsx, by, bx, oy, ox, zero, last, max_y, max_x, last_y0, last_x0;
  __m128 lanes, rescale, one;
  explicit MappingVectors(const Mapping& m)
      : a00(_mm_set1_ps(m.a00)),
        a01(_mm_set1_ps(m.a01)),
        a02(_mm_set1_ps(m.a02)),
        a10(_mm_set1_ps(m.a10)),
        a11(_mm_set1_ps(m.a11)),
        a12(_mm_set1_ps(m.a12)),
        fsy(_mm_set1_ps(m.fsy)),
        fsx(_mm_set1_ps(m.fsx)),
        by(_mm_set1_ps(m.by)),
        bx(_mm_set1_ps(m.bx)),
        oy(_mm_set1_ps(m.oy)),
        ox(_mm_set1_ps(m.ox)),
        zero(_mm_setzero_ps()),
        last(_mm_set1_ps(m.last)),
        max_y(_mm_set1_ps(m.fmax_y)),
        max_x(_mm_set1_ps(m.fmax_x)),
        last_y0(_mm_set1_ps(float(m.last_y0))),
        last_x0(_mm_set1_ps(float(m.last_x0))),
        lanes(_mm_setr_ps(0.0f, 1.0f, 2.0f, 3.0f)),
        rescale(_mm_set1_ps(kRescale)),
        one(_mm_set1_ps(1.0f)) {}
};

int render_four_at_a_time(const Mapping& m, const MappingVectors& mv, int r, float* out_row) {
  const __m128 v_a00 = mv.a00, v_a01 = mv.a01, v_a02 = mv.a02, v_a10 = mv.a10, v_a11 = mv.a11, v_a12 = mv.a12;
  const __m128 v_fsy = mv.fsy, v_fsx = mv.fsx, v_by = mv.by, v_bx = mv.bx, v_oy = mv.oy, v_ox = mv.ox;
  const __m128 v_zero = mv.zero, v_last = mv.last, v_max_y = mv.max_y, v_max_x = mv.max_x;
  const __m128 v_last_y0 = mv.last_y0, v_last_x0 = mv.last_x0, lanes = mv.lanes, rescale = mv.rescale, one = mv.one;
  alignas(16) int32_t iy[4], ix[4];
  alignas(16) float wy[4], wx[4];
  const __m128 row = _mm_set1_ps(float(r));
  const __m128 u_row = _mm_mul_ps(v_a00, row), v_row = _mm_mul_ps(v_a10, row);
  int c = 0;
  for (; c + 4 <= m.n; c += 4) {
    const __m128 col = _mm_add_ps(_mm_set1_ps(float(c)), lanes);
    __m128 u = _mm_add_ps(_mm_add_ps(u_row, _mm_mul_ps(v_a01, col)), v_a02);
    __m128 v = _mm_add_ps(_mm_add_ps(v_row, _mm_mul_ps(v_a11, col)), v_a12);
    u = _mm_min_ps(_mm_max_ps(u, v_zero), v_last);
    v = _mm_min_ps(_mm_max_ps(v, v_zero), v_last);
    const __m128 y = _mm_min_ps(_mm_max_ps(_mm_sub_ps(_mm_add_ps(_mm_mul_ps(u, v_fsy), v_by), v_oy), v_zero), v_max_y);
    const __m128 x = _mm_min_ps(_mm_max_ps(_mm_sub_ps(_mm_add_ps(_mm_mul_ps(v, v_fsx), v_bx), v_ox), v_zero), v_max_x);
    const __m128 y0 = _mm_min_ps(_mm_cvtepi32_ps(_mm_cvttps_epi32(y)), v_last_y0);
    const __m128 x0 = _mm_min_ps(_mm_cvtepi32_ps(_mm_cvttps_epi32(x)), v_last_x0);
    _mm_store_si128(reinterpret_cast<__m128i*>(iy), _mm_cvttps_epi32(y0));
    _mm_store_si128(reinterpret_cast<__m128i*>(ix), _mm_cvttps_epi32(x0));
    _mm_store_ps(wy, _mm_sub_ps(y, y0));
    _mm_store_ps(wx, _mm_sub_ps(x, x0));
    __m128 value[4];
    for (int i = 0; i < 4; ++i) {
      const uint8_t* p00 = m.pixels + iy[i] * m.stride + ix[i] * 3;
      const uint8_t* p10 = p00 + m.dy1;
      const __m128 fx = _mm_set1_ps(wx[i]);
      __m128 top_left, top_right, bottom_left, bottom_right;
      neighbours(m, p00, &top_left, &top_right);
      neighbours(m, p10, &bottom_left, &bottom_right);
      const __m128 top = _mm_add_ps(top_left, _mm_mul_ps(_mm_sub_ps(top_right, top_left), fx));
      const __m128 bottom = _mm_add_ps(bottom_left, _mm_mul_ps(_mm_sub_ps(bottom_right, bottom_left), fx));
      value[i] = _mm_add_ps(top, _mm_mul_ps(_mm_sub_ps(bottom, top), _mm_set1_ps(wy[i])));
    }
    _MM_TRANSPOSE4_PS(value[0], value[1], value[2], value[3]);
    _mm_storeu_ps(out_row + c, _mm_min_ps(_mm_mul_ps(value[0], rescale), one));
    _mm_storeu_ps(out_row + m.plane + c, _mm_min_ps(_mm_mul_ps(value[1], rescale), one));
    _mm_storeu_ps(out_row + 2 * m.plane + c, _mm_min_ps(_mm_mul_ps(value[2], rescale), one));
  }
  return c;
}
#endif

// One output pixel: bilinear between the four decoded neighbours, fill mode 'nearest'.
inline void render_pixel(const Mapping& m, int r, int c, float* out_row) {
  float u = m.a00 * r + m.a01 * c + m.a02;
  float v = m.a10 * r + m.a11 * c + m.a12;
  u = std::min(std::max(u, 0.0f), m.last);
  v = std::min(std::max(v, 0.0f), m.last);
  const float y = std::min(std::max((u * m.fsy + m.by) - m.oy, 0.0f), m.fmax_y);
  const float x = std::min(std::max((v * m.fsx + m.bx) - m.ox, 0.0f), m.fmax_x);
  const int y0 = std::min(int(y), m.last_y0), x0 = std::min(int(x), m.last_x0);
  const float fy = y - y0, fx = x - x0;
  const uint8_t* p00 = m.pixels + y0 * m.stride + x0 * 3;
  const uint8_t* p10 = p00 + m.dy1;
#if defined(__SSE2__)
  if (m.dx1 > 0) {  // at least 2 wide: the vector loads stay inside the image
    const __m128 rescale = _mm_set1_ps(kRescale), one = _mm_set1_ps(1.0f);
    const __m128 top_left = left_neighbour(p00), bottom_left = left_neighbour(p10);
    const __m128 top =
        _mm_add_ps(top_left, _mm_mul_ps(_mm_sub_ps(right_neighbour(p00 + 3), top_left), _mm_set1_ps(fx)));
    const __m128 bottom =
        _mm_add_ps(bottom_left, _mm_mul_ps(_mm_sub_ps(right_neighbour(p10 + 3), bottom_left), _mm_set1_ps(fx)));
    __m128 value = _mm_add_ps(top, _mm_mul_ps(_mm_sub_ps(bottom, top), _mm_set1_ps(fy)));
    value = _mm_min_ps(_mm_mul_ps(value, rescale), one);
    out_row[c] = _mm_cvtss_f32(value);
    out_row[m.plane + c] = _mm_cvtss_f32(_mm_shuffle_ps(value, value, 1));
    out_row[2 * m.plane + c] = _mm_cvtss_f32(_mm_shuffle_ps(value, value, 2));
    return;
  }
#endif
  // The same arithmetic, one channel at a time.
  for (int ch = 0; ch < 3; ++ch) {
    const float tl = p00[ch], tr = p00[m.dx1 + ch], bl = p10[ch], br = p10[m.dx1 + ch];
    const float top = tl + (tr - tl) * fx, bottom = bl + (br - bl) * fx;
    out_row[ch * m.plane + c] = std::min((top + (bottom - top) * fy) * kRescale, 1.0f);
  }
}
}  // namespace

void render_sample(const Image& image, const Preprocess& pre, const AugmentParams* params, float* out) {
  const int n = pre.size;
  NEBULA_CHECK(n > 0, "render_sample: output size must be positive, got ", n);
  NEBULA_CHECK(image.width > 0 && image.height > 0 && image.pixels.size() >= size_t(image.width) * image.height * 3,
               "render_sample: empty image");
  if (params && pre.resize_first) return render_resized_then_transformed(image, pre, *params, out);
  const Region region = crop_region(image.source_width, image.source_height, pre.crop);
  if (pre.antialias && std::max(region.width, region.height) > kAntialiasAbove * n * image.scale)
    return render_supersampled(image, pre, params, out);
  const Mapping m = make_mapping(image, pre, params, region);
#if defined(__SSE2__)
  const MappingVectors vectors(m);
#endif
  for (int r = 0; r < n; ++r) {
    float* out_row = out + size_t(r) * n;
    int c = 0;
#if defined(__SSE2__)
    if (m.dx1 > 0) c = render_four_at_a_time(m, vectors, r, out_row);
#endif
    for (; c < n; ++c) render_pixel(m, r, c, out_row);
  }
}

}  // namespace nebula::data
