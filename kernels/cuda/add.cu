// Elementwise add, accumulate (y += x) and fill on the GPU. When every pointer
// is 16-byte aligned the bulk moves as float4 (one 128-bit load per operand),
// and the last n % 4 values go one at a time; otherwise a plain scalar loop.
// Element i reads and writes only i, so in-place use is safe in both paths.
#include "kernels/add.h"

#include <cstdint>

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

// Grid size: the float4 path has a quarter as many iterations.
int grid_for(int64_t n, bool vectorised) { return gpu::blocks_for(vectorised ? n / 4 : n, kThreads); }

__global__ void add_forward_kernel(int64_t n, const float* a, const float* b, float* y, bool vectorised) {
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x, stride = int64_t(gridDim.x) * blockDim.x;
  int64_t done = 0;
  if (vectorised) {
    const int64_t n4 = n / 4;
    const float4* a4 = reinterpret_cast<const float4*>(a);
    const float4* b4 = reinterpret_cast<const float4*>(b);
    float4* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = first; i < n4; i += stride) {
      const float4 u = a4[i], v = b4[i];
      y4[i] = make_float4(u.x + v.x, u.y + v.y, u.z + v.z, u.w + v.w);
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) y[i] = a[i] + b[i];
}

__global__ void accumulate_kernel(int64_t n, const float* x, float* y, bool vectorised) {
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x, stride = int64_t(gridDim.x) * blockDim.x;
  int64_t done = 0;
  if (vectorised) {
    const int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = first; i < n4; i += stride) {
      const float4 u = x4[i], v = y4[i];
      y4[i] = make_float4(v.x + u.x, v.y + u.y, v.z + u.z, v.w + u.w);
    }
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) y[i] += x[i];
}

__global__ void fill_kernel(int64_t n, float value, float* y, bool vectorised) {
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x, stride = int64_t(gridDim.x) * blockDim.x;
  int64_t done = 0;
  if (vectorised) {
    const int64_t n4 = n / 4;
    float4* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = first; i < n4; i += stride) y4[i] = make_float4(value, value, value, value);
    done = n4 * 4;
  }
  for (int64_t i = done + first; i < n; i += stride) y[i] = value;
}

}  // namespace

void add_forward(int64_t n, const float* a, const float* b, float* y) {
  if (n <= 0) return;
  const bool vectorised = aligned16(a) && aligned16(b) && aligned16(y);
  add_forward_kernel<<<grid_for(n, vectorised), kThreads, 0, gpu::stream()>>>(n, a, b, y, vectorised);
  NEBULA_CUDA_CHECK_LAUNCH("add forward n=", n);
}

void accumulate(int64_t n, const float* x, float* y) {
  if (n <= 0) return;
  const bool vectorised = aligned16(x) && aligned16(y);
  accumulate_kernel<<<grid_for(n, vectorised), kThreads, 0, gpu::stream()>>>(n, x, y, vectorised);
  NEBULA_CUDA_CHECK_LAUNCH("accumulate n=", n);
}

void fill(int64_t n, float value, float* y) {
  if (n <= 0) return;
  const bool vectorised = aligned16(y);
  fill_kernel<<<grid_for(n, vectorised), kThreads, 0, gpu::stream()>>>(n, value, y, vectorised);
  NEBULA_CUDA_CHECK_LAUNCH("fill n=", n, " value=", value);
}

}  // namespace cuda
}  // namespace nebula
