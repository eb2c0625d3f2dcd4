// Elementwise activations over n values.
//   relu:    y = max(x, 0);          dx = dy * [y > 0]
//   sigmoid: y = 1 / (1 + exp(-x));  dx = dy * y * (1 - y)
// Backward takes the forward output y, so the input need not be kept.
// Overwrites its output; in-place (y == x, dx == dy) is allowed.
#pragma once
#include <cstdint>

namespace nebula {
namespace ref {
template <typename T>
void relu_forward(int64_t n, const T* x, T* y);
template <typename T>
void relu_backward(int64_t n, const T* y, const T* dy, T* dx);
template <typename T>
void sigmoid_forward(int64_t n, const T* x, T* y);
template <typename T>
void sigmoid_backward(int64_t n, const T* y, const T* dy, T* dx);
}  // namespace ref

// GPU paths: device pointers, work queued on gpu::stream().
namespace cuda {
void relu_forward(int64_t n, const float* x, float* y);
void relu_backward(int64_t n, const float* y, const float* dy, float* dx);
void sigmoid_forward(int64_t n, const float* x, float* y);
void sigmoid_backward(int64_t n, const float* y, const float* dy, float* dx);
}  // namespace cuda

namespace cudnn {  // cudnnActivationForward / Backward
void relu_forward(int64_t n, const float* x, float* y);
void relu_backward(int64_t n, const float* y, const float* dy, float* dx);
void sigmoid_forward(int64_t n, const float* x, float* y);
void sigmoid_backward(int64_t n, const float* y, const float* dy, float* dx);
}  // namespace cudnn
}  // namespace nebula
