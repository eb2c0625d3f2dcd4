// Maxout on the GPU: a thread per group finds its winner with the same
// function as the reference (kernels/maxout.h), so ties go the same way.
#include "kernels/maxout.h"

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;

__global__ void maxout_forward_kernel(int64_t groups, int pieces, const float* x, float* y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += stride)
    y[g] = x[g * pieces + maxout_winner(x + g * pieces, pieces)];
}

__global__ void maxout_backward_kernel(int64_t groups, int pieces, const float* x, const float* dy, float* dx) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += stride) {
    const int winner = maxout_winner(x + g * pieces, pieces);
    for (int k = 0; k < pieces; ++k) dx[g * pieces + k] = k == winner ? dy[g] : 0.0f;
  }
}

}  // namespace

void maxout_forward(int64_t groups, int pieces, const float* x, float* y) {
  if (groups <= 0) return;
  maxout_forward_kernel<<<gpu::blocks_for(groups, kThreads), kThreads, 0, gpu::stream()>>>(groups, pieces, x, y);
  NEBULA_CUDA_CHECK_LAUNCH("maxout forward groups=", groups, " pieces=", pieces);
}

void maxout_backward(int64_t groups, int pieces, const float* x, const float* dy, float* dx) {
  if (groups <= 0) return;
  maxout_backward_kernel<<<gpu::blocks_for(groups, kThreads), kThreads, 0, gpu::stream()>>>(groups, pieces, x, dy,
                                                                                            dx);
  NEBULA_CUDA_CHECK_LAUNCH("maxout backward groups=", groups, " pieces=", pieces);
}

}  // namespace cuda
}  // namespace nebula
