// Elementwise add (the residual connection): y = a + b; da = dy, db = dy.
// Also the accumulation used by autograd: y += x.
#pragma once
#include <cstdint>

namespace nebula {
namespace ref {
template <typename T>
void add_forward(int64_t n, const T* a, const T* b, T* y);
template <typename T>
void accumulate(int64_t n, const T* x, T* y);  // y += x
}  // namespace ref
}  // namespace nebula
