// Optimizer updates over n parameters w with gradients g, step t >= 1 (1-based).
//   Adamax, Keras rule: m = b1 m + (1-b1) g;  u = max(b2 u, |g|);
//                       w -= lr m / ((1 - b1^t) (u + eps))
//   Adamax, PyTorch:    m = b1 m + (1-b1) g;  u = max(b2 u, |g| + eps);
//                       w -= lr m / ((1 - b1^t) u)
//   Adam (PyTorch):     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
//                       w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//   AdamW (PyTorch):    w *= 1 - lr wd (decoupled decay, from the w before this step),
//                       then Adam's update with g as it is
//   SGD with momentum:  v = mu v + g;  w -= lr v  (PyTorch's form; mu = 0 is plain SGD)
//   SGD, Nesterov:      v = mu v + g;  w -= lr (g + mu v)  (torch.optim.SGD(nesterov=True))
// Weight decay, when set, adds wd * w to g first (L2, as torch.optim does),
// except in AdamW, where it is the decoupled decay above instead.
#pragma once
#include <cstdint>

namespace nebula {

struct AdamaxParams {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-7f, weight_decay = 0.0f;
  bool eps_inside_max = false;  // false: Keras's rule; true: PyTorch's
};

struct AdamParams {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
  bool decoupled_weight_decay = false;  // true: AdamW
};

struct SgdParams {
  float lr = 1e-2f, momentum = 0.0f, weight_decay = 0.0f;
  bool nesterov = false;  // needs momentum > 0, as torch.optim.SGD insists
};

namespace ref {
void adamax_update(const AdamaxParams& p, int64_t step, int64_t n, float* w, const float* g, float* m, float* u);
void adam_update(const AdamParams& p, int64_t step, int64_t n, float* w, const float* g, float* m, float* v);
void sgd_update(const SgdParams& p, int64_t n, float* w, const float* g, float* velocity);
}  // namespace ref

// One parameter tensor and its optimizer state, for the fused GPU update.
// Adamax: slot0 = m, slot1 = u; Adam: slot0 = m, slot1 = v; SGD: slot0 = velocity.
struct ParameterSlots {
  float* w = nullptr;
  const float* g = nullptr;
  float* slot0 = nullptr;
  float* slot1 = nullptr;
  int64_t n = 0;
};

// GPU path: one launch updates every tensor in the list (device pointers; the
// list is host memory passed by value, chunked if it is long).
//
// Values that change from step to step are read from device memory where
// given, so that a captured CUDA graph replays them as they are now, never as
// they were at capture: `step` (t as a float) replaces the host step, `lr` the
// learning rate in the parameters. Either may be null: the host value is used.
struct DeviceStepValues {
  const float* step = nullptr;
  const float* lr = nullptr;
};

namespace cuda {
void adamax_update(const AdamaxParams& p, int64_t step, DeviceStepValues device, const ParameterSlots* tensors,
                   int count);
void adam_update(const AdamParams& p, int64_t step, DeviceStepValues device, const ParameterSlots* tensors, int count);
void sgd_update(const SgdParams& p, DeviceStepValues device, const ParameterSlots* tensors, int count);
}  // namespace cuda

}  // namespace nebula
