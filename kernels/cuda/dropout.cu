// Inverted dropout on the GPU: thread i draws philox_uniform(seed, offset + i),
// the same counter-based stream as the CPU, so the mask needs no storage and
// matches the reference bit for bit (the scale is formed once in float on the
// host, as the reference forms it). A captured graph cannot change a kernel's
// arguments between replays, so the offset may also come from device memory.
#include "kernels/dropout.h"

#include "base/error.h"
#include "base/philox.h"
#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;

// The forward and backward passes apply the same mask; the kernels differ only in name.
__device__ __forceinline__ void apply_mask(int64_t n, float rate, float scale, uint64_t seed, uint64_t offset,
                                           const uint64_t* offset_device, const float* in, float* out) {
  const uint64_t base = offset + (offset_device != nullptr ? *offset_device : 0);
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = philox_uniform(seed, base + uint64_t(i)) >= rate ? in[i] * scale : 0.0f;
}

__global__ void dropout_forward_kernel(int64_t n, float rate, float scale, uint64_t seed, uint64_t offset,
                                       const uint64_t* offset_device, const float* x, float* y) {
  apply_mask(n, rate, scale, seed, offset, offset_device, x, y);
}

__global__ void dropout_backward_kernel(int64_t n, float rate, float scale, uint64_t seed, uint64_t offset,
                                        const uint64_t* offset_device, const float* dy, float* dx) {
  apply_mask(n, rate, scale, seed, offset, offset_device, dy, dx);
}

float keep_scale(float rate) {
  NEBULA_CHECK(rate >= 0.0f && rate < 1.0f, "dropout: rate ", rate, " must be in [0, 1)");
  return 1.0f / (1.0f - rate);
}

}  // namespace

void dropout_forward(int64_t n, float rate, uint64_t seed, uint64_t offset, const uint64_t* offset_device,
                     const float* x, float* y) {
  const float scale = keep_scale(rate);
  if (n <= 0) return;
  dropout_forward_kernel<<<gpu::blocks_for(n, kThreads), kThreads, 0, gpu::stream()>>>(n, rate, scale, seed, offset,
                                                                                       offset_device, x, y);
  NEBULA_CUDA_CHECK_LAUNCH("dropout forward n=", n, " rate=", rate);
}

void dropout_backward(int64_t n, float rate, uint64_t seed, uint64_t offset, const uint64_t* offset_device,
                      const float* dy, float* dx) {
  const float scale = keep_scale(rate);
  if (n <= 0) return;
  dropout_backward_kernel<<<gpu::blocks_for(n, kThreads), kThreads, 0, gpu::stream()>>>(n, rate, scale, seed, offset,
                                                                                        offset_device, dy, dx);
  NEBULA_CUDA_CHECK_LAUNCH("dropout backward n=", n, " rate=", rate);
}

}  // namespace cuda
}  // namespace nebula
