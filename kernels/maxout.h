// Maxout (Goodfellow et al. 2013; Dieleman's dense layers): each output is the
// largest of K consecutive inputs, x [N, F K] -> y [N, F]:
//   y[n, f] = max_k x[n, f K + k];   dx[n, f K + k] = dy[n, f] if k is the first
//   k reaching the maximum, else 0
// (PyTorch's x.view(N, F, K).amax(-1) forward; the gradient goes to one piece,
// the first, as torch.max(dim) picks it). Overwrites its output.
#pragma once
#include <cstdint>

#include "base/host_device.h"

namespace nebula {

// The piece (0..pieces-1) holding the maximum of one group: the first on a tie.
template <typename T>
NEBULA_HD int maxout_winner(const T* group, int pieces) {
  int best = 0;
  for (int k = 1; k < pieces; ++k)
    if (group[k] > group[best]) best = k;
  return best;
}

namespace ref {
// groups = N F outputs, each of `pieces` inputs.
template <typename T>
void maxout_forward(int64_t groups, int pieces, const T* x, T* y);
// Needs the forward's input x to find each group's winner.
template <typename T>
void maxout_backward(int64_t groups, int pieces, const T* x, const T* dy, T* dx);
}  // namespace ref

namespace cuda {  // device pointers, work queued on gpu::stream()
void maxout_forward(int64_t groups, int pieces, const float* x, float* y);
void maxout_backward(int64_t groups, int pieces, const float* x, const float* dy, float* dx);
}  // namespace cuda
}  // namespace nebula
