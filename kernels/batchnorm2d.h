// BatchNorm2d over x [N, C, H, W], per channel c, M = N*H*W values each:
//   train: mean_c = (1/M) sum x;  var_c = (1/M) sum (x - mean_c)^2  (biased)
//          invstd_c = 1 / sqrt(var_c + eps);  xhat = (x - mean_c) * invstd_c
//          y = gamma_c * xhat + beta_c
//          running_mean = (1 - momentum) running_mean + momentum mean_c
//          running_var  = (1 - momentum) running_var  + momentum var_c * M / (M - 1)
//          (PyTorch's convention: momentum 0.1 weighs the new batch.)
//   eval:  y = gamma_c * (x - running_mean_c) / sqrt(running_var_c + eps) + beta_c
// Backward (train), with g = dy:
//   dbeta_c = sum g;  dgamma_c = sum g * xhat
//   dx = gamma_c * invstd_c / M * (M g - dbeta_c - xhat dgamma_c)
// Backward (eval): dx = g * gamma_c / sqrt(running_var_c + eps), and the same dgamma, dbeta
// with xhat taken from the running statistics.
// Overwrites its outputs.
#pragma once

namespace nebula {

struct BatchNormParams {
  int batch = 0, channels = 0, spatial = 0;  // spatial = H * W
  float eps = 1e-5f, momentum = 0.1f;
};

namespace ref {
template <typename T>
void batchnorm2d_forward_train(const BatchNormParams& p, const T* x, const T* gamma, const T* beta, T* y, T* save_mean,
                               T* save_invstd, T* running_mean, T* running_var);
template <typename T>
void batchnorm2d_forward_eval(const BatchNormParams& p, const T* x, const T* gamma, const T* beta,
                              const T* running_mean, const T* running_var, T* y);
// save_mean/save_invstd: from forward_train, or (running_mean, 1/sqrt(running_var + eps)) for eval.
template <typename T>
void batchnorm2d_backward(const BatchNormParams& p, bool training, const T* x, const T* dy, const T* gamma,
                          const T* save_mean, const T* save_invstd, T* dx, T* dgamma, T* dbeta);
}  // namespace ref

// GPU paths: device pointers, work queued on gpu::stream().
namespace cuda {
void batchnorm2d_forward_train(const BatchNormParams& p, const float* x, const float* gamma, const float* beta,
                               float* y, float* save_mean, float* save_invstd, float* running_mean, float* running_var);
void batchnorm2d_forward_eval(const BatchNormParams& p, const float* x, const float* gamma, const float* beta,
                              const float* running_mean, const float* running_var, float* y);
void batchnorm2d_backward(const BatchNormParams& p, bool training, const float* x, const float* dy, const float* gamma,
                          const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta);
}  // namespace cuda

// cudnnBatchNormalization* (spatial mode). cuDNN has no eval-mode backward;
// dispatch sends that case to the native kernel.
namespace cudnn {
void batchnorm2d_forward_train(const BatchNormParams& p, const float* x, const float* gamma, const float* beta,
                               float* y, float* save_mean, float* save_invstd, float* running_mean, float* running_var);
void batchnorm2d_forward_eval(const BatchNormParams& p, const float* x, const float* gamma, const float* beta,
                              const float* running_mean, const float* running_var, float* y);
void batchnorm2d_backward_train(const BatchNormParams& p, const float* x, const float* dy, const float* gamma,
                                const float* save_mean, const float* save_invstd, float* dx, float* dgamma,
                                float* dbeta);
}  // namespace cudnn

}  // namespace nebula
