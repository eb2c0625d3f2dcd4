// Optimizer updates on the CPU, float only. Bias corrections b^t are computed in
// double once per call; the per-parameter arithmetic stays in float as the GPU's
// would. Parameters are split over threads in fixed ranges.
#include "kernels/optimizer_update.h"

#include <algorithm>
#include <cmath>

#include "kernels/cpu/parallel.h"

namespace nebula {
namespace ref {

void adamax_update(const AdamaxParams& p, int64_t step, int64_t n, float* w, const float* g, float* m, float* u) {
  const float lr_t = static_cast<float>(p.lr / (1.0 - std::pow(double(p.beta1), double(step))));
  cpu::parallel_for(n, cpu::kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float gi = g[i] + p.weight_decay * w[i];
      m[i] = p.beta1 * m[i] + (1.0f - p.beta1) * gi;
      if (p.eps_inside_max) {
        u[i] = std::max(p.beta2 * u[i], std::abs(gi) + p.eps);
        w[i] -= lr_t * m[i] / u[i];
      } else {
        u[i] = std::max(p.beta2 * u[i], std::abs(gi));
        w[i] -= lr_t * m[i] / (u[i] + p.eps);
      }
    }
  });
}

void adam_update(const AdamParams& p, int64_t step, int64_t n, float* w, const float* g, float* m, float* v) {
  const float bc1 = static_cast<float>(1.0 - std::pow(double(p.beta1), double(step)));
  const float bc2 = static_cast<float>(1.0 - std::pow(double(p.beta2), double(step)));
  // AdamW: torch's param.mul_(1 - lr * wd), the factor formed in double.
  const float decay = static_cast<float>(1.0 - double(p.lr) * double(p.weight_decay));
  const float l2 = p.decoupled_weight_decay ? 0.0f : p.weight_decay;
  cpu::parallel_for(n, cpu::kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (p.decoupled_weight_decay) w[i] *= decay;
      const float gi = g[i] + l2 * w[i];
      m[i] = p.beta1 * m[i] + (1.0f - p.beta1) * gi;
      v[i] = p.beta2 * v[i] + (1.0f - p.beta2) * gi * gi;
      w[i] -= p.lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + p.eps);
    }
  });
}

void sgd_update(const SgdParams& p, int64_t n, float* w, const float* g, float* velocity) {
  cpu::parallel_for(n, cpu::kElementwiseGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float gi = g[i] + p.weight_decay * w[i];
      velocity[i] = p.momentum * velocity[i] + gi;
      w[i] -= p.lr * (p.nesterov ? gi + p.momentum * velocity[i] : velocity[i]);
    }
  });
}

}  // namespace ref
}  // namespace nebula
