// Joining the views' features on the CPU (kernels/view_merge.h states the math).
#include "kernels/view_merge.h"

#include "kernels/cpu/parallel.h"

namespace nebula {
namespace ref {

template <typename T>
void view_merge_forward(const ViewMergeParams& p, const T* x, T* y) {
  const int64_t F = p.features, N = p.batch, V = p.views;
  cpu::parallel_for(N, cpu::kElementwiseGrain / (V * F) + 1, [=](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      if (p.merge == ViewMerge::Concat) {
        for (int64_t v = 0; v < V; ++v)
          for (int64_t f = 0; f < F; ++f) y[(n * V + v) * F + f] = x[(v * N + n) * F + f];
        continue;
      }
      for (int64_t f = 0; f < F; ++f) {
        T sum = T(0);
        for (int64_t v = 0; v < V; ++v) sum += x[(v * N + n) * F + f];
        y[n * F + f] = sum / T(V);
      }
    }
  });
}

template <typename T>
void view_merge_backward(const ViewMergeParams& p, const T* dy, T* dx) {
  const int64_t F = p.features, N = p.batch, V = p.views;
  cpu::parallel_for(V * N, cpu::kElementwiseGrain / F + 1, [=](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {  // row = v N + n
      const int64_t v = row / N, n = row % N;
      for (int64_t f = 0; f < F; ++f)
        dx[row * F + f] = p.merge == ViewMerge::Concat ? dy[(n * V + v) * F + f] : dy[n * F + f] / T(V);
    }
  });
}

template void view_merge_forward<float>(const ViewMergeParams&, const float*, float*);
template void view_merge_forward<double>(const ViewMergeParams&, const double*, double*);
template void view_merge_backward<float>(const ViewMergeParams&, const float*, float*);
template void view_merge_backward<double>(const ViewMergeParams&, const double*, double*);

}  // namespace ref
}  // namespace nebula
