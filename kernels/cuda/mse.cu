// Mean squared error on the GPU. The loss is reduced in double and in a fixed
// order, so reruns are bit-identical without atomics: a first kernel writes one
// partial sum per block (the grid depends only on n), a second, single block
// folds them and divides by n. The loss and its upstream gradient stay in
// device memory, so a training step never waits on the host.
#include "kernels/mse.h"

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/allocator.h"
#include "kernels/cuda/block_sum.cuh"
#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;       // a power of two, for block_sum's halving tree
constexpr int kMaxPartials = 1024;  // more blocks than fill the GPU would only lengthen the second pass

__global__ void mse_forward_partial_kernel(int64_t n, const float* p, const float* t, double* partials) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  double sum = 0.0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const double d = double(p[i]) - double(t[i]);
    sum += d * d;
  }
  sum = block_sum<kThreads>(sum);
  if (threadIdx.x == 0) partials[blockIdx.x] = sum;
}

__global__ void mse_forward_finish_kernel(int64_t n, int count, const double* partials, float* loss) {
  double sum = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) sum += partials[i];
  sum = block_sum<kThreads>(sum);
  if (threadIdx.x == 0) *loss = static_cast<float>(sum / double(n));
}

__global__ void mse_backward_kernel(int64_t n, const float* p, const float* t, const float* dloss, float* dp) {
  const float scale = 2.0f * *dloss / static_cast<float>(n);  // the reference's float arithmetic
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) dp[i] = scale * (p[i] - t[i]);
}

// A block per column; its threads take rows in turn.
__global__ void column_squared_error_kernel(int rows, int columns, const float* p, const float* t, float* sums) {
  const int c = blockIdx.x;
  double sum = 0.0;
  for (int i = threadIdx.x; i < rows; i += blockDim.x) {
    const int64_t at = int64_t(i) * columns + c;
    const double d = double(p[at]) - double(t[at]);
    sum += d * d;
  }
  sum = block_sum<kThreads>(sum);
  if (threadIdx.x == 0) sums[c] = static_cast<float>(sum);
}

}  // namespace

void mse_forward(int64_t n, const float* p, const float* t, float* loss) {
  NEBULA_CHECK(n >= 0, "mse forward: n=", n, " must not be negative");  // n == 0 gives NaN, as the reference
  const int blocks = std::min(gpu::blocks_for(n, kThreads), kMaxPartials);
  const size_t bytes = sizeof(double) * blocks;
  double* partials = static_cast<double*>(gpu::device_allocate(bytes));
  mse_forward_partial_kernel<<<blocks, kThreads, 0, gpu::stream()>>>(n, p, t, partials);
  NEBULA_CUDA_CHECK_LAUNCH("mse forward n=", n);
  mse_forward_finish_kernel<<<1, kThreads, 0, gpu::stream()>>>(n, blocks, partials, loss);
  NEBULA_CUDA_CHECK_LAUNCH("mse forward (final sum) n=", n);
  gpu::device_release(partials, bytes);  // stream-ordered: safe once the kernels are queued
}

void mse_backward(int64_t n, const float* p, const float* t, const float* dloss, float* dp) {
  if (n <= 0) return;
  mse_backward_kernel<<<gpu::blocks_for(n, kThreads), kThreads, 0, gpu::stream()>>>(n, p, t, dloss, dp);
  NEBULA_CUDA_CHECK_LAUNCH("mse backward n=", n);
}

void column_squared_error(int rows, int columns, const float* p, const float* t, float* sums) {
  NEBULA_CHECK(rows >= 0 && columns >= 0, "column_squared_error: [", rows, ", ", columns, "] must not be negative");
  if (columns == 0) return;
  column_squared_error_kernel<<<columns, kThreads, 0, gpu::stream()>>>(rows, columns, p, t, sums);
  NEBULA_CUDA_CHECK_LAUNCH("column_squared_error [", rows, ", ", columns, "]");
}

}  // namespace cuda
}  // namespace nebula
