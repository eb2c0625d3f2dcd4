// MaxPool2d on the GPU. Forward: a thread per output scans its window rows then
// columns with a strict >, so the first maximal element wins, as in the
// reference. Backward: a thread per INPUT element sums dy over the windows that
// contain it and whose first argmax it is, rescanning each window. No atomics,
// so the result is deterministic, and windows are visited in the reference's
// order (row of windows, then column), so the sums agree with it bit for bit;
// overlapping windows (stride < kernel) just mean more windows to visit.
#include "kernels/maxpool2d.h"

#include <cstdint>

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;

// Offset within the plane of window (i, j)'s first maximal element. Padded cells
// are skipped (-infinity never wins); a window of only NaN or -infinity keeps its
// first real cell, as the reference does.
__device__ __forceinline__ int window_argmax(const Pool2dParams& p, const float* plane, int i, int j) {
  const int top = i * p.stride - p.pad, left = j * p.stride - p.pad;
  const int h0 = max(top, 0), h1 = min(top + p.kernel, p.in_h);
  const int w0 = max(left, 0), w1 = min(left + p.kernel, p.in_w);
  float best = -INFINITY;
  int at = h0 * p.in_w + w0;
  for (int h = h0; h < h1; ++h)
    for (int w = w0; w < w1; ++w) {
      const float v = plane[h * p.in_w + w];
      if (v > best) {
        best = v;
        at = h * p.in_w + w;
      }
    }
  return at;
}

__global__ void maxpool2d_forward_kernel(Pool2dParams p, const float* x, float* y) {
  const int64_t out_plane = int64_t(p.out_h) * p.out_w, in_plane = int64_t(p.in_h) * p.in_w;
  const int64_t total = int64_t(p.batch) * p.channels * out_plane;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t index = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; index < total; index += stride) {
    const int64_t q = index / out_plane;
    const int rest = int(index - q * out_plane), i = rest / p.out_w, j = rest - i * p.out_w;
    const float* plane = x + q * in_plane;
    y[index] = plane[window_argmax(p, plane, i, j)];
  }
}

__global__ void maxpool2d_backward_kernel(Pool2dParams p, const float* x, const float* dy, float* dx) {
  const int64_t out_plane = int64_t(p.out_h) * p.out_w, in_plane = int64_t(p.in_h) * p.in_w;
  const int64_t total = int64_t(p.batch) * p.channels * in_plane;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t index = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; index < total; index += stride) {
    const int64_t q = index / in_plane;
    const int at = int(index - q * in_plane), h = at / p.in_w, w = at - h * p.in_w;
    // Windows i cover rows [i*stride - pad, i*stride - pad + kernel): those with
    // h + pad - kernel < i*stride <= h + pad, clipped to the output (likewise j).
    const int lowest_row = h + p.pad - p.kernel + 1, lowest_col = w + p.pad - p.kernel + 1;
    const int i0 = lowest_row <= 0 ? 0 : (lowest_row + p.stride - 1) / p.stride;
    const int j0 = lowest_col <= 0 ? 0 : (lowest_col + p.stride - 1) / p.stride;
    const int i1 = min((h + p.pad) / p.stride, p.out_h - 1), j1 = min((w + p.pad) / p.stride, p.out_w - 1);
    const float* plane = x + q * in_plane;
    const float* dy_plane = dy + q * out_plane;
    float sum = 0.0f;
    for (int i = i0; i <= i1; ++i)
      for (int j = j0; j <= j1; ++j)
        if (window_argmax(p, plane, i, j) == at) sum += dy_plane[i * p.out_w + j];
    dx[index] = sum;
  }
}

}  // namespace

void maxpool2d_forward(const Pool2dParams& p, const float* x, float* y) {
  const int64_t total = int64_t(p.batch) * p.channels * p.out_h * p.out_w;
  if (total <= 0) return;
  maxpool2d_forward_kernel<<<gpu::blocks_for(total, kThreads), kThreads, 0, gpu::stream()>>>(p, x, y);
  NEBULA_CUDA_CHECK_LAUNCH("maxpool2d forward [", p.batch, ", ", p.channels, ", ", p.in_h, ", ", p.in_w, "] kernel ",
                           p.kernel, " stride ", p.stride, " pad ", p.pad);
}

void maxpool2d_backward(const Pool2dParams& p, const float* x, const float* dy, float* dx) {
  const int64_t total = int64_t(p.batch) * p.channels * p.in_h * p.in_w;
  if (total <= 0) return;
  maxpool2d_backward_kernel<<<gpu::blocks_for(total, kThreads), kThreads, 0, gpu::stream()>>>(p, x, dy, dx);
  NEBULA_CUDA_CHECK_LAUNCH("maxpool2d backward [", p.batch, ", ", p.channels, ", ", p.in_h, ", ", p.in_w, "] kernel ",
                           p.kernel, " stride ", p.stride, " pad ", p.pad);
}

}  // namespace cuda
}  // namespace nebula
