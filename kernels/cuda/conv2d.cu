// Conv2d on the GPU: every pass is an implicit GEMM on the tiled core of
// kernels/cuda/gemm.h (block tiles from 128x128 down to 32x32, 8x8 to 4x4
// outputs per thread, BK = 8, double-buffered shared memory, split-K where the
// output alone cannot fill the GPU; gemm.h explains the tiling). Nothing is
// unfolded in memory: the operands below gather their elements from x, dy and w
// while a tile is loaded, reading 0 outside the image, with P = out_h * out_w:
//   forward:         y[(n,i,j), k]  = sum_{(c,r,s)} im2col(x)[(n,i,j), (c,r,s)] w[k, (c,r,s)]
//                    M = N*P pixels, N = K filters, K = C*R*S; bias and relu in the epilogue.
//   backward data:   split by stride phase (h mod stride, w mod stride): in one phase only
//                    the taps r = r0 + stride*t, s = s0 + stride*u reach the pixel, from the
//                    output (dh + a - t, dw + b - u) for h = ph + stride*a, w = pw + stride*b,
//                    so each phase is a dense GEMM with no zero taps:
//                    dx[(n,a,b), c] = sum_{(k,t,u)} dy[n, k, dh+a-t, dw+b-u] w[k, c, r, s]
//                    M = N*H*W/stride^2, N = C, K = K*ceil(R/stride)*ceil(S/stride).
//   backward filter: dw^T[(c,r,s), k] = sum_{(n,i,j)} im2col(x)^T[(c,r,s), (n,i,j)] dy[(n,i,j), k]
//                    M = C*R*S, N = K, K = N*P (long: split-K summed in a fixed order);
//                    db = column sums of dy, read off the dy tiles the GEMM holds anyway.
// Index decoding uses FastDiv (multiply-high), as it runs for every tile; the
// operands read along the pixels decode each tile's reduction indices once per
// block, into shared memory (decode_per_block in gemm.h).
#include "kernels/conv2d.h"

#include <algorithm>
#include <limits>

#include "kernels/cuda/gemm.h"
#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

using gpu::ColumnMajorOut;
using gpu::FastDiv;
using gpu::GemmArgs;
using gpu::GemmLaunch;
using gpu::GemmProblem;
using gpu::StridedOperand;

// im2col(x)[(n,i,j), (c,r,s)] = x[n, c, i*stride - pad_top + r, j*stride - pad_left + s],
// 0 outside the image. A pixel (n,i,j) and a tap (c,r,s) are decoded apart and
// their offsets add up.
struct Im2col {
  struct Pixel {
    int64_t base;  // of x[n, 0, h0, w0], which may lie outside the image
    int h0, w0;
  };
  struct Tap {
    int offset;  // of x[., c, r, s] from x[., 0, 0, 0]
    int r, s;
  };
  const float* x;
  int in_h, in_w, stride, pad_top, pad_left;
  int64_t image_size;                         // C*H*W
  FastDiv out_pixels, out_w, taps, kernel_w;  // by P, OW, R*S, S

  __device__ __forceinline__ Pixel pixel(int m) const {
    const int n = out_pixels.div(m), q = m - n * out_pixels.divisor;
    const int i = out_w.div(q), j = q - i * out_w.divisor;
    Pixel px;
    px.h0 = i * stride - pad_top, px.w0 = j * stride - pad_left;
    px.base = n * image_size + int64_t(px.h0) * in_w + px.w0;
    return px;
  }
  __device__ __forceinline__ Tap tap(int kk) const {
    const int c = taps.div(kk), q = kk - c * taps.divisor;
    const int r = kernel_w.div(q), s = q - r * kernel_w.divisor;
    return {(c * in_h + r) * in_w + s, r, s};
  }
  __device__ __forceinline__ float at(const Pixel& px, const Tap& tp) const {
    const int h = px.h0 + tp.r, w = px.w0 + tp.s;
    return unsigned(h) < unsigned(in_h) && unsigned(w) < unsigned(in_w) ? __ldg(x + (px.base + tp.offset)) : 0.0f;
  }
};

Im2col im2col(const Conv2dParams& p, const float* x) {
  Im2col g;
  g.x = x;
  g.in_h = p.in_h, g.in_w = p.in_w, g.stride = p.stride, g.pad_top = p.pad_top, g.pad_left = p.pad_left;
  g.image_size = int64_t(p.in_channels) * p.in_h * p.in_w;
  g.out_pixels = FastDiv(p.out_h * p.out_w), g.out_w = FastDiv(p.out_w);
  g.taps = FastDiv(p.kernel_h * p.kernel_w), g.kernel_w = FastDiv(p.kernel_w);
  return g;
}

// Forward A: rows are pixels, read along the pixels (contiguous in x).
struct ForwardImage : Im2col {
  static constexpr bool k_contiguous = false, decode_per_block = true;
  using Outer = Pixel;
  using Inner = Tap;
  __device__ __forceinline__ Outer outer(int m) const { return pixel(m); }
  __device__ __forceinline__ Inner inner(int kk) const { return tap(kk); }
  __device__ __forceinline__ float load(const Outer& o, const Inner& i) const { return at(o, i); }
};

// Backward filter A: rows are taps, read along the pixels.
struct FilterImage : Im2col {
  static constexpr bool k_contiguous = true, decode_per_block = false;
  using Outer = Tap;
  using Inner = Pixel;
  __device__ __forceinline__ Outer outer(int m) const { return tap(m); }
  __device__ __forceinline__ Inner inner(int kk) const { return pixel(kk); }
  __device__ __forceinline__ float load(const Outer& o, const Inner& i) const { return at(i, o); }
};

// Backward filter B[(n,i,j), k] = dy[n, k, i, j], read along the pixels.
struct FilterGradient {
  static constexpr bool k_contiguous = true, decode_per_block = false;
  using Outer = int64_t;
  using Inner = int64_t;
  const float* dy;
  int64_t image_size;  // K*P
  FastDiv pixels;      // by P
  __device__ __forceinline__ Outer outer(int k) const { return int64_t(k) * pixels.divisor; }
  __device__ __forceinline__ Inner inner(int q) const {
    const int n = pixels.div(q);
    return n * image_size + (q - n * pixels.divisor);
  }
  __device__ __forceinline__ float load(Outer o, Inner i) const { return __ldg(dy + (o + i)); }
};

// C[(n, pixel), channel] of an NCHW tensor: out[n*image_size + channel*channel_size + pixel].
struct ImageOut {
  FastDiv pixels;
  int64_t image_size, channel_size;
  __device__ __forceinline__ int64_t row(int m) const {
    const int n = pixels.div(m);
    return n * image_size + (m - n * pixels.divisor);
  }
  __device__ __forceinline__ int64_t col(int c) const { return c * channel_size; }
};

// One stride phase of the data gradient: the input pixels h = ph + stride*a,
// w = pw + stride*b (rows x cols of them), reached by the taps r = r0 + stride*t
// (t < taps_h) and s = s0 + stride*u (u < taps_w) from the output (dh + a - t,
// dw + b - u), since h = i*stride - pad_top + r.
struct Phase {
  int ph, pw, rows, cols, r0, s0, taps_h, taps_w, dh, dw;
};

NEBULA_HD Phase phase_of(const Conv2dParams& p, int phase) {
  const int st = p.stride;
  Phase f;
  f.ph = phase / st, f.pw = phase % st;
  f.rows = f.ph < p.in_h ? (p.in_h - f.ph + st - 1) / st : 0;
  f.cols = f.pw < p.in_w ? (p.in_w - f.pw + st - 1) / st : 0;
  f.r0 = (f.ph + p.pad_top) % st, f.s0 = (f.pw + p.pad_left) % st;
  f.taps_h = f.r0 < p.kernel_h ? (p.kernel_h - f.r0 + st - 1) / st : 0;
  f.taps_w = f.s0 < p.kernel_w ? (p.kernel_w - f.s0 + st - 1) / st : 0;
  f.dh = (f.ph + p.pad_top - f.r0) / st, f.dw = (f.pw + p.pad_left - f.s0) / st;
  return f;
}

// Backward data A[(n,a,b), (k,t,u)] = dy[n, k, dh + a - t, dw + b - u], 0 outside.
struct PhaseGradient {
  static constexpr bool k_contiguous = false, decode_per_block = true;
  struct Outer {
    int64_t base;  // of dy[n, 0, i0, j0]
    int i0, j0;
  };
  struct Inner {
    int offset;  // of dy[., k, -t, -u] from dy[., 0, 0, 0]
    int t, u;
  };
  const float* dy;
  int out_h, out_w, dh, dw;
  int64_t image_size;                  // K*P
  FastDiv pixels, cols, taps, taps_w;  // by rows*cols, cols, taps_h*taps_w, taps_w
  __device__ __forceinline__ Outer outer(int m) const {
    const int n = pixels.div(m), q = m - n * pixels.divisor;
    const int a = cols.div(q), b = q - a * cols.divisor;
    Outer o;
    o.i0 = dh + a, o.j0 = dw + b;
    o.base = n * image_size + int64_t(o.i0) * out_w + o.j0;
    return o;
  }
  __device__ __forceinline__ Inner inner(int kk) const {
    const int k = taps.div(kk), q = kk - k * taps.divisor;
    const int t = taps_w.div(q), u = q - t * taps_w.divisor;
    return {(k * out_h - t) * out_w - u, t, u};
  }
  __device__ __forceinline__ float load(const Outer& o, const Inner& in) const {
    const int i = o.i0 - in.t, j = o.j0 - in.u;
    return unsigned(i) < unsigned(out_h) && unsigned(j) < unsigned(out_w) ? __ldg(dy + (o.base + in.offset)) : 0.0f;
  }
};

// Backward data B[(k,t,u), c] = w[k, c, r0 + stride*t, s0 + stride*u], read along c.
struct PhaseWeights {
  static constexpr bool k_contiguous = false, decode_per_block = true;
  using Outer = int;
  using Inner = int;
  const float* w;
  int filter_size, kernel_size, kernel_w, stride, first_tap;  // C*R*S, R*S, S, r0*S + s0
  FastDiv taps, taps_w;
  __device__ __forceinline__ Outer outer(int c) const { return c * kernel_size + first_tap; }
  __device__ __forceinline__ Inner inner(int kk) const {
    const int k = taps.div(kk), q = kk - k * taps.divisor;
    const int t = taps_w.div(q), u = q - t * taps_w.divisor;
    return k * filter_size + stride * (t * kernel_w + u);
  }
  __device__ __forceinline__ float load(Outer o, Inner i) const { return __ldg(w + (o + i)); }
};

// Backward data C[(n,a,b), c] = dx[n, c, ph + stride*a, pw + stride*b].
struct PhaseOut {
  FastDiv pixels, cols;
  int64_t image_size, channel_size;  // C*H*W, H*W
  int ph, pw, stride, in_w;
  __device__ __forceinline__ int64_t row(int m) const {
    const int n = pixels.div(m), q = m - n * pixels.divisor;
    const int a = cols.div(q), b = q - a * cols.divisor;
    return n * image_size + int64_t(ph + stride * a) * in_w + pw + stride * b;
  }
  __device__ __forceinline__ int64_t col(int c) const { return c * channel_size; }
};

using ForwardProblem = GemmProblem<ForwardImage, StridedOperand<true, int>, ImageOut>;
using FilterProblem = GemmProblem<FilterImage, FilterGradient, ColumnMajorOut>;
using PhaseProblem = GemmProblem<PhaseGradient, PhaseWeights, PhaseOut>;

template <class Tile>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    conv2d_forward_kernel(const ForwardProblem prob, const GemmArgs args) {
  gpu::gemm_kernel_body<Tile, false>(prob, args);
}

// blockIdx.z = phase + stride^2 * split. Phases differ in size: the grid fits
// the largest, and the tiles past a smaller phase's end have nothing to do.
template <class Tile>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    conv2d_backward_data_kernel(const Conv2dParams p, const float* dy, const float* w, const GemmArgs args) {
  const int phases = p.stride * p.stride;
  const int split = blockIdx.z / phases;
  const Phase f = phase_of(p, blockIdx.z % phases);
  const int m_size = p.batch * f.rows * f.cols;
  const int m0 = blockIdx.x * Tile::BM;
  if (m0 >= m_size) return;  // the whole block: no barrier is skipped by part of it
  const int taps = f.taps_h * f.taps_w;
  const int k_size = p.out_channels * taps;
  const int k_begin = split * args.k_chunk;
  const int k_end = k_size - k_begin < args.k_chunk ? k_size : k_begin + args.k_chunk;
  const FastDiv pixels(f.rows * f.cols), cols(f.cols), by_taps(taps > 0 ? taps : 1),
      by_taps_w(f.taps_w > 0 ? f.taps_w : 1);

  PhaseProblem prob;
  prob.a.dy = dy;
  prob.a.out_h = p.out_h, prob.a.out_w = p.out_w, prob.a.dh = f.dh, prob.a.dw = f.dw;
  prob.a.image_size = int64_t(p.out_channels) * p.out_h * p.out_w;
  prob.a.pixels = pixels, prob.a.cols = cols, prob.a.taps = by_taps, prob.a.taps_w = by_taps_w;
  prob.b.w = w;
  prob.b.kernel_size = p.kernel_h * p.kernel_w;
  prob.b.filter_size = p.in_channels * prob.b.kernel_size;
  prob.b.kernel_w = p.kernel_w, prob.b.stride = p.stride, prob.b.first_tap = f.r0 * p.kernel_w + f.s0;
  prob.b.taps = by_taps, prob.b.taps_w = by_taps_w;
  prob.c.pixels = pixels, prob.c.cols = cols;
  prob.c.channel_size = int64_t(p.in_h) * p.in_w;
  prob.c.image_size = p.in_channels * prob.c.channel_size;
  prob.c.ph = f.ph, prob.c.pw = f.pw, prob.c.stride = p.stride, prob.c.in_w = p.in_w;
  gpu::gemm_block<Tile, false>(prob, m_size, args.n, m0, blockIdx.y * Tile::BN, k_begin, k_end,
                               args.out + split * args.split_stride, nullptr, false, nullptr);
}

template <class Tile>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    conv2d_backward_filter_kernel(const FilterProblem prob, const GemmArgs args) {
  gpu::gemm_kernel_body<Tile, true>(prob, args);
}

std::string describe(const Conv2dParams& p) {
  return detail::concat("x [", p.batch, ", ", p.in_channels, ", ", p.in_h, ", ", p.in_w, "], w [", p.out_channels, ", ",
                        p.in_channels, ", ", p.kernel_h, ", ", p.kernel_w, "], stride ", p.stride, ", pad (", p.pad_top,
                        ", ", p.pad_left, ") -> y [", p.batch, ", ", p.out_channels, ", ", p.out_h, ", ", p.out_w, "]");
}

// The kernels index within one image, one filter bank and along M in int.
void check(const Conv2dParams& p, const char* pass) {
  NEBULA_CHECK(p.batch > 0 && p.in_channels > 0 && p.in_h > 0 && p.in_w > 0 && p.out_channels > 0 && p.kernel_h > 0 &&
                   p.kernel_w > 0 && p.out_h > 0 && p.out_w > 0 && p.stride > 0 && p.pad_top >= 0 && p.pad_left >= 0,
               "conv2d ", pass, ": invalid shape ", describe(p));
  constexpr int64_t int_max = std::numeric_limits<int>::max();
  const int64_t in_pixels = int64_t(p.in_h) * p.in_w, out_pixels = int64_t(p.out_h) * p.out_w;
  NEBULA_CHECK(p.in_channels * in_pixels <= int_max && p.out_channels * out_pixels <= int_max &&
                   int64_t(p.out_channels) * p.in_channels * p.kernel_h * p.kernel_w <= int_max &&
                   p.batch * in_pixels <= int_max && p.batch * out_pixels <= int_max && p.stride <= 255,
               "conv2d ", pass, ": ", describe(p), " exceeds the 32-bit index range of the CUDA kernels");
}

}  // namespace

void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y, bool relu) {
  check(p, "forward");
  const int64_t pixels = int64_t(p.out_h) * p.out_w, m = p.batch * pixels;
  const int64_t taps = int64_t(p.in_channels) * p.kernel_h * p.kernel_w;
  ForwardProblem prob;
  static_cast<Im2col&>(prob.a) = im2col(p, x);
  prob.b = {w, static_cast<int>(taps)};  // the filter bank is within int range (check)
  prob.c = {FastDiv(static_cast<int>(pixels)), p.out_channels * pixels, pixels};
  GemmLaunch gemm(m, p.out_channels, taps, 1, y, m * p.out_channels, nullptr, bias, relu);
  const dim3 grid = gemm.grid();
  gpu::with_tile(gemm.plan().tile, [&](auto tile) {
    using Tile = decltype(tile);
    conv2d_forward_kernel<Tile><<<grid, Tile::threads, 0, gpu::stream()>>>(prob, gemm.args());
  });
  NEBULA_CUDA_CHECK_LAUNCH("conv2d forward ", describe(p));
  gemm.finish(detail::concat("conv2d forward ", describe(p)));
}

void conv2d_backward_data(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  check(p, "backward data");
  const int phases = p.stride * p.stride;
  int64_t m = 0, k = 0;  // the largest phase
  for (int i = 0; i < phases; ++i) {
    const Phase f = phase_of(p, i);
    m = std::max(m, int64_t(p.batch) * f.rows * f.cols);
    k = std::max(k, int64_t(p.out_channels) * f.taps_h * f.taps_w);
  }
  const int64_t dx_size = int64_t(p.batch) * p.in_channels * p.in_h * p.in_w;
  GemmLaunch gemm(m, p.in_channels, k, phases, dx, dx_size, nullptr, nullptr, false);
  const dim3 grid = gemm.grid();
  gpu::with_tile(gemm.plan().tile, [&](auto tile) {
    using Tile = decltype(tile);
    conv2d_backward_data_kernel<Tile><<<grid, Tile::threads, 0, gpu::stream()>>>(p, dy, w, gemm.args());
  });
  NEBULA_CUDA_CHECK_LAUNCH("conv2d backward data ", describe(p));
  gemm.finish(detail::concat("conv2d backward data ", describe(p)));
}

void conv2d_backward_filter(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* dbias) {
  check(p, "backward filter");
  const int64_t pixels = int64_t(p.out_h) * p.out_w;
  const int64_t taps = int64_t(p.in_channels) * p.kernel_h * p.kernel_w;
  FilterProblem prob;
  static_cast<Im2col&>(prob.a) = im2col(p, x);
  prob.b = {dy, p.out_channels * pixels, FastDiv(static_cast<int>(pixels))};
  prob.c = {taps};
  GemmLaunch gemm(taps, p.out_channels, p.batch * pixels, 1, dw, p.out_channels * taps, dbias, nullptr, false);
  const dim3 grid = gemm.grid();
  gpu::with_tile(gemm.plan().tile, [&](auto tile) {
    using Tile = decltype(tile);
    conv2d_backward_filter_kernel<Tile><<<grid, Tile::threads, 0, gpu::stream()>>>(prob, gemm.args());
  });
  NEBULA_CUDA_CHECK_LAUNCH("conv2d backward filter ", describe(p));
  gemm.finish(detail::concat("conv2d backward filter ", describe(p)));
}

}  // namespace cuda
}  // namespace nebula
