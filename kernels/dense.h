// Dense (fully connected): x [N, in], w [out, in] (PyTorch's Linear layout), b [out]:
//   y = x w^T + b
// Backward: dx = dy w;  dw = dy^T x;  db = sum_n dy[n, :].
// Every function here overwrites its output; bias and dbias may be null.
#pragma once

namespace nebula {

struct DenseParams {
  int batch = 0, in_features = 0, out_features = 0;
};

namespace ref {
template <typename T>
void dense_forward(const DenseParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void dense_backward_data(const DenseParams& p, const T* dy, const T* w, T* dx);
template <typename T>
void dense_backward_weight(const DenseParams& p, const T* x, const T* dy, T* dw, T* dbias);
}  // namespace ref

namespace cpu {  // fast path: BLAS sgemm
void dense_forward(const DenseParams& p, const float* x, const float* w, const float* bias, float* y);
void dense_backward_data(const DenseParams& p, const float* dy, const float* w, float* dx);
void dense_backward_weight(const DenseParams& p, const float* x, const float* dy, float* dw, float* dbias);
}  // namespace cpu

// GPU paths: device pointers, work queued on gpu::stream().
namespace cuda {  // hand-written shared-memory tiled GEMM
void dense_forward(const DenseParams& p, const float* x, const float* w, const float* bias, float* y);
void dense_backward_data(const DenseParams& p, const float* dy, const float* w, float* dx);
void dense_backward_weight(const DenseParams& p, const float* x, const float* dy, float* dw, float* dbias);
}  // namespace cuda

namespace cudnn {  // cuBLAS sgemm (the library path sits beside cuDNN's)
void dense_forward(const DenseParams& p, const float* x, const float* w, const float* bias, float* y);
void dense_backward_data(const DenseParams& p, const float* dy, const float* w, float* dx);
void dense_backward_weight(const DenseParams& p, const float* x, const float* dy, float* dw, float* dbias);
}  // namespace cudnn

}  // namespace nebula
