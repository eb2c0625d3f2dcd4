// Inverted dropout over n values with drop probability `rate`:
//   keep_i = philox_uniform(seed, offset + i) >= rate
//   y_i = keep_i ? x_i / (1 - rate) : 0;      dx_i = keep_i ? dy_i / (1 - rate) : 0
// The mask is recomputed from (seed, offset) in backward, never stored, and is the
// same on every backend. Overwrites its output.
#pragma once
#include <cstdint>

namespace nebula {
namespace ref {
template <typename T>
void dropout_forward(int64_t n, float rate, uint64_t seed, uint64_t offset, const T* x, T* y);
template <typename T>
void dropout_backward(int64_t n, float rate, uint64_t seed, uint64_t offset, const T* dy, T* dx);
}  // namespace ref

// GPU path (the same mask as the CPU's). offset_device, when not null, points to a
// device value added to offset: a captured CUDA graph advances it between replays.
namespace cuda {
void dropout_forward(int64_t n, float rate, uint64_t seed, uint64_t offset, const uint64_t* offset_device,
                     const float* x, float* y);
void dropout_backward(int64_t n, float rate, uint64_t seed, uint64_t offset, const uint64_t* offset_device,
                      const float* dy, float* dx);
}  // namespace cuda
}  // namespace nebula
