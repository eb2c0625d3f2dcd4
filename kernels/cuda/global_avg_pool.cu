// Global average pooling on the GPU. Forward: a warp per plane; each lane sums
// a strided share of the plane in double (as the reference does), then the warp
// folds the 32 partial sums in a fixed tree, so reruns are bit-identical.
// Backward: a thread per input value, dx = dy / (H W) divided in float as the
// reference does.
#include "kernels/global_avg_pool.h"

#include <cstdint>

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kWarp = 32;

__global__ void global_avg_pool_forward_kernel(int planes, int spatial, const float* x, float* y) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / kWarp);
  // Every lane of a warp takes the same planes, so the shuffles below see the whole warp.
  for (int64_t q = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / kWarp; q < planes; q += warps) {
    const float* xp = x + q * spatial;
    double sum = 0.0;
    for (int i = lane; i < spatial; i += kWarp) sum += xp[i];
    for (int delta = kWarp / 2; delta > 0; delta /= 2) sum += __shfl_down_sync(0xffffffffu, sum, delta);
    if (lane == 0) y[q] = static_cast<float>(sum / spatial);
  }
}

__global__ void global_avg_pool_backward_kernel(int planes, int spatial, const float* dy, float* dx) {
  const int64_t total = int64_t(planes) * spatial, stride = int64_t(gridDim.x) * blockDim.x;
  const float count = static_cast<float>(spatial);
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride)
    dx[i] = dy[i / spatial] / count;
}

}  // namespace

void global_avg_pool_forward(int planes, int spatial, const float* x, float* y) {
  if (planes <= 0 || spatial <= 0) return;
  const int blocks = gpu::blocks_for(int64_t(planes) * kWarp, kThreads);
  global_avg_pool_forward_kernel<<<blocks, kThreads, 0, gpu::stream()>>>(planes, spatial, x, y);
  NEBULA_CUDA_CHECK_LAUNCH("global_avg_pool forward planes=", planes, " spatial=", spatial);
}

void global_avg_pool_backward(int planes, int spatial, const float* dy, float* dx) {
  if (planes <= 0 || spatial <= 0) return;
  const int blocks = gpu::blocks_for(int64_t(planes) * spatial, kThreads);
  global_avg_pool_backward_kernel<<<blocks, kThreads, 0, gpu::stream()>>>(planes, spatial, dy, dx);
  NEBULA_CUDA_CHECK_LAUNCH("global_avg_pool backward planes=", planes, " spatial=", spatial);
}

}  // namespace cuda
}  // namespace nebula
