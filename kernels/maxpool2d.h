// MaxPool2d over x [N, C, H, W] with a square window, stride and zero-width
// padding that is never chosen (padded cells count as -infinity):
//   y[n,c,i,j] = max_{r,s < kernel} x[n, c, i*stride - pad + r, j*stride - pad + s]
// out = floor((in + 2*pad - kernel) / stride) + 1 (Keras 'valid', PyTorch's default).
// Backward routes dy to the first maximal element of each window, scanning r then s:
//   dx[n,c,h,w] = sum over windows whose argmax is (h, w) of dy[n,c,i,j]
// Overwrites its output.
#pragma once

namespace nebula {

struct Pool2dParams {
  int batch = 0, channels = 0, in_h = 0, in_w = 0;
  int kernel = 2, stride = 2, pad = 0;
  int out_h = 0, out_w = 0;
};

Pool2dParams pool2d_params(int batch, int channels, int in_h, int in_w, int kernel, int stride, int pad);

namespace ref {
template <typename T>
void maxpool2d_forward(const Pool2dParams& p, const T* x, T* y);
template <typename T>
void maxpool2d_backward(const Pool2dParams& p, const T* x, const T* dy, T* dx);
}  // namespace ref

// GPU paths: device pointers, work queued on gpu::stream().
namespace cuda {
void maxpool2d_forward(const Pool2dParams& p, const float* x, float* y);
void maxpool2d_backward(const Pool2dParams& p, const float* x, const float* dy, float* dx);
}  // namespace cuda

namespace cudnn {  // cudnnPooling*; backward recomputes y, which cuDNN needs
void maxpool2d_forward(const Pool2dParams& p, const float* x, float* y);
void maxpool2d_backward(const Pool2dParams& p, const float* x, const float* dy, float* dx);
}  // namespace cudnn

}  // namespace nebula
