// Mean squared error on the CPU. Sums run in double so a large batch of float
// predictions loses no precision.
#include "kernels/mse.h"

namespace nebula {
namespace ref {

template <typename T>
double sum_squared_error(int64_t n, const T* p, const T* t) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double d = double(p[i]) - double(t[i]);
    sum += d * d;
  }
  return sum;
}

template <typename T>
T mse_forward(int64_t n, const T* p, const T* t) {
  return static_cast<T>(sum_squared_error(n, p, t) / double(n));
}

template <typename T>
void mse_backward(int64_t n, const T* p, const T* t, T dloss, T* dp) {
  const T scale = T(2) * dloss / T(n);
  for (int64_t i = 0; i < n; ++i) dp[i] = scale * (p[i] - t[i]);
}

void add_column_squared_error(int64_t rows, int64_t columns, const float* p, const float* t, double* sums) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t c = 0; c < columns; ++c) {
      double d = double(p[i * columns + c]) - t[i * columns + c];
      sums[c] += d * d;
    }
}

template float mse_forward<float>(int64_t, const float*, const float*);
template double mse_forward<double>(int64_t, const double*, const double*);
template void mse_backward<float>(int64_t, const float*, const float*, float, float*);
template void mse_backward<double>(int64_t, const double*, const double*, double, double*);
template double sum_squared_error<float>(int64_t, const float*, const float*);
template double sum_squared_error<double>(int64_t, const double*, const double*);

}  // namespace ref
}  // namespace nebula
