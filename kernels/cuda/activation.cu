// ReLU and sigmoid on the GPU: one grid-stride loop per pass. No __restrict__,
// since in-place use (y == x, dx == dy) is allowed; element i reads and writes
// only i. Sigmoid uses the reference's form, exp of -|x| only, so large |x|
// neither overflows nor gives 0/0, and expf (not __expf) keeps full accuracy.
#include "kernels/activation.h"

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;

__global__ void relu_forward_kernel(int64_t n, const float* x, float* y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

__global__ void relu_backward_kernel(int64_t n, const float* y, const float* dy, float* dx) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

__global__ void sigmoid_forward_kernel(int64_t n, const float* x, float* y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float v = x[i];
    const float e = expf(-fabsf(v)), r = 1.0f / (1.0f + e);
    y[i] = v >= 0.0f ? r : e * r;
  }
}

__global__ void sigmoid_backward_kernel(int64_t n, const float* y, const float* dy, float* dx) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const float yi = y[i];
    dx[i] = dy[i] * yi * (1.0f - yi);
  }
}

}  // namespace

void relu_forward(int64_t n, const float* x, float* y) {
  if (n <= 0) return;
  relu_forward_kernel<<<gpu::blocks_for(n, kThreads), kThreads, 0, gpu::stream()>>>(n, x, y);
  NEBULA_CUDA_CHECK_LAUNCH("relu forward n=", n);
}

void relu_backward(int64_t n, const float* y, const float* dy, float* dx) {
  if (n <= 0) return;
  relu_backward_kernel<<<gpu::blocks_for(n, kThreads), kThreads, 0, gpu::stream()>>>(n, y, dy, dx);
  NEBULA_CUDA_CHECK_LAUNCH("relu backward n=", n);
}

void sigmoid_forward(int64_t n, const float* x, float* y) {
  if (n <= 0) return;
  sigmoid_forward_kernel<<<gpu::blocks_for(n, kThreads), kThreads, 0, gpu::stream()>>>(n, x, y);
  NEBULA_CUDA_CHECK_LAUNCH("sigmoid forward n=", n);
}

void sigmoid_backward(int64_t n, const float* y, const float* dy, float* dx) {
  if (n <= 0) return;
  sigmoid_backward_kernel<<<gpu::blocks_for(n, kThreads), kThreads, 0, gpu::stream()>>>(n, y, dy, dx);
  NEBULA_CUDA_CHECK_LAUNCH("sigmoid backward n=", n);
}

}  // namespace cuda
}  // namespace nebula
