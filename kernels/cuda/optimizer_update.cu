// Fused multi-tensor optimizer updates on the GPU. One launch updates a whole
// list of parameter tensors: the list (up to kMaxTensors, else several
// launches) travels by value as a kernel argument, with a prefix table of the
// first block of each tensor; a block finds its tensor by binary search and
// updates one chunk of kChunk values of it. This replaces a launch per tensor
// (ResNet-18 has ~60) with one.
//
// The per-value arithmetic is the reference's, operation for operation, written
// with __f*_rn intrinsics: they stop the compiler from fusing a multiply and an
// add, which the CPU reference does not do, so GPU and CPU updates agree bit for
// bit. Bias corrections are formed in double as the reference forms them: on
// the host from `step`, or, when the step lives in device memory (a captured
// graph), once per block on the device.
#include "kernels/optimizer_update.h"

#include <cmath>
#include <cstdint>

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kChunk = 4096;     // values per block: 16 per thread
constexpr int kMaxTensors = 64;  // keeps the argument (~2.9 KB) under the 4 KB kernel-parameter limit

struct TensorList {
  ParameterSlots tensors[kMaxTensors];
  int first_block[kMaxTensors + 1];  // tensor k owns blocks [first_block[k], first_block[k + 1])
  int count = 0;
};
static_assert(sizeof(TensorList) + 128 <= 4096, "a TensorList and the other arguments must fit in 4 KB");

// Calls update(tensor, i) for this thread's values of this block's chunk.
template <typename Update>
__device__ __forceinline__ void for_chunk(const TensorList& list, Update&& update) {
  const int block = blockIdx.x;
  int lo = 0, hi = list.count - 1;  // the last tensor whose first block is <= block
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (list.first_block[mid] <= block)
      lo = mid;
    else
      hi = mid - 1;
  }
  const ParameterSlots& tensor = list.tensors[lo];
  const int64_t begin = int64_t(block - list.first_block[lo]) * kChunk;
  const int64_t end = begin + kChunk < tensor.n ? begin + kChunk : tensor.n;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) update(tensor, i);
}

// The reference's std::max(a, b): b only when a < b, so a NaN in a is kept.
__device__ __forceinline__ float reference_max(float a, float b) { return a < b ? b : a; }

// 1 - b^t, in double as the reference forms it.
__host__ __device__ __forceinline__ double bias_correction(float beta, double step) {
  return 1.0 - pow(double(beta), step);
}

struct AdamaxConstants {
  float lr_t;  // lr / (1 - b1^t); formed on the device when a device value is given
  double step;
  float lr, beta1, one_minus_beta1, beta2, eps, weight_decay;
  bool eps_inside_max;
};

struct AdamConstants {
  float bias1, bias2;  // 1 - b1^t, 1 - b2^t; replaced on the device when a device step is given
  float lr, beta1, one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay;
  bool decoupled;  // AdamW: w *= 1 - lr wd first, and no L2 term in g
};

struct SgdConstants {
  float lr, momentum, weight_decay;
  bool nesterov;
};

// The learning rate a launch uses: the device's when given (see DeviceStepValues).
__device__ __forceinline__ float current_lr(const DeviceStepValues& device, float host_lr) {
  return device.lr != nullptr ? *device.lr : host_lr;
}

__global__ void adamax_update_kernel(TensorList list, AdamaxConstants k, DeviceStepValues device) {
  __shared__ float lr_t;
  if (threadIdx.x == 0) {
    if (device.step != nullptr)
      lr_t = static_cast<float>(current_lr(device, k.lr) / bias_correction(k.beta1, double(*device.step)));
    else
      lr_t = device.lr != nullptr ? static_cast<float>(*device.lr / bias_correction(k.beta1, k.step)) : k.lr_t;
  }
  __syncthreads();
  for_chunk(list, [&](const ParameterSlots& t, int64_t i) {
    float* m = t.slot0;
    float* u = t.slot1;
    const float w = t.w[i];
    const float g = __fadd_rn(t.g[i], __fmul_rn(k.weight_decay, w));
    const float mi = __fadd_rn(__fmul_rn(k.beta1, m[i]), __fmul_rn(k.one_minus_beta1, g));
    float ui, step;
    if (k.eps_inside_max) {
      ui = reference_max(__fmul_rn(k.beta2, u[i]), __fadd_rn(fabsf(g), k.eps));
      step = __fdiv_rn(__fmul_rn(lr_t, mi), ui);
    } else {
      ui = reference_max(__fmul_rn(k.beta2, u[i]), fabsf(g));
      step = __fdiv_rn(__fmul_rn(lr_t, mi), __fadd_rn(ui, k.eps));
    }
    m[i] = mi;
    u[i] = ui;
    t.w[i] = __fsub_rn(w, step);
  });
}

__global__ void adam_update_kernel(TensorList list, AdamConstants k, DeviceStepValues device) {
  __shared__ float bias1, bias2, lr, decay;
  if (threadIdx.x == 0) {
    const bool on_device = device.step != nullptr;
    bias1 = on_device ? static_cast<float>(bias_correction(k.beta1, double(*device.step))) : k.bias1;
    bias2 = on_device ? static_cast<float>(bias_correction(k.beta2, double(*device.step))) : k.bias2;
    lr = current_lr(device, k.lr);
    decay = static_cast<float>(1.0 - double(lr) * double(k.weight_decay));  // in double, as the reference
  }
  __syncthreads();
  const float l2 = k.decoupled ? 0.0f : k.weight_decay;
  for_chunk(list, [&](const ParameterSlots& t, int64_t i) {
    float* m = t.slot0;
    float* v = t.slot1;
    const float w = k.decoupled ? __fmul_rn(t.w[i], decay) : t.w[i];
    const float g = __fadd_rn(t.g[i], __fmul_rn(l2, w));
    const float mi = __fadd_rn(__fmul_rn(k.beta1, m[i]), __fmul_rn(k.one_minus_beta1, g));
    const float vi = __fadd_rn(__fmul_rn(k.beta2, v[i]), __fmul_rn(__fmul_rn(k.one_minus_beta2, g), g));
    const float denominator = __fadd_rn(__fsqrt_rn(__fdiv_rn(vi, bias2)), k.eps);
    m[i] = mi;
    v[i] = vi;
    t.w[i] = __fsub_rn(w, __fdiv_rn(__fmul_rn(lr, __fdiv_rn(mi, bias1)), denominator));
  });
}

__global__ void sgd_update_kernel(TensorList list, SgdConstants k, DeviceStepValues device) {
  __shared__ float lr;
  if (threadIdx.x == 0) lr = current_lr(device, k.lr);
  __syncthreads();
  for_chunk(list, [&](const ParameterSlots& t, int64_t i) {
    float* velocity = t.slot0;
    const float w = t.w[i];
    const float g = __fadd_rn(t.g[i], __fmul_rn(k.weight_decay, w));
    const float vi = __fadd_rn(__fmul_rn(k.momentum, velocity[i]), g);
    const float d = k.nesterov ? __fadd_rn(g, __fmul_rn(k.momentum, vi)) : vi;
    velocity[i] = vi;
    t.w[i] = __fsub_rn(w, __fmul_rn(lr, d));
  });
}

// Packs the non-empty tensors into lists of at most kMaxTensors and calls
// launch(list, blocks) for each.
template <typename Launch>
void for_each_list(const ParameterSlots* tensors, int count, Launch&& launch) {
  TensorList list;
  int blocks = 0;
  for (int k = 0; k < count; ++k) {
    NEBULA_CHECK(tensors[k].n >= 0, "optimizer update: tensor ", k, " has ", tensors[k].n, " values");
    if (tensors[k].n == 0) continue;
    list.tensors[list.count] = tensors[k];
    list.first_block[list.count] = blocks;
    blocks += int((tensors[k].n + kChunk - 1) / kChunk);
    if (++list.count == kMaxTensors) {
      list.first_block[list.count] = blocks;
      launch(list, blocks);
      list.count = 0;
      blocks = 0;
    }
  }
  if (list.count > 0) {
    list.first_block[list.count] = blocks;
    launch(list, blocks);
  }
}

}  // namespace

void adamax_update(const AdamaxParams& p, int64_t step, DeviceStepValues device, const ParameterSlots* tensors,
                   int count) {
  AdamaxConstants k;
  k.lr_t = static_cast<float>(p.lr / bias_correction(p.beta1, double(step)));
  k.step = double(step);
  k.lr = p.lr, k.beta1 = p.beta1, k.one_minus_beta1 = 1.0f - p.beta1, k.beta2 = p.beta2, k.eps = p.eps;
  k.weight_decay = p.weight_decay, k.eps_inside_max = p.eps_inside_max;
  for_each_list(tensors, count, [&](const TensorList& list, int blocks) {
    adamax_update_kernel<<<blocks, kThreads, 0, gpu::stream()>>>(list, k, device);
    NEBULA_CUDA_CHECK_LAUNCH("adamax update: ", list.count, " tensors, ", blocks, " blocks");
  });
}

void adam_update(const AdamParams& p, int64_t step, DeviceStepValues device, const ParameterSlots* tensors, int count) {
  AdamConstants k;
  k.bias1 = static_cast<float>(bias_correction(p.beta1, double(step)));
  k.bias2 = static_cast<float>(bias_correction(p.beta2, double(step)));
  k.lr = p.lr, k.beta1 = p.beta1, k.one_minus_beta1 = 1.0f - p.beta1, k.beta2 = p.beta2;
  k.one_minus_beta2 = 1.0f - p.beta2, k.eps = p.eps, k.weight_decay = p.weight_decay;
  k.decoupled = p.decoupled_weight_decay;
  for_each_list(tensors, count, [&](const TensorList& list, int blocks) {
    adam_update_kernel<<<blocks, kThreads, 0, gpu::stream()>>>(list, k, device);
    NEBULA_CUDA_CHECK_LAUNCH("adam update: ", list.count, " tensors, ", blocks, " blocks");
  });
}

void sgd_update(const SgdParams& p, DeviceStepValues device, const ParameterSlots* tensors, int count) {
  const SgdConstants k{p.lr, p.momentum, p.weight_decay, p.nesterov};
  for_each_list(tensors, count, [&](const TensorList& list, int blocks) {
    sgd_update_kernel<<<blocks, kThreads, 0, gpu::stream()>>>(list, k, device);
    NEBULA_CUDA_CHECK_LAUNCH("sgd update: ", list.count, " tensors, ", blocks, " blocks");
  });
}

}  // namespace cuda
}  // namespace nebula
