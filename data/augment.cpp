#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__SSE2__)
#include <xmmintrin.h>
#include <emmintrin.h>
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

void render_sample(const Image& image, const Preprocess& pre, const AugmentParams* params, float* out) {
  const int n = pre.size;
  NEBULA_CHECK(n > 0, "render_sample: output size must be positive, got ", n);
  NEBULA_CHECK(image.width > 0 && image.height > 0 && image.pixels.size() >= size_t(image.width) * image.height * 3,
               "render_sample: empty image");
  if (params && pre.resize_first) return render_resized_then_transformed(image, pre, *params, out);
  const Region region = crop_region(image.source_width, image.source_height, pre.crop);
  const double k = image.scale;
  if (pre.antialias && std::max(region.width, region.height) > kAntialiasAbove * n * k)
    return render_supersampled(image, pre, params, out);

  const Affine a = params ? output_to_resized(*params, n) : Affine{};
  // n x n coordinate -> decoded coordinate: through the resize, the crop and the DCT scale.
  const double sy = region.height / (n * k), sx = region.width / (n * k);
  const float by = static_cast<float>(0.5 * sy + region.y0 / k - 0.5);
  const float bx = static_cast<float>(0.5 * sx + region.x0 / k - 0.5);
  // A decoded window's position is subtracted after the mapping: subtracting an
  // integer is exact there, so a window gives bit for bit the whole image's result.
  const float oy = float(image.y0), ox = float(image.x0);
  const float a00 = float(a.m[0][0]), a01 = float(a.m[0][1]), a02 = float(a.m[0][2]);
  const float a10 = float(a.m[1][0]), a11 = float(a.m[1][1]), a12 = float(a.m[1][2]);
  const float fsy = float(sy), fsx = float(sx);
  const float last = float(n - 1);
  const int max_x = image.width - 1, max_y = image.height - 1;
  const float fmax_x = float(max_x), fmax_y = float(max_y);
  const uint8_t* pixels = image.pixels.data();
  const size_t stride = size_t(image.width) * 3;
  const size_t plane = size_t(n) * n;
  constexpr float kRescale = 1.0f / 255.0f;
  // The left/top neighbour is kept at most at width-2 / height-2 (the fraction
  // reaching 1 at the far edge), so both neighbours always exist.
  const int last_x0 = std::max(0, max_x - 1), last_y0 = std::max(0, max_y - 1);
  const size_t dx1 = max_x > 0 ? 3 : 0, dy1 = max_y > 0 ? stride : 0;
#if defined(__SSE2__)
  // Four RGB neighbours as float vectors [R, G, B, *]: a 4-byte load for the
  // left ones, and for the right ones a 4-byte load starting one byte early,
  // shifted, so no load runs past the image.
  const bool vector_path = max_x > 0;
  const __m128 rescale = _mm_set1_ps(kRescale), one = _mm_set1_ps(1.0f);
  const __m128i zero = _mm_setzero_si128();
  auto widen = [&](uint32_t bits) {
    __m128i v = _mm_cvtsi32_si128(int(bits));
    v = _mm_unpacklo_epi16(_mm_unpacklo_epi8(v, zero), zero);
    return _mm_cvtepi32_ps(v);
  };
  auto left = [&](const uint8_t* p) {
    uint32_t bits;
    std::memcpy(&bits, p, 4);
    return widen(bits);
  };
  auto right = [&](const uint8_t* p) {
    uint32_t bits;
    std::memcpy(&bits, p - 1, 4);
    return widen(bits >> 8);
  };
  // Both neighbours of a row from one 8-byte load where the buffer allows it.
  const size_t pair_limit = image.pixels.size() >= 8 ? image.pixels.size() - 8 : 0;
  const bool pairs = image.pixels.size() >= 8;
  auto pair = [&](const uint8_t* p, __m128* l, __m128* r) {
    if (pairs && size_t(p - pixels) <= pair_limit) {
      const __m128i bytes = _mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)), zero);
      *l = _mm_cvtepi32_ps(_mm_unpacklo_epi16(bytes, zero));
      *r = _mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_srli_si128(bytes, 6), zero));
    } else {
      *l = left(p);
      *r = right(p + 3);
    }
  };
#endif

#if defined(__SSE2__)
  // Four output pixels at a time: their coordinates as vectors (the same
  // operations in the same order as the one-pixel code below, so the results
  // match it bit for bit), then each pixel's neighbours, then a 4x4 transpose
  // turns four [R, G, B, *] vectors into one vector per channel plane.
  const __m128 v_a00 = _mm_set1_ps(a00), v_a01 = _mm_set1_ps(a01), v_a02 = _mm_set1_ps(a02);
  const __m128 v_a10 = _mm_set1_ps(a10), v_a11 = _mm_set1_ps(a11), v_a12 = _mm_set1_ps(a12);
  const __m128 v_fsy = _mm_set1_ps(fsy), v_fsx = _mm_set1_ps(fsx), v_by = _mm_set1_ps(by), v_bx = _mm_set1_ps(bx);
  const __m128 v_oy = _mm_set1_ps(oy), v_ox = _mm_set1_ps(ox), v_zero = _mm_setzero_ps(), v_last = _mm_set1_ps(last);
  const __m128 v_max_y = _mm_set1_ps(fmax_y), v_max_x = _mm_set1_ps(fmax_x);
  const __m128 v_last_y0 = _mm_set1_ps(float(last_y0)), v_last_x0 = _mm_set1_ps(float(last_x0));
  const __m128 lanes = _mm_setr_ps(0.0f, 1.0f, 2.0f, 3.0f);
  alignas(16) int32_t iy[4], ix[4];
  alignas(16) float wy[4], wx[4];
#endif

  for (int r = 0; r < n; ++r) {
    float* out_row = out + size_t(r) * n;
    int c = 0;
#if defined(__SSE2__)
    if (vector_path) {
      const __m128 row = _mm_set1_ps(float(r));
      const __m128 u_row = _mm_mul_ps(v_a00, row), v_row = _mm_mul_ps(v_a10, row);
      for (; c + 4 <= n; c += 4) {
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
          const uint8_t* p00 = pixels + iy[i] * stride + ix[i] * 3;
          const uint8_t* p10 = p00 + dy1;
          const __m128 fx = _mm_set1_ps(wx[i]);
          __m128 top_left, top_right, bottom_left, bottom_right;
          pair(p00, &top_left, &top_right);
          pair(p10, &bottom_left, &bottom_right);
          const __m128 top = _mm_add_ps(top_left, _mm_mul_ps(_mm_sub_ps(top_right, top_left), fx));
          const __m128 bottom = _mm_add_ps(bottom_left, _mm_mul_ps(_mm_sub_ps(bottom_right, bottom_left), fx));
          value[i] = _mm_add_ps(top, _mm_mul_ps(_mm_sub_ps(bottom, top), _mm_set1_ps(wy[i])));
        }
        _MM_TRANSPOSE4_PS(value[0], value[1], value[2], value[3]);
        _mm_storeu_ps(out_row + c, _mm_min_ps(_mm_mul_ps(value[0], rescale), one));
        _mm_storeu_ps(out_row + plane + c, _mm_min_ps(_mm_mul_ps(value[1], rescale), one));
        _mm_storeu_ps(out_row + 2 * plane + c, _mm_min_ps(_mm_mul_ps(value[2], rescale), one));
      }
    }
#endif
    for (; c < n; ++c) {
      float u = a00 * r + a01 * c + a02;
      float v = a10 * r + a11 * c + a12;
      u = std::min(std::max(u, 0.0f), last);  // fill mode 'nearest'
      v = std::min(std::max(v, 0.0f), last);
      const float y = std::min(std::max((u * fsy + by) - oy, 0.0f), fmax_y);
      const float x = std::min(std::max((v * fsx + bx) - ox, 0.0f), fmax_x);
      const int y0 = std::min(int(y), last_y0), x0 = std::min(int(x), last_x0);
      const float fy = y - y0, fx = x - x0;
      const uint8_t* p00 = pixels + y0 * stride + x0 * 3;
      const uint8_t* p10 = p00 + dy1;
#if defined(__SSE2__)
      if (vector_path) {
        const __m128 top_left = left(p00), bottom_left = left(p10);
        const __m128 top = _mm_add_ps(top_left, _mm_mul_ps(_mm_sub_ps(right(p00 + 3), top_left), _mm_set1_ps(fx)));
        const __m128 bottom =
            _mm_add_ps(bottom_left, _mm_mul_ps(_mm_sub_ps(right(p10 + 3), bottom_left), _mm_set1_ps(fx)));
        __m128 value = _mm_add_ps(top, _mm_mul_ps(_mm_sub_ps(bottom, top), _mm_set1_ps(fy)));
        value = _mm_min_ps(_mm_mul_ps(value, rescale), one);
        out_row[c] = _mm_cvtss_f32(value);
        out_row[plane + c] = _mm_cvtss_f32(_mm_shuffle_ps(value, value, 1));
        out_row[2 * plane + c] = _mm_cvtss_f32(_mm_shuffle_ps(value, value, 2));
        continue;
      }
#endif
      // The same arithmetic, one channel at a time.
      for (int ch = 0; ch < 3; ++ch) {
        const float tl = p00[ch], tr = p00[dx1 + ch], bl = p10[ch], br = p10[dx1 + ch];
        const float top = tl + (tr - tl) * fx, bottom = bl + (br - bl) * fx;
        out_row[ch * plane + c] = std::min((top + (bottom - top) * fy) * kRescale, 1.0f);
      }
    }
  }
}

}  // namespace nebula::data
