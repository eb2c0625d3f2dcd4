// Maxout on the CPU (kernels/maxout.h states the math).
#include "kernels/maxout.h"

#include "kernels/cpu/parallel.h"

namespace nebula {
namespace ref {

template <typename T>
void maxout_forward(int64_t groups, int pieces, const T* x, T* y) {
  cpu::parallel_for(groups, cpu::kElementwiseGrain / pieces + 1, [=](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) y[g] = x[g * pieces + maxout_winner(x + g * pieces, pieces)];
  });
}

template <typename T>
void maxout_backward(int64_t groups, int pieces, const T* x, const T* dy, T* dx) {
  cpu::parallel_for(groups, cpu::kElementwiseGrain / pieces + 1, [=](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const int winner = maxout_winner(x + g * pieces, pieces);
      for (int k = 0; k < pieces; ++k) dx[g * pieces + k] = k == winner ? dy[g] : T(0);
    }
  });
}

template void maxout_forward<float>(int64_t, int, const float*, float*);
template void maxout_forward<double>(int64_t, int, const double*, double*);
template void maxout_backward<float>(int64_t, int, const float*, const float*, float*);
template void maxout_backward<double>(int64_t, int, const double*, const double*, double*);

}  // namespace ref
}  // namespace nebula
