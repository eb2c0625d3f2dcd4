// Dense on the CPU: reference loops (any T) and the fast float path, which is one
// BLAS sgemm per pass (BLAS threads it; BLAS splits the output, not the reduction,
// so the result does not depend on its thread count).
#include "kernels/dense.h"

#include <cblas.h>

#include <algorithm>
#include <cstdint>

namespace nebula {

namespace ref {

template <typename T>
void dense_forward(const DenseParams& p, const T* x, const T* w, const T* bias, T* y) {
  for (int n = 0; n < p.batch; ++n)
    for (int o = 0; o < p.out_features; ++o) {
      const T* xn = x + int64_t(n) * p.in_features;
      const T* wo = w + int64_t(o) * p.in_features;
      T acc = bias ? bias[o] : T(0);
      for (int i = 0; i < p.in_features; ++i) acc += xn[i] * wo[i];
      y[int64_t(n) * p.out_features + o] = acc;
    }
}

template <typename T>
void dense_backward_data(const DenseParams& p, const T* dy, const T* w, T* dx) {
  std::fill(dx, dx + int64_t(p.batch) * p.in_features, T(0));
  for (int n = 0; n < p.batch; ++n)
    for (int o = 0; o < p.out_features; ++o) {
      T g = dy[int64_t(n) * p.out_features + o];
      const T* wo = w + int64_t(o) * p.in_features;
      T* dxn = dx + int64_t(n) * p.in_features;
      for (int i = 0; i < p.in_features; ++i) dxn[i] += g * wo[i];
    }
}

template <typename T>
void dense_backward_weight(const DenseParams& p, const T* x, const T* dy, T* dw, T* dbias) {
  std::fill(dw, dw + int64_t(p.out_features) * p.in_features, T(0));
  if (dbias) std::fill(dbias, dbias + p.out_features, T(0));
  for (int n = 0; n < p.batch; ++n)
    for (int o = 0; o < p.out_features; ++o) {
      T g = dy[int64_t(n) * p.out_features + o];
      const T* xn = x + int64_t(n) * p.in_features;
      T* dwo = dw + int64_t(o) * p.in_features;
      for (int i = 0; i < p.in_features; ++i) dwo[i] += g * xn[i];
      if (dbias) dbias[o] += g;
    }
}

template void dense_forward<float>(const DenseParams&, const float*, const float*, const float*, float*);
template void dense_forward<double>(const DenseParams&, const double*, const double*, const double*, double*);
template void dense_backward_data<float>(const DenseParams&, const float*, const float*, float*);
template void dense_backward_data<double>(const DenseParams&, const double*, const double*, double*);
template void dense_backward_weight<float>(const DenseParams&, const float*, const float*, float*, float*);
template void dense_backward_weight<double>(const DenseParams&, const double*, const double*, double*, double*);

}  // namespace ref

namespace cpu {

void dense_forward(const DenseParams& p, const float* x, const float* w, const float* bias, float* y) {
  const int N = p.batch, I = p.in_features, O = p.out_features;
  // y[N, O] = x[N, I] * w[O, I]^T, on top of the bias broadcast over rows.
  float beta = 0.0f;
  if (bias) {
    for (int n = 0; n < N; ++n) std::copy(bias, bias + O, y + int64_t(n) * O);
    beta = 1.0f;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, O, I, 1.0f, x, I, w, I, beta, y, O);
}

void dense_backward_data(const DenseParams& p, const float* dy, const float* w, float* dx) {
  const int N = p.batch, I = p.in_features, O = p.out_features;
  // dx[N, I] = dy[N, O] * w[O, I]
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, I, O, 1.0f, dy, O, w, I, 0.0f, dx, I);
}

void dense_backward_weight(const DenseParams& p, const float* x, const float* dy, float* dw, float* dbias) {
  const int N = p.batch, I = p.in_features, O = p.out_features;
  // dw[O, I] = dy[N, O]^T * x[N, I]
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, I, N, 1.0f, dy, O, x, I, 0.0f, dw, I);
  if (dbias) {
    std::fill(dbias, dbias + O, 0.0f);
    for (int n = 0; n < N; ++n)
      for (int o = 0; o < O; ++o) dbias[o] += dy[int64_t(n) * O + o];
  }
}

}  // namespace cpu

}  // namespace nebula
