// BatchNorm2d on the CPU. Channel statistics are summed in double even for float
// input: a channel of a training batch holds ~10^5-10^6 values, and the variance
// is taken as the mean of squared deviations (two passes), not E[x^2] - E[x]^2,
// which cancels badly when the mean is large.
#include "kernels/batchnorm2d.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/cpu/parallel.h"

namespace nebula {
namespace ref {

namespace {
// Runs f(c) for every channel, channels split over threads; each channel's sums
// stay on one thread, in a fixed order.
template <typename F>
void for_channels(const BatchNormParams& p, const F& f) {
  const int64_t per_channel = std::max<int64_t>(int64_t(p.batch) * p.spatial, 1);
  cpu::parallel_for(p.channels, cpu::kElementwiseGrain / per_channel, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) f(int(c));
  });
}

// Calls f(values, count) for each contiguous run of channel c: one per sample.
template <typename T, typename F>
void for_channel(const BatchNormParams& p, int c, T* base, F&& f) {
  for (int n = 0; n < p.batch; ++n) f(base + (int64_t(n) * p.channels + c) * p.spatial, p.spatial);
}
}  // namespace

template <typename T>
void batchnorm2d_forward_train(const BatchNormParams& p, const T* x, const T* gamma, const T* beta, T* y, T* save_mean,
                               T* save_invstd, T* running_mean, T* running_var) {
  const double M = double(p.batch) * p.spatial;
  for_channels(p, [&](int c) {
    double sum = 0.0;
    for_channel(p, c, x, [&](const T* v, int len) {
      for (int i = 0; i < len; ++i) sum += v[i];
    });
    const double mean = sum / M;
    double sq = 0.0;
    for_channel(p, c, x, [&](const T* v, int len) {
      for (int i = 0; i < len; ++i) sq += (v[i] - mean) * (v[i] - mean);
    });
    const double var = sq / M;
    const double invstd = 1.0 / std::sqrt(var + p.eps);
    const T scale = static_cast<T>(gamma[c] * invstd), shift = static_cast<T>(beta[c] - mean * gamma[c] * invstd);
    for (int n = 0; n < p.batch; ++n) {
      const int64_t at = (int64_t(n) * p.channels + c) * p.spatial;
      for (int i = 0; i < p.spatial; ++i) y[at + i] = x[at + i] * scale + shift;
    }
    save_mean[c] = static_cast<T>(mean);
    save_invstd[c] = static_cast<T>(invstd);
    // The running variance takes the unbiased estimate (PyTorch); M == 1 has none.
    const double unbiased = M > 1 ? var * M / (M - 1) : var;
    running_mean[c] = static_cast<T>((1.0 - p.momentum) * running_mean[c] + p.momentum * mean);
    running_var[c] = static_cast<T>((1.0 - p.momentum) * running_var[c] + p.momentum * unbiased);
  });
}

template <typename T>
void batchnorm2d_forward_eval(const BatchNormParams& p, const T* x, const T* gamma, const T* beta,
                              const T* running_mean, const T* running_var, T* y) {
  for_channels(p, [&](int c) {
    const double invstd = 1.0 / std::sqrt(double(running_var[c]) + p.eps);
    const T scale = static_cast<T>(gamma[c] * invstd);
    const T shift = static_cast<T>(beta[c] - running_mean[c] * gamma[c] * invstd);
    for (int n = 0; n < p.batch; ++n) {
      const int64_t at = (int64_t(n) * p.channels + c) * p.spatial;
      for (int i = 0; i < p.spatial; ++i) y[at + i] = x[at + i] * scale + shift;
    }
  });
}

template <typename T>
void batchnorm2d_backward(const BatchNormParams& p, bool training, const T* x, const T* dy, const T* gamma,
                          const T* save_mean, const T* save_invstd, T* dx, T* dgamma, T* dbeta) {
  const double M = double(p.batch) * p.spatial;
  for_channels(p, [&](int c) {
    const double mean = save_mean[c], invstd = save_invstd[c];
    double sum_g = 0.0, sum_g_xhat = 0.0;
    for (int n = 0; n < p.batch; ++n) {
      const int64_t at = (int64_t(n) * p.channels + c) * p.spatial;
      for (int i = 0; i < p.spatial; ++i) {
        sum_g += dy[at + i];
        sum_g_xhat += dy[at + i] * (x[at + i] - mean) * invstd;
      }
    }
    dbeta[c] = static_cast<T>(sum_g);
    dgamma[c] = static_cast<T>(sum_g_xhat);
    // Train: dx = gamma invstd / M (M g - dbeta - xhat dgamma), written as a g + b x + d.
    // Eval: the statistics are constants, so dx = gamma invstd g.
    const double a = gamma[c] * invstd;
    const double b = training ? -a * invstd * sum_g_xhat / M : 0.0;
    const double d = training ? -a * sum_g / M - b * mean : 0.0;
    for (int n = 0; n < p.batch; ++n) {
      const int64_t at = (int64_t(n) * p.channels + c) * p.spatial;
      for (int i = 0; i < p.spatial; ++i) dx[at + i] = static_cast<T>(a * dy[at + i] + b * x[at + i] + d);
    }
  });
}

template void batchnorm2d_forward_train<float>(const BatchNormParams&, const float*, const float*, const float*, float*,
                                               float*, float*, float*, float*);
template void batchnorm2d_forward_train<double>(const BatchNormParams&, const double*, const double*, const double*,
                                                double*, double*, double*, double*, double*);
template void batchnorm2d_forward_eval<float>(const BatchNormParams&, const float*, const float*, const float*,
                                              const float*, const float*, float*);
template void batchnorm2d_forward_eval<double>(const BatchNormParams&, const double*, const double*, const double*,
                                               const double*, const double*, double*);
template void batchnorm2d_backward<float>(const BatchNormParams&, bool, const float*, const float*, const float*,
                                          const float*, const float*, float*, float*, float*);
template void batchnorm2d_backward<double>(const BatchNormParams&, bool, const double*, const double*, const double*,
                                           const double*, const double*, double*, double*, double*);

}  // namespace ref
}  // namespace nebula
