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
// sums[c] += (p[i,c] - t[i,c])^2 for each row i of [rows, columns], in row order,
// into running double totals (the RMSE meter's accumulation over batches).
void add_column_squared_error(int64_t rows, int64_t columns, const float* p, const float* t, double* sums);
}  // namespace ref

// GPU path: the loss and its upstream gradient stay in device memory, so a
// training step needs no host synchronisation.
namespace cuda {
void mse_forward(int64_t n, const float* p, const float* t, float* loss);                     // loss: 1 value
void mse_backward(int64_t n, const float* p, const float* t, const float* dloss, float* dp);  // dloss: 1 value
// sums[c] = sum_i (p[i,c] - t[i,c])^2 over rows i of [rows, columns]: the RMSE meter's per-batch reduction.
void column_squared_error(int rows, int columns, const float* p, const float* t, float* sums);
}  // namespace cuda
}  // namespace nebula
