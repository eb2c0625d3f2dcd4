// The views' table of taps, built on the host, and the CPU reference that
// reads it (kernels/views.h states the math).
#include "kernels/views.h"

#include <climits>
#include <cmath>

#include "base/error.h"
#include "kernels/cpu/parallel.h"

namespace nebula {

const char* view_kind_name(ViewKind kind) {
  switch (kind) {
    case ViewKind::Rotations: return "rotations";
    case ViewKind::Dihedral: return "dihedral";
    case ViewKind::Dieleman: return "dieleman";
  }
  return "?";
}

ViewKind parse_view_kind(const std::string& name) {
  for (ViewKind kind : {ViewKind::Rotations, ViewKind::Dihedral, ViewKind::Dieleman})
    if (name == view_kind_name(kind)) return kind;
  throw Error(detail::concat("views: unknown kind '", name, "' (rotations, dihedral or dieleman)"));
}

int view_count(ViewKind kind) { return kind == ViewKind::Rotations ? 4 : kind == ViewKind::Dihedral ? 8 : 16; }

namespace {

// The four bilinear taps of the 45 degree turn at pixel (y, x) of an S x S
// image, as grid_sample computes them (align_corners=False, zeros outside).
void turned_taps(int64_t size, int64_t y, int64_t x, int32_t* index, float* weight) {
  const double c = std::sqrt(0.5), s = c, n = static_cast<double>(size);
  const double xn = (2.0 * x + 1.0) / n - 1.0, yn = (2.0 * y + 1.0) / n - 1.0;
  const double ix = ((c * xn - s * yn + 1.0) * n - 1.0) / 2.0, iy = ((s * xn + c * yn + 1.0) * n - 1.0) / 2.0;
  const double x0 = std::floor(ix), y0 = std::floor(iy), fx = ix - x0, fy = iy - y0;
  const double w[4] = {(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx};
  for (int t = 0; t < 4; ++t) {
    const int64_t ty = int64_t(y0) + t / 2, tx = int64_t(x0) + t % 2;
    const bool inside = ty >= 0 && ty < size && tx >= 0 && tx < size;
    index[t] = inside ? int32_t(ty * size + tx) : -1;
    weight[t] = inside ? static_cast<float>(w[t]) : 0.0f;
  }
}

void fill_taps(ViewTable& t) {
  const int64_t out_pixels = t.out_pixels();
  t.index.assign(t.views * out_pixels * t.taps, -1);
  t.weight.assign(t.index.size(), 0.0f);
  for (int v = 0; v < t.views; ++v)
    for (int64_t y = 0; y < t.out_size; ++y)
      for (int64_t x = 0; x < t.out_size; ++x) {
        int64_t sy = 0, sx = 0;
        dihedral_source(v % 8, t.in_size, y, x, &sy, &sx);
        const int64_t at = (v * out_pixels + y * t.out_size + x) * t.taps;
        if (v >= 8) {
          turned_taps(t.in_size, sy, sx, &t.index[at], &t.weight[at]);
        } else {
          t.index[at] = int32_t(sy * t.in_size + sx);
          t.weight[at] = 1.0f;
        }
      }
}

// Counting sort of the taps by input pixel, in output order within each.
void fill_transpose(ViewTable& t) {
  const int64_t in_pixels = t.in_pixels(), outputs = t.views * t.out_pixels();
  t.start.assign(in_pixels + 1, 0);
  for (int32_t i : t.index)
    if (i >= 0) ++t.start[i + 1];
  for (int64_t i = 0; i < in_pixels; ++i) t.start[i + 1] += t.start[i];
  std::vector<int32_t> next(t.start.begin(), t.start.end() - 1);
  t.entry.assign(t.start.back(), 0);
  t.entry_weight.assign(t.start.back(), 0.0f);
  for (int64_t o = 0; o < outputs; ++o)
    for (int k = 0; k < t.taps; ++k) {
      const int32_t i = t.index[o * t.taps + k];
      if (i < 0) continue;
      t.entry[next[i]] = int32_t(o);
      t.entry_weight[next[i]++] = t.weight[o * t.taps + k];
    }
}

}  // namespace

ViewTable make_view_table(ViewKind kind, int in_size, int out_size) {
  ViewTable t;
  t.kind = kind;
  t.views = view_count(kind);
  t.in_size = in_size;
  t.out_size = out_size;
  t.taps = kind == ViewKind::Dieleman ? 4 : 1;
  NEBULA_CHECK(in_size > 0 && out_size > 0 && out_size <= in_size, "views: a view of ", out_size, "x", out_size,
               " must be at least 1 pixel and fit in the ", in_size, "x", in_size, " image");
  NEBULA_CHECK(t.in_pixels() * t.views * t.taps <= INT_MAX, "views: ", t.views, " views of a ", in_size, "x", in_size,
               " image need more taps than 32-bit indices count");
  fill_taps(t);
  fill_transpose(t);
  return t;
}

ViewTableArrays host_arrays(const ViewTable& t) {
  return {t.views,  t.in_size,      t.out_size,     t.taps, t.index.data(), t.weight.data(), t.start.data(),
          t.entry.data(), t.entry_weight.data()};
}

namespace ref {

template <typename T>
void views_forward(const ViewTableArrays& t, int64_t batch, int64_t channels, const T* x, T* y) {
  const int64_t in_pixels = int64_t(t.in_size) * t.in_size, out_pixels = int64_t(t.out_size) * t.out_size;
  const int64_t planes = batch * channels;
  cpu::parallel_for(t.views * planes, cpu::kElementwiseGrain / out_pixels + 1, [=](int64_t begin, int64_t end) {
    for (int64_t vq = begin; vq < end; ++vq) {  // vq = v * planes + plane, the output plane
      const int64_t v = vq / planes;
      const T* xp = x + (vq % planes) * in_pixels;
      T* yp = y + vq * out_pixels;
      for (int64_t p = 0; p < out_pixels; ++p) {
        const int64_t at = (v * out_pixels + p) * t.taps;
        T sum = T(0);
        for (int k = 0; k < t.taps; ++k)
          if (t.index[at + k] >= 0) sum += T(t.weight[at + k]) * xp[t.index[at + k]];
        yp[p] = sum;
      }
    }
  });
}

template <typename T>
void views_backward(const ViewTableArrays& t, int64_t batch, int64_t channels, const T* dy, T* dx) {
  const int64_t in_pixels = int64_t(t.in_size) * t.in_size, out_pixels = int64_t(t.out_size) * t.out_size;
  const int64_t planes = batch * channels;
  cpu::parallel_for(planes, cpu::kElementwiseGrain / in_pixels + 1, [=](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      T* dxp = dx + q * in_pixels;
      for (int64_t i = 0; i < in_pixels; ++i) {
        T sum = T(0);
        for (int32_t e = t.start[i]; e < t.start[i + 1]; ++e) {
          const int64_t v = t.entry[e] / out_pixels, p = t.entry[e] % out_pixels;
          sum += T(t.entry_weight[e]) * dy[(v * planes + q) * out_pixels + p];
        }
        dxp[i] = sum;
      }
    }
  });
}

template void views_forward<float>(const ViewTableArrays&, int64_t, int64_t, const float*, float*);
template void views_forward<double>(const ViewTableArrays&, int64_t, int64_t, const double*, double*);
template void views_backward<float>(const ViewTableArrays&, int64_t, int64_t, const float*, float*);
template void views_backward<double>(const ViewTableArrays&, int64_t, int64_t, const double*, double*);

}  // namespace ref
}  // namespace nebula
