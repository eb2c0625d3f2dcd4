// Elementwise add (the residual connection): y = a + b; da = dy, db = dy.
// Also the accumulation used by autograd: y += x, and fill: y = value.
#pragma once
#include <cstdint>

namespace nebula {
namespace ref {
template <typename T>
void add_forward(int64_t n, const T* a, const T* b, T* y);
template <typename T>
void accumulate(int64_t n, const T* x, T* y);  // y += x
}  // namespace ref

namespace cuda {  // device pointers, work queued on gpu::stream()
void add_forward(int64_t n, const float* a, const float* b, float* y);
void accumulate(int64_t n, const float* x, float* y);
void fill(int64_t n, float value, float* y);
}  // namespace cuda
}  // namespace nebula
