// The views' features joined per image: x [V N, F] (view-major, as
// kernels/views.h stacks them) -> y [N, V F] (concatenation, Dieleman's) or
// y [N, F] (the mean):
//   concat: y[n, v F + f] = x[v N + n, f];        dx[v N + n, f] = dy[n, v F + f]
//   mean:   y[n, f] = (1/V) sum_v x[v N + n, f];  dx[v N + n, f] = dy[n, f] / V
// The mean adds the views in order (v = 0 first). Overwrites its output.
#pragma once
#include <cstdint>

namespace nebula {

enum class ViewMerge { Concat, Mean };

struct ViewMergeParams {
  ViewMerge merge = ViewMerge::Concat;
  int64_t views = 1, batch = 0, features = 0;  // V, N (images, not views), F
};

namespace ref {
template <typename T>
void view_merge_forward(const ViewMergeParams& p, const T* x, T* y);
template <typename T>
void view_merge_backward(const ViewMergeParams& p, const T* dy, T* dx);
}  // namespace ref

namespace cuda {  // device pointers, work queued on gpu::stream()
void view_merge_forward(const ViewMergeParams& p, const float* x, float* y);
void view_merge_backward(const ViewMergeParams& p, const float* dy, float* dx);
}  // namespace cuda
}  // namespace nebula
