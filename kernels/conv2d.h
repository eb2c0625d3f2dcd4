// Conv2d: cross-correlation of x [N, C, H, W] with w [K, C, R, S] (PyTorch's OIHW
// layout), plus an optional bias [K]:
//   y[n,k,i,j] = b[k] + sum_{c,r,s} x[n, c, i*stride - pad_top + r, j*stride - pad_left + s] * w[k,c,r,s]
// with x read as 0 outside the image. Backward, for upstream dy:
//   dx[n,c,h,w] = sum_{k,r,s : h = i*stride - pad_top + r, w = j*stride - pad_left + s} dy[n,k,i,j] * w[k,c,r,s]
//   dw[k,c,r,s] = sum_{n,i,j} dy[n,k,i,j] * x[n, c, i*stride - pad_top + r, j*stride - pad_left + s]
//   db[k]       = sum_{n,i,j} dy[n,k,i,j]
// Every function here overwrites its output.
#pragma once

namespace nebula {

enum class Padding { Valid, Same };

struct Conv2dParams {
  int batch = 0, in_channels = 0, in_h = 0, in_w = 0;
  int out_channels = 0, kernel_h = 0, kernel_w = 0;
  int stride = 1;
  int pad_top = 0, pad_left = 0;  // bottom and right padding are what out_h, out_w imply
  int out_h = 0, out_w = 0;
};

// Keras semantics: 'valid' has no padding; 'same' gives ceil(in / stride) outputs,
// with the odd pixel of padding at the bottom and right, as TensorFlow does.
Conv2dParams conv2d_params(int batch, int in_channels, int in_h, int in_w, int out_channels, int kernel, int stride,
                           Padding padding);
// PyTorch semantics: the same explicit padding on every side.
Conv2dParams conv2d_params_padded(int batch, int in_channels, int in_h, int in_w, int out_channels, int kernel,
                                  int stride, int pad);

namespace ref {
template <typename T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* bias, T* y);
template <typename T>
void conv2d_backward_data(const Conv2dParams& p, const T* dy, const T* w, T* dx);
template <typename T>
void conv2d_backward_filter(const Conv2dParams& p, const T* x, const T* dy, T* dw, T* dbias);
}  // namespace ref

namespace cpu {  // fast path: im2col + BLAS sgemm, threads across the batch
void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y);
void conv2d_backward_data(const Conv2dParams& p, const float* dy, const float* w, float* dx);
void conv2d_backward_filter(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* dbias);
}  // namespace cpu

// GPU paths: device pointers, work queued on gpu::stream() (kernels/cuda/runtime.h).
namespace cuda {  // hand-written: shared-memory tiled implicit GEMM
// The epilogue adds the bias (may be null) and, when relu is set, applies max(., 0).
void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y,
                    bool relu = false);
void conv2d_backward_data(const Conv2dParams& p, const float* dy, const float* w, float* dx);
void conv2d_backward_filter(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* dbias);
}  // namespace cuda

namespace cudnn {  // cudnnConvolution*, algorithms chosen once per shape
void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y,
                    bool relu = false);
void conv2d_backward_data(const Conv2dParams& p, const float* dy, const float* w, float* dx);
void conv2d_backward_filter(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* dbias);
}  // namespace cudnn

}  // namespace nebula
