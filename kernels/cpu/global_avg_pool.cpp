// Global average pooling on the CPU, planes split over threads.
#include "kernels/global_avg_pool.h"

#include <algorithm>
#include <cstdint>

#include "kernels/cpu/parallel.h"

namespace nebula {
namespace ref {

template <typename T>
void global_avg_pool_forward(int planes, int spatial, const T* x, T* y) {
  cpu::parallel_for(planes, cpu::kElementwiseGrain / spatial, [=](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      const T* xp = x + q * spatial;
      double sum = 0.0;  // double even for float: a plane can hold many values
      for (int i = 0; i < spatial; ++i) sum += xp[i];
      y[q] = static_cast<T>(sum / spatial);
    }
  });
}

template <typename T>
void global_avg_pool_backward(int planes, int spatial, const T* dy, T* dx) {
  cpu::parallel_for(planes, cpu::kElementwiseGrain / spatial, [=](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) std::fill(dx + q * spatial, dx + (q + 1) * spatial, dy[q] / T(spatial));
  });
}

template void global_avg_pool_forward<float>(int, int, const float*, float*);
template void global_avg_pool_forward<double>(int, int, const double*, double*);
template void global_avg_pool_backward<float>(int, int, const float*, float*);
template void global_avg_pool_backward<double>(int, int, const double*, double*);

}  // namespace ref
}  // namespace nebula
