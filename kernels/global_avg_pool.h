// Global average pooling: x [N, C, H, W] -> y [N, C].
//   y[n,c] = (1/(H W)) sum_{h,w} x[n,c,h,w];   dx[n,c,h,w] = dy[n,c] / (H W)
// Overwrites its output.
#pragma once

namespace nebula {
namespace ref {
template <typename T>
void global_avg_pool_forward(int planes, int spatial, const T* x, T* y);  // planes = N*C
template <typename T>
void global_avg_pool_backward(int planes, int spatial, const T* dy, T* dx);
}  // namespace ref

namespace cuda {  // device pointers, work queued on gpu::stream()
void global_avg_pool_forward(int planes, int spatial, const float* x, float* y);
void global_avg_pool_backward(int planes, int spatial, const float* dy, float* dx);
}  // namespace cuda
}  // namespace nebula
