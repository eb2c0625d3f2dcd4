// The views on the GPU: a thread per output value gathers its taps (forward),
// a thread per input value gathers its transposed entries (backward), each in
// the table's order, as the reference does; nothing is added atomically.
#include "kernels/views.h"

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;

__global__ void views_forward_kernel(ViewTableArrays t, int64_t planes, const float* x, float* y) {
  const int64_t in_pixels = int64_t(t.in_size) * t.in_size, out_pixels = int64_t(t.out_size) * t.out_size;
  const int64_t total = t.views * planes * out_pixels, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += stride) {
    const int64_t vq = o / out_pixels, p = o % out_pixels, v = vq / planes;
    const float* xp = x + (vq % planes) * in_pixels;
    const int64_t at = (v * out_pixels + p) * t.taps;
    float sum = 0.0f;
    for (int k = 0; k < t.taps; ++k)
      if (t.index[at + k] >= 0) sum += t.weight[at + k] * xp[t.index[at + k]];
    y[o] = sum;
  }
}

__global__ void views_backward_kernel(ViewTableArrays t, int64_t planes, const float* dy, float* dx) {
  const int64_t in_pixels = int64_t(t.in_size) * t.in_size, out_pixels = int64_t(t.out_size) * t.out_size;
  const int64_t total = planes * in_pixels, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += stride) {
    const int64_t q = o / in_pixels, i = o % in_pixels;
    float sum = 0.0f;
    for (int32_t e = t.start[i]; e < t.start[i + 1]; ++e) {
      const int64_t v = t.entry[e] / out_pixels, p = t.entry[e] % out_pixels;
      sum += t.entry_weight[e] * dy[(v * planes + q) * out_pixels + p];
    }
    dx[o] = sum;
  }
}

}  // namespace

void views_forward(const ViewTableArrays& t, int64_t batch, int64_t channels, const float* x, float* y) {
  const int64_t planes = batch * channels, total = t.views * planes * int64_t(t.out_size) * t.out_size;
  if (total <= 0) return;
  views_forward_kernel<<<gpu::blocks_for(total, kThreads), kThreads, 0, gpu::stream()>>>(t, planes, x, y);
  NEBULA_CUDA_CHECK_LAUNCH("views forward views=", t.views, " planes=", planes, " size=", t.in_size);
}

void views_backward(const ViewTableArrays& t, int64_t batch, int64_t channels, const float* dy, float* dx) {
  const int64_t planes = batch * channels, total = planes * int64_t(t.in_size) * t.in_size;
  if (total <= 0) return;
  views_backward_kernel<<<gpu::blocks_for(total, kThreads), kThreads, 0, gpu::stream()>>>(t, planes, dy, dx);
  NEBULA_CUDA_CHECK_LAUNCH("views backward views=", t.views, " planes=", planes, " size=", t.in_size);
}

}  // namespace cuda
}  // namespace nebula
