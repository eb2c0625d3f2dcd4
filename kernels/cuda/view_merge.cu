// Joining the views' features on the GPU: a thread per output value (forward)
// and per input value (backward); the mean adds the views in order, as the
// reference does.
#include "kernels/view_merge.h"

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;

__global__ void view_merge_forward_kernel(ViewMergeParams p, const float* x, float* y) {
  const int64_t F = p.features, N = p.batch, V = p.views;
  const bool concat = p.merge == ViewMerge::Concat;
  const int64_t total = concat ? N * V * F : N * F, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += stride) {
    if (concat) {
      const int64_t n = o / (V * F), v = o / F % V, f = o % F;
      y[o] = x[(v * N + n) * F + f];
      continue;
    }
    const int64_t n = o / F, f = o % F;
    float sum = 0.0f;
    for (int64_t v = 0; v < V; ++v) sum += x[(v * N + n) * F + f];
    y[o] = sum / float(V);
  }
}

__global__ void view_merge_backward_kernel(ViewMergeParams p, const float* dy, float* dx) {
  const int64_t F = p.features, N = p.batch, V = p.views;
  const int64_t total = V * N * F, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += stride) {
    const int64_t v = o / (N * F), n = o / F % N, f = o % F;
    dx[o] = p.merge == ViewMerge::Concat ? dy[(n * V + v) * F + f] : dy[n * F + f] / float(V);
  }
}

}  // namespace

void view_merge_forward(const ViewMergeParams& p, const float* x, float* y) {
  const int64_t total = p.batch * p.features * (p.merge == ViewMerge::Concat ? p.views : 1);
  if (total <= 0) return;
  view_merge_forward_kernel<<<gpu::blocks_for(total, kThreads), kThreads, 0, gpu::stream()>>>(p, x, y);
  NEBULA_CUDA_CHECK_LAUNCH("view merge forward views=", p.views, " batch=", p.batch, " features=", p.features);
}

void view_merge_backward(const ViewMergeParams& p, const float* dy, float* dx) {
  const int64_t total = p.views * p.batch * p.features;
  if (total <= 0) return;
  view_merge_backward_kernel<<<gpu::blocks_for(total, kThreads), kThreads, 0, gpu::stream()>>>(p, dy, dx);
  NEBULA_CUDA_CHECK_LAUNCH("view merge backward views=", p.views, " batch=", p.batch, " features=", p.features);
}

}  // namespace cuda
}  // namespace nebula
