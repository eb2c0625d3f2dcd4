// Elementwise add and accumulate on the CPU, split over threads in fixed ranges.
#include "kernels/add.h"

#include "kernels/cpu/parallel.h"

namespace nebula {
namespace ref {

template <typename T>
void add_forward(int64_t n, const T* a, const T* b, T* y) {
  cpu::parallel_for(n, cpu::kElementwiseGrain, [=](int64_t begin, int64_t end) {
#pragma GCC ivdep
    for (int64_t i = begin; i < end; ++i) y[i] = a[i] + b[i];
  });
}

template <typename T>
void accumulate(int64_t n, const T* x, T* y) {
  cpu::parallel_for(n, cpu::kElementwiseGrain, [=](int64_t begin, int64_t end) {
#pragma GCC ivdep
    for (int64_t i = begin; i < end; ++i) y[i] += x[i];
  });
}

template void add_forward<float>(int64_t, const float*, const float*, float*);
template void add_forward<double>(int64_t, const double*, const double*, double*);
template void accumulate<float>(int64_t, const float*, float*);
template void accumulate<double>(int64_t, const double*, double*);

}  // namespace ref
}  // namespace nebula
