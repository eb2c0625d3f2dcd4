// Dense through cuBLAS, the library peer of the hand-written GEMM (math in
// kernels/dense.h).
//
// cuBLAS is column-major: to it, a row-major [r, c] buffer is the [c, r] matrix
// that is its transpose. So the buffers of x, w, y, dy hold x^T [I, N], w^T
// [I, O], y^T [O, N] and dy^T [O, N], and each pass is computed transposed:
//   y^T  = (w^T)^T x^T   gemm(T, N), m = O, n = N, k = I
//   dx^T = w^T dy^T      gemm(N, N), m = I, n = N, k = O
//   dw^T = x^T (dy^T)^T  gemm(N, T), m = I, n = O, k = N
//
// Bias: a GEMM cannot broadcast a vector, and a .cpp launches no kernel of its
// own, so cuDNN does both bias steps, with y and dy seen as [N, O, 1, 1] tensors
// and the bias as [1, O, 1, 1]: cudnnAddTensor adds it to y after the GEMM, and
// cudnnConvolutionBackwardBias sums dy over the batch, which is db exactly and
// is deterministic. That avoids a device vector of ones (for a rank-1 GEMM or a
// GEMV), which would need a host-to-device copy and a sync at first use.
#include "kernels/dense.h"

#include <string>

#include "kernels/cudnn/handles.h"

namespace nebula {
namespace cudnn {

namespace {

std::string shape(const DenseParams& p) {
  return detail::concat("x [", p.batch, ", ", p.in_features, "], w [", p.out_features, ", ", p.in_features, "]");
}

void check(const DenseParams& p) {
  NEBULA_CHECK(p.batch > 0 && p.in_features > 0 && p.out_features > 0, "dense (cuBLAS): invalid shape ", shape(p));
}

}  // namespace

void dense_forward(const DenseParams& p, const float* x, const float* w, const float* bias, float* y) {
  check(p);
  const int N = p.batch, I = p.in_features, O = p.out_features;
  const float zero = 0.0f, one = 1.0f;
  NEBULA_CUBLAS_CHECK(
      cublasSgemm(gpu::cublas_handle(), CUBLAS_OP_T, CUBLAS_OP_N, O, N, I, &one, w, I, x, I, &zero, y, O),
      "dense forward, ", shape(p));
  if (!bias) return;
  const TensorDescriptor rows = tensor_4d(N, O, 1, 1), bias_desc = tensor_4d(1, O, 1, 1);
  NEBULA_CUDNN_CHECK(cudnnAddTensor(gpu::cudnn_handle(), &one, bias_desc, bias, &one, rows, y), "dense forward bias, ",
                     shape(p));
}

void dense_backward_data(const DenseParams& p, const float* dy, const float* w, float* dx) {
  check(p);
  const int N = p.batch, I = p.in_features, O = p.out_features;
  const float zero = 0.0f, one = 1.0f;
  NEBULA_CUBLAS_CHECK(
      cublasSgemm(gpu::cublas_handle(), CUBLAS_OP_N, CUBLAS_OP_N, I, N, O, &one, w, I, dy, O, &zero, dx, I),
      "dense backward data, ", shape(p));
}

void dense_backward_weight(const DenseParams& p, const float* x, const float* dy, float* dw, float* dbias) {
  check(p);
  const int N = p.batch, I = p.in_features, O = p.out_features;
  const float zero = 0.0f, one = 1.0f;
  NEBULA_CUBLAS_CHECK(
      cublasSgemm(gpu::cublas_handle(), CUBLAS_OP_N, CUBLAS_OP_T, I, O, N, &one, x, I, dy, O, &zero, dw, I),
      "dense backward weight, ", shape(p));
  if (!dbias) return;
  const TensorDescriptor rows = tensor_4d(N, O, 1, 1), bias_desc = tensor_4d(1, O, 1, 1);
  NEBULA_CUDNN_CHECK(cudnnConvolutionBackwardBias(gpu::cudnn_handle(), &one, rows, dy, &zero, bias_desc, dbias),
                     "dense backward bias, ", shape(p));
}

}  // namespace cudnn
}  // namespace nebula
