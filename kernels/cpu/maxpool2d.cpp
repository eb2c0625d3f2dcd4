// MaxPool2d on the CPU. Training uses this path too, so it works a row of
// windows at a time rather than one window at a time, and splits the planes
// over threads.
#include "kernels/maxpool2d.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "base/error.h"
#include "kernels/cpu/parallel.h"

namespace nebula {

Pool2dParams pool2d_params(int batch, int channels, int in_h, int in_w, int kernel, int stride, int pad) {
  NEBULA_CHECK(batch > 0 && channels > 0 && in_h > 0 && in_w > 0, "maxpool2d: input [", batch, ", ", channels, ", ",
               in_h, ", ", in_w, "] must have positive sizes");
  NEBULA_CHECK(kernel > 0 && stride > 0, "maxpool2d: kernel ", kernel, " and stride ", stride, " must be positive");
  // PyTorch's rule; it also guarantees every window holds at least one real pixel.
  NEBULA_CHECK(pad >= 0 && pad <= kernel / 2, "maxpool2d: padding ", pad, " must be in [0, kernel/2] for kernel ",
               kernel);
  NEBULA_CHECK(kernel <= in_h + 2 * pad && kernel <= in_w + 2 * pad, "maxpool2d: window ", kernel, "x", kernel,
               " is larger than the input ", in_h, "x", in_w, " with padding ", pad);
  Pool2dParams p;
  p.batch = batch, p.channels = channels, p.in_h = in_h, p.in_w = in_w;
  p.kernel = kernel, p.stride = stride, p.pad = pad;
  p.out_h = (in_h + 2 * pad - kernel) / stride + 1;
  p.out_w = (in_w + 2 * pad - kernel) / stride + 1;
  return p;
}

namespace ref {

namespace {

// One tap (row h, column offset s) for windows [lo, hi): keep the larger value and
// where it came from. Loads are unconditional so the loop vectorizes; a strict > keeps the first of ties. Stride is a
// compile-time 2 for the common 2x2/2 pooling (a constant stride lets SSE vectorize the loads).
template <typename T, typename Stride>
void scan_tap(const T* plane, int32_t base, int lo, int hi, Stride stride, T* best, int32_t* at) {
  for (int j = lo; j < hi; ++j) {
    const T v = plane[base + j * stride], b = best[j];
    const int32_t a = at[j];
    const bool greater = v > b;
    best[j] = greater ? v : b;
    // A select on the index written as a bit mask: GCC if-converts this, not a ?:.
    const int32_t take = -int32_t(greater);
    at[j] = (a & ~take) | ((base + j * stride) & take);
  }
}

// For every window j of output row i, the offset within the plane of its first
// maximal pixel, scanning rows then columns. Taps are visited in that order for
// all windows at once (row, then column, then window innermost), so the inner
// loop runs over contiguous windows.
template <typename T>
void row_argmax(const Pool2dParams& p, const T* plane, int i, T* best, int32_t* at) {
  const int h0 = std::max(i * p.stride - p.pad, 0), h1 = std::min(i * p.stride - p.pad + p.kernel, p.in_h);
  for (int j = 0; j < p.out_w; ++j) {
    best[j] = -std::numeric_limits<T>::infinity();
    at[j] = h0 * p.in_w + std::max(j * p.stride - p.pad, 0);  // kept if the window holds only -inf or NaN
  }
  for (int h = h0; h < h1; ++h)
    for (int s = 0; s < p.kernel; ++s) {
      // Windows j whose column j*stride - pad + s lies inside the image.
      const int first = p.pad - s, last = p.in_w - 1 + p.pad - s;  // bounds on j * stride
      const int lo = first <= 0 ? 0 : (first + p.stride - 1) / p.stride;
      const int hi = last < 0 ? 0 : std::min(p.out_w, last / p.stride + 1);
      const int32_t base = h * p.in_w - p.pad + s;  // window j reads plane[base + j * stride]
      if (p.stride == 2)
        scan_tap(plane, base, lo, hi, std::integral_constant<int, 2>(), best, at);
      else
        scan_tap(plane, base, lo, hi, p.stride, best, at);
    }
}

}  // namespace

template <typename T>
void maxpool2d_forward(const Pool2dParams& p, const T* x, T* y) {
  const int64_t planes = int64_t(p.batch) * p.channels, in_plane = int64_t(p.in_h) * p.in_w;
  cpu::parallel_for(planes, cpu::kElementwiseGrain / in_plane, [&](int64_t begin, int64_t end) {
    std::vector<T> best(p.out_w);
    std::vector<int32_t> at(p.out_w);
    for (int64_t q = begin; q < end; ++q) {
      const T* xp = x + q * in_plane;
      for (int i = 0; i < p.out_h; ++i) {
        row_argmax(p, xp, i, best.data(), at.data());
        T* yrow = y + (q * p.out_h + i) * p.out_w;
        for (int j = 0; j < p.out_w; ++j) yrow[j] = xp[at[j]];
      }
    }
  });
}

template <typename T>
void maxpool2d_backward(const Pool2dParams& p, const T* x, const T* dy, T* dx) {
  const int64_t planes = int64_t(p.batch) * p.channels, in_plane = int64_t(p.in_h) * p.in_w;
  cpu::parallel_for(planes, cpu::kElementwiseGrain / in_plane, [&](int64_t begin, int64_t end) {
    std::vector<T> best(p.out_w);
    std::vector<int32_t> at(p.out_w);
    for (int64_t q = begin; q < end; ++q) {
      const T* xp = x + q * in_plane;
      const T* dyp = dy + q * p.out_h * p.out_w;
      T* dxp = dx + q * in_plane;
      std::fill(dxp, dxp + in_plane, T(0));
      for (int i = 0; i < p.out_h; ++i) {
        row_argmax(p, xp, i, best.data(), at.data());
        const T* dyrow = dyp + i * p.out_w;
        for (int j = 0; j < p.out_w; ++j) dxp[at[j]] += dyrow[j];
      }
    }
  });
}

template void maxpool2d_forward<float>(const Pool2dParams&, const float*, float*);
template void maxpool2d_forward<double>(const Pool2dParams&, const double*, double*);
template void maxpool2d_backward<float>(const Pool2dParams&, const float*, const float*, float*);
template void maxpool2d_backward<double>(const Pool2dParams&, const double*, const double*, double*);

}  // namespace ref

}  // namespace nebula
