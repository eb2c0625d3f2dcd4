// BatchNorm2d through cudnnBatchNormalization* in spatial mode (one mean and
// variance per channel over N, H, W), the library peer of the hand-written
// kernels (math in kernels/batchnorm2d.h). x is described as [N, C, H*W, 1].
//
// cuDNN's conventions are the reference's: the exponential average factor is
// our momentum (running = (1 - momentum) running + momentum batch), the running
// variance takes the unbiased batch variance, and the saved "inverse variance"
// is 1 / sqrt(biased variance + eps), our save_invstd, which the backward pass
// takes back along with save_mean.
#include "kernels/batchnorm2d.h"

#include <string>

#include "kernels/cudnn/handles.h"

namespace nebula {
namespace cudnn {

namespace {

std::string shape(const BatchNormParams& p) {
  return detail::concat("x [", p.batch, ", ", p.channels, ", ", p.spatial, " pixels], eps ", p.eps, ", momentum ",
                        p.momentum);
}

struct NormDescriptors {
  TensorDescriptor x, stats;  // stats: gamma, beta, means and variances, [1, C, 1, 1]
};

NormDescriptors describe(const BatchNormParams& p) {
  NEBULA_CHECK(p.batch > 0 && p.channels > 0 && p.spatial > 0, "batchnorm2d (cuDNN): invalid shape ", shape(p));
  NEBULA_CHECK(p.eps >= CUDNN_BN_MIN_EPSILON, "batchnorm2d (cuDNN): eps ", p.eps, " is below cuDNN's minimum ",
               CUDNN_BN_MIN_EPSILON, ", ", shape(p));
  NormDescriptors d;
  d.x = tensor_4d(p.batch, p.channels, p.spatial, 1);
  NEBULA_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(d.stats, d.x, CUDNN_BATCHNORM_SPATIAL), "batchnorm2d, ", shape(p));
  return d;
}

}  // namespace

void batchnorm2d_forward_train(const BatchNormParams& p, const float* x, const float* gamma, const float* beta,
                               float* y, float* save_mean, float* save_invstd, float* running_mean,
                               float* running_var) {
  // The unbiased variance divides by M - 1; the reference falls back to the biased
  // one for a single value, cuDNN does not say what it does.
  NEBULA_CHECK(int64_t(p.batch) * p.spatial > 1,
               "batchnorm2d (cuDNN): training needs more than one value per channel, ", shape(p));
  const NormDescriptors d = describe(p);
  const float zero = 0.0f, one = 1.0f;
  NEBULA_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(gpu::cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, &one, &zero,
                                                            d.x, x, d.x, y, d.stats, gamma, beta, p.momentum,
                                                            running_mean, running_var, p.eps, save_mean, save_invstd),
                     "batchnorm2d forward (train), ", shape(p));
}

void batchnorm2d_forward_eval(const BatchNormParams& p, const float* x, const float* gamma, const float* beta,
                              const float* running_mean, const float* running_var, float* y) {
  const NormDescriptors d = describe(p);
  const float zero = 0.0f, one = 1.0f;
  NEBULA_CUDNN_CHECK(
      cudnnBatchNormalizationForwardInference(gpu::cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, d.x, x, d.x, y,
                                              d.stats, gamma, beta, running_mean, running_var, p.eps),
      "batchnorm2d forward (eval), ", shape(p));
}

void batchnorm2d_backward_train(const BatchNormParams& p, const float* x, const float* dy, const float* gamma,
                                const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                                float* dbeta) {
  const NormDescriptors d = describe(p);
  const float zero = 0.0f, one = 1.0f;
  NEBULA_CUDNN_CHECK(
      cudnnBatchNormalizationBackward(gpu::cudnn_handle(), CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero, d.x, x,
                                      d.x, dy, d.x, dx, d.stats, gamma, dgamma, dbeta, p.eps, save_mean, save_invstd),
      "batchnorm2d backward (train), ", shape(p));
}

}  // namespace cudnn
}  // namespace nebula
