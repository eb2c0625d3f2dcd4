// Conv2d on the CPU: the reference loops (any T) and the fast float path.
//
// Fast path, per sample n, with P = out_h * out_w and CRS = C * R * S:
//   forward:         y_n[K, P]      = W[K, CRS]   * col_n[CRS, P]     (im2col, then one GEMM)
//   backward data:   dcol_n[CRS, P] = W^T[CRS, K] * dy_n[K, P]        (one GEMM, then col2im)
//   backward filter: dW[K, CRS]    += dy_n[K, P]  * col_n^T[P, CRS]
// Samples are split over threads (kernels/cpu/parallel.h), each with its own
// im2col buffer, and BLAS runs single-threaded inside them so the two levels of
// threading do not fight over the cores: on 2 cores, cnn1's convolutions took
// ~1.5x as long with one BLAS-threaded GEMM per sample, as im2col and col2im
// then ran on one core. Row-blocking the column matrix to stay in L2 gained nothing.
// The filter gradient sums over the batch in a fixed number of chunks of
// consecutive samples; chunk partial sums are added in chunk order, so dW does
// not depend on the thread count.
#include "kernels/conv2d.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/error.h"
#include "kernels/cpu/parallel.h"

// OpenBLAS's thread control. Weak, so that the library still links against a
// BLAS that lacks them (then BLAS threading is left as it is).
extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_num_threads(void);
#pragma weak openblas_set_num_threads
#pragma weak openblas_get_num_threads

namespace nebula {

namespace {

// Output size and padding for one spatial dimension.
struct Extent {
  int out = 0, pad_before = 0;
};

Extent same_extent(int in, int kernel, int stride) {
  int out = (in + stride - 1) / stride;
  int pad_total = std::max((out - 1) * stride + kernel - in, 0);
  return {out, pad_total / 2};  // the odd pixel goes after, as in TensorFlow
}

void check_common(int batch, int in_channels, int in_h, int in_w, int out_channels, int kernel, int stride) {
  NEBULA_CHECK(batch > 0 && in_channels > 0 && in_h > 0 && in_w > 0 && out_channels > 0, "conv2d: input [", batch, ", ",
               in_channels, ", ", in_h, ", ", in_w, "] and ", out_channels, " filters must all be positive");
  NEBULA_CHECK(kernel > 0 && stride > 0, "conv2d: kernel ", kernel, " and stride ", stride, " must be positive");
}

}  // namespace

Conv2dParams conv2d_params(int batch, int in_channels, int in_h, int in_w, int out_channels, int kernel, int stride,
                           Padding padding) {
  check_common(batch, in_channels, in_h, in_w, out_channels, kernel, stride);
  Conv2dParams p;
  p.batch = batch, p.in_channels = in_channels, p.in_h = in_h, p.in_w = in_w;
  p.out_channels = out_channels, p.kernel_h = kernel, p.kernel_w = kernel, p.stride = stride;
  if (padding == Padding::Valid) {
    NEBULA_CHECK(kernel <= in_h && kernel <= in_w, "conv2d: kernel ", kernel, "x", kernel, " is larger than the input ",
                 in_h, "x", in_w, " with 'valid' padding");
    p.out_h = (in_h - kernel) / stride + 1;
    p.out_w = (in_w - kernel) / stride + 1;
  } else {
    Extent h = same_extent(in_h, kernel, stride), w = same_extent(in_w, kernel, stride);
    p.out_h = h.out, p.out_w = w.out, p.pad_top = h.pad_before, p.pad_left = w.pad_before;
  }
  return p;
}

Conv2dParams conv2d_params_padded(int batch, int in_channels, int in_h, int in_w, int out_channels, int kernel,
                                  int stride, int pad) {
  check_common(batch, in_channels, in_h, in_w, out_channels, kernel, stride);
  NEBULA_CHECK(pad >= 0, "conv2d: padding ", pad, " must not be negative");
  NEBULA_CHECK(kernel <= in_h + 2 * pad && kernel <= in_w + 2 * pad, "conv2d: kernel ", kernel, "x", kernel,
               " is larger than the padded input ", in_h + 2 * pad, "x", in_w + 2 * pad, " (input ", in_h, "x", in_w,
               ", padding ", pad, ")");
  Conv2dParams p;
  p.batch = batch, p.in_channels = in_channels, p.in_h = in_h, p.in_w = in_w;
  p.out_channels = out_channels, p.kernel_h = kernel, p.kernel_w = kernel, p.stride = stride;
  p.pad_top = pad, p.pad_left = pad;
  p.out_h = (in_h + 2 * pad - kernel) / stride + 1;
  p.out_w = (in_w + 2 * pad - kernel) / stride + 1;
  return p;
}

namespace ref {

template <typename T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y) {
  const int C = p.in_channels, H = p.in_h, W = p.in_w, R = p.kernel_h, S = p.kernel_w;
  for (int n = 0; n < p.batch; ++n)
    for (int k = 0; k < p.out_channels; ++k)
      for (int i = 0; i < p.out_h; ++i)
        for (int j = 0; j < p.out_w; ++j) {
          T acc = bias ? bias[k] : T(0);
          for (int c = 0; c < C; ++c)
            for (int r = 0; r < R; ++r) {
              int h = i * p.stride - p.pad_top + r;
              if (h < 0 || h >= H) continue;
              for (int s = 0; s < S; ++s) {
                int v = j * p.stride - p.pad_left + s;
                if (v < 0 || v >= W) continue;
                acc += x[((int64_t(n) * C + c) * H + h) * W + v] * w[((int64_t(k) * C + c) * R + r) * S + s];
              }
            }
          y[((int64_t(n) * p.out_channels + k) * p.out_h + i) * p.out_w + j] = acc;
        }
}

template <typename T>
void conv2d_backward_data(const Conv2dParams& p, const T* dy, const T* w, T* dx) {
  const int C = p.in_channels, H = p.in_h, W = p.in_w, R = p.kernel_h, S = p.kernel_w;
  std::fill(dx, dx + int64_t(p.batch) * C * H * W, T(0));
  // Scatter each output gradient back along the taps that produced the output.
  for (int n = 0; n < p.batch; ++n)
    for (int k = 0; k < p.out_channels; ++k)
      for (int i = 0; i < p.out_h; ++i)
        for (int j = 0; j < p.out_w; ++j) {
          T g = dy[((int64_t(n) * p.out_channels + k) * p.out_h + i) * p.out_w + j];
          for (int c = 0; c < C; ++c)
            for (int r = 0; r < R; ++r) {
              int h = i * p.stride - p.pad_top + r;
              if (h < 0 || h >= H) continue;
              for (int s = 0; s < S; ++s) {
                int v = j * p.stride - p.pad_left + s;
                if (v < 0 || v >= W) continue;
                dx[((int64_t(n) * C + c) * H + h) * W + v] += g * w[((int64_t(k) * C + c) * R + r) * S + s];
              }
            }
        }
}

template <typename T>
void conv2d_backward_filter(const Conv2dParams& p, const T* x, const T* dy, T* dw, T* dbias) {
  const int C = p.in_channels, H = p.in_h, W = p.in_w, R = p.kernel_h, S = p.kernel_w, K = p.out_channels;
  std::fill(dw, dw + int64_t(K) * C * R * S, T(0));
  if (dbias) std::fill(dbias, dbias + K, T(0));
  for (int n = 0; n < p.batch; ++n)
    for (int k = 0; k < K; ++k)
      for (int i = 0; i < p.out_h; ++i)
        for (int j = 0; j < p.out_w; ++j) {
          T g = dy[((int64_t(n) * K + k) * p.out_h + i) * p.out_w + j];
          if (dbias) dbias[k] += g;
          for (int c = 0; c < C; ++c)
            for (int r = 0; r < R; ++r) {
              int h = i * p.stride - p.pad_top + r;
              if (h < 0 || h >= H) continue;
              for (int s = 0; s < S; ++s) {
                int v = j * p.stride - p.pad_left + s;
                if (v < 0 || v >= W) continue;
                dw[((int64_t(k) * C + c) * R + r) * S + s] += g * x[((int64_t(n) * C + c) * H + h) * W + v];
              }
            }
        }
}

template void conv2d_forward<float>(const Conv2dParams&, const float*, const float*, const float*, float*);
template void conv2d_forward<double>(const Conv2dParams&, const double*, const double*, const double*, double*);
template void conv2d_backward_data<float>(const Conv2dParams&, const float*, const float*, float*);
template void conv2d_backward_data<double>(const Conv2dParams&, const double*, const double*, double*);
template void conv2d_backward_filter<float>(const Conv2dParams&, const float*, const float*, float*, float*);
template void conv2d_backward_filter<double>(const Conv2dParams&, const double*, const double*, double*, double*);

}  // namespace ref

namespace cpu {

namespace {

// Holds BLAS to one thread while the work is split over our own threads.
class BlasSingleThreaded {
 public:
  explicit BlasSingleThreaded(bool active) {
    if (!active || !openblas_set_num_threads || !openblas_get_num_threads) return;
    saved_ = openblas_get_num_threads();
    openblas_set_num_threads(1);
  }
  ~BlasSingleThreaded() {
    if (saved_ > 0) openblas_set_num_threads(saved_);
  }
  BlasSingleThreaded(const BlasSingleThreaded&) = delete;
  BlasSingleThreaded& operator=(const BlasSingleThreaded&) = delete;

 private:
  int saved_ = 0;
};

int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// For tap offset s, the output columns j whose input column j*stride - pad + s
// lies inside [0, in): j in [lo, hi).
struct Span {
  int lo, hi;
};
Span inside(int s, int pad, int stride, int in, int out) {
  int lo = std::max(0, floor_div(pad - s + stride - 1, stride));
  int hi = std::min(out, floor_div(in - 1 + pad - s, stride) + 1);
  return {lo, std::max(lo, hi)};
}

// 1x1 filters with stride 1 and no padding read the image as its own column matrix.
bool pointwise(const Conv2dParams& p) {
  return p.kernel_h == 1 && p.kernel_w == 1 && p.stride == 1 && p.pad_top == 0 && p.pad_left == 0 &&
         p.out_h == p.in_h && p.out_w == p.in_w;
}

// col[(c*R + r)*S + s][i*out_w + j] = x[c][i*stride - pad_top + r][j*stride - pad_left + s], 0 outside.
void im2col(const Conv2dParams& p, const float* x, float* col) {
  const int H = p.in_h, W = p.in_w, OH = p.out_h, OW = p.out_w, st = p.stride;
  float* out = col;
  for (int c = 0; c < p.in_channels; ++c) {
    const float* xc = x + int64_t(c) * H * W;
    for (int r = 0; r < p.kernel_h; ++r)
      for (int s = 0; s < p.kernel_w; ++s) {
        Span js = inside(s, p.pad_left, st, W, OW);
        for (int i = 0; i < OH; ++i, out += OW) {
          int h = i * st - p.pad_top + r;
          if (h < 0 || h >= H) {
            std::fill(out, out + OW, 0.0f);
            continue;
          }
          const float* xrow = xc + int64_t(h) * W;
          const int shift = s - p.pad_left;  // output column j reads input column j*stride + shift
          std::fill(out, out + js.lo, 0.0f);
          if (st == 1)
            std::memcpy(out + js.lo, xrow + js.lo + shift, sizeof(float) * (js.hi - js.lo));
          else
            for (int j = js.lo; j < js.hi; ++j) out[j] = xrow[j * st + shift];
          std::fill(out + js.hi, out + OW, 0.0f);
        }
      }
  }
}

// The adjoint of im2col: dx = 0, then every column entry is added back to the pixel it came from.
void col2im(const Conv2dParams& p, const float* col, float* dx) {
  const int H = p.in_h, W = p.in_w, OH = p.out_h, OW = p.out_w, st = p.stride;
  std::fill(dx, dx + int64_t(p.in_channels) * H * W, 0.0f);
  const float* in = col;
  for (int c = 0; c < p.in_channels; ++c) {
    float* dxc = dx + int64_t(c) * H * W;
    for (int r = 0; r < p.kernel_h; ++r)
      for (int s = 0; s < p.kernel_w; ++s) {
        Span js = inside(s, p.pad_left, st, W, OW);
        for (int i = 0; i < OH; ++i, in += OW) {
          int h = i * st - p.pad_top + r;
          if (h < 0 || h >= H) continue;
          float* dxrow = dxc + int64_t(h) * W;
          const int shift = s - p.pad_left;
          for (int j = js.lo; j < js.hi; ++j) dxrow[j * st + shift] += in[j];
        }
      }
  }
}

struct Dims {
  int64_t in_size, out_size, P, CRS;
  int K;
};
Dims dims(const Conv2dParams& p) {
  Dims d;
  d.in_size = int64_t(p.in_channels) * p.in_h * p.in_w;
  d.P = int64_t(p.out_h) * p.out_w;
  d.K = p.out_channels;
  d.out_size = d.K * d.P;
  d.CRS = int64_t(p.in_channels) * p.kernel_h * p.kernel_w;
  return d;
}

}  // namespace

void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y) {
  const Dims d = dims(p);
  const bool direct = pointwise(p);
  BlasSingleThreaded blas(range_count(p.batch, 1) > 1);
  parallel_for(p.batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> cols(direct ? 0 : d.CRS * d.P);
    for (int64_t n = begin; n < end; ++n) {
      const float* xn = x + n * d.in_size;
      float* yn = y + n * d.out_size;
      if (!direct) im2col(p, xn, cols.data());
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d.K, d.P, d.CRS, 1.0f, w, d.CRS, direct ? xn : cols.data(),
                  d.P, 0.0f, yn, d.P);
      if (bias)
        for (int k = 0; k < d.K; ++k) {
          float* row = yn + k * d.P;
          for (int64_t q = 0; q < d.P; ++q) row[q] += bias[k];
        }
    }
  });
}

void conv2d_backward_data(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  const Dims d = dims(p);
  const bool direct = pointwise(p);
  BlasSingleThreaded blas(range_count(p.batch, 1) > 1);
  parallel_for(p.batch, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> cols(direct ? 0 : d.CRS * d.P);
    for (int64_t n = begin; n < end; ++n) {
      float* dxn = dx + n * d.in_size;
      float* dcol = direct ? dxn : cols.data();
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d.CRS, d.P, d.K, 1.0f, w, d.CRS, dy + n * d.out_size, d.P,
                  0.0f, dcol, d.P);
      if (!direct) col2im(p, dcol, dxn);
    }
  });
}

void conv2d_backward_filter(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* dbias) {
  const Dims d = dims(p);
  const bool direct = pointwise(p);
  const int64_t filter_size = d.K * d.CRS;
  // The chunking depends only on the batch size, never on the thread count.
  const int chunks = std::min(p.batch, 16);
  // Chunk 0 sums straight into dw and dbias; the others into their own partials.
  std::vector<float> partial_w((chunks - 1) * filter_size), partial_b((chunks - 1) * int64_t(d.K));
  BlasSingleThreaded blas(range_count(chunks, 1) > 1);
  parallel_for(chunks, 1, [&](int64_t chunk_begin, int64_t chunk_end) {
    std::vector<float> cols(direct ? 0 : d.CRS * d.P);
    for (int64_t chunk = chunk_begin; chunk < chunk_end; ++chunk) {
      float* cw = chunk == 0 ? dw : partial_w.data() + (chunk - 1) * filter_size;
      float* cb = chunk == 0 ? dbias : dbias ? partial_b.data() + (chunk - 1) * d.K : nullptr;
      const int64_t first = p.batch * chunk / chunks, last = p.batch * (chunk + 1) / chunks;
      if (cb) std::fill(cb, cb + d.K, 0.0f);
      for (int64_t n = first; n < last; ++n) {
        const float* xn = x + n * d.in_size;
        const float* dyn = dy + n * d.out_size;
        if (!direct) im2col(p, xn, cols.data());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d.K, d.CRS, d.P, 1.0f, dyn, d.P, direct ? xn : cols.data(),
                    d.P, n == first ? 0.0f : 1.0f, cw, d.CRS);
        if (cb)
          for (int k = 0; k < d.K; ++k) {
            const float* row = dyn + k * d.P;
            double sum = 0.0;  // a row can hold ~10^4 values; float would drop low bits
            for (int64_t q = 0; q < d.P; ++q) sum += row[q];
            cb[k] += static_cast<float>(sum);
          }
      }
    }
  });
  for (int chunk = 1; chunk < chunks; ++chunk) {
    const float* pw = partial_w.data() + (chunk - 1) * filter_size;
    for (int64_t q = 0; q < filter_size; ++q) dw[q] += pw[q];
    if (dbias)
      for (int k = 0; k < d.K; ++k) dbias[k] += partial_b[(chunk - 1) * d.K + k];
  }
}

}  // namespace cpu

}  // namespace nebula
