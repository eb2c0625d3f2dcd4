// Inverted dropout on the CPU. The mask comes from Philox, keyed by (seed,
// offset + i), so backward recomputes it and every backend draws the same one.
// The scale 1/(1 - rate) is formed once in T and multiplied, so a GPU kernel that
// does the same agrees bit for bit.
#include "kernels/dropout.h"

#include "base/error.h"
#include "base/philox.h"
#include "kernels/cpu/parallel.h"

namespace nebula {
namespace ref {

namespace {
template <typename T>
void apply_mask(int64_t n, float rate, uint64_t seed, uint64_t offset, const T* in, T* out) {
  NEBULA_CHECK(rate >= 0.0f && rate < 1.0f, "dropout: rate ", rate, " must be in [0, 1)");
  const T scale = T(1) / (T(1) - T(rate));
  cpu::parallel_for(n, cpu::kElementwiseGrain / 8, [=](int64_t begin, int64_t end) {  // Philox is ~40 ops an element
    for (int64_t i = begin; i < end; ++i) out[i] = philox_uniform(seed, offset + i) >= rate ? in[i] * scale : T(0);
  });
}
}  // namespace

template <typename T>
void dropout_forward(int64_t n, float rate, uint64_t seed, uint64_t offset, const T* x, T* y) {
  apply_mask(n, rate, seed, offset, x, y);
}

template <typename T>
void dropout_backward(int64_t n, float rate, uint64_t seed, uint64_t offset, const T* dy, T* dx) {
  apply_mask(n, rate, seed, offset, dy, dx);
}

template void dropout_forward<float>(int64_t, float, uint64_t, uint64_t, const float*, float*);
template void dropout_forward<double>(int64_t, float, uint64_t, uint64_t, const double*, double*);
template void dropout_backward<float>(int64_t, float, uint64_t, uint64_t, const float*, float*);
template void dropout_backward<double>(int64_t, float, uint64_t, uint64_t, const double*, double*);

}  // namespace ref
}  // namespace nebula
