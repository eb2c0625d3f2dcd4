// Mean squared error over n predictions p and targets t:
//   loss = (1/n) sum (p_i - t_i)^2;   dp_i = dloss * 2 (p_i - t_i) / n
// sum_squared_error returns sum (p_i - t_i)^2 in double, which the RMSE metric
// accumulates over batches: RMSE = sqrt(total / count).
#pragma once
#include <cstdint>

namespace nebula {
namespace ref {
template <typename T>
T mse_forward(int64_t n, const T* p, const T* t);
template <typename T>
void mse_backward(int64_t n, const T* p, const T* t, T dloss, T* dp);
template <typename T>
double sum_squared_error(int64_t n, const T* p, const T* t);
}  // namespace ref
}  // namespace nebula
