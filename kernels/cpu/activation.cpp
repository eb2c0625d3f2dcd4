// Elementwise activations on the CPU, split over threads in fixed ranges.
#include "kernels/activation.h"

#include <cmath>

#include "kernels/cpu/parallel.h"

namespace nebula {
namespace ref {

// In-place use (y == x, dx == dy) defeats the compiler's overlap check and would
// leave these loops scalar; ivdep is safe because element i reads and writes only i.

template <typename T>
void relu_forward(int64_t n, const T* x, T* y) {
  cpu::parallel_for(n, cpu::kElementwiseGrain, [=](int64_t begin, int64_t end) {
#pragma GCC ivdep
    for (int64_t i = begin; i < end; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
  });
}

template <typename T>
void relu_backward(int64_t n, const T* y, const T* dy, T* dx) {
  cpu::parallel_for(n, cpu::kElementwiseGrain, [=](int64_t begin, int64_t end) {
#pragma GCC ivdep
    for (int64_t i = begin; i < end; ++i) {
      const T g = dy[i];  // loaded unconditionally so the select vectorizes
      dx[i] = y[i] > T(0) ? g : T(0);
    }
  });
}

template <typename T>
void sigmoid_forward(int64_t n, const T* x, T* y) {
  cpu::parallel_for(n, cpu::kElementwiseGrain, [=](int64_t begin, int64_t end) {
    // exp of a non-positive argument only, so large |x| neither overflows nor gives 0/0.
    for (int64_t i = begin; i < end; ++i) {
      const T e = std::exp(-std::abs(x[i])), r = T(1) / (T(1) + e);
      y[i] = x[i] >= T(0) ? r : e * r;
    }
  });
}

template <typename T>
void sigmoid_backward(int64_t n, const T* y, const T* dy, T* dx) {
  cpu::parallel_for(n, cpu::kElementwiseGrain, [=](int64_t begin, int64_t end) {
#pragma GCC ivdep
    for (int64_t i = begin; i < end; ++i) dx[i] = dy[i] * y[i] * (T(1) - y[i]);
  });
}

template void relu_forward<float>(int64_t, const float*, float*);
template void relu_forward<double>(int64_t, const double*, double*);
template void relu_backward<float>(int64_t, const float*, const float*, float*);
template void relu_backward<double>(int64_t, const double*, const double*, double*);
template void sigmoid_forward<float>(int64_t, const float*, float*);
template void sigmoid_forward<double>(int64_t, const double*, double*);
template void sigmoid_backward<float>(int64_t, const float*, const float*, float*);
template void sigmoid_backward<double>(int64_t, const double*, const double*, double*);

}  // namespace ref
}  // namespace nebula
