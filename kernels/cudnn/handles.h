// What the library path (cuDNN and cuBLAS) shares: one handle of each, bound
// to Nebula's stream; checked calls whose errors name the op and its shapes,
// the twins of NEBULA_CUDA_CHECK (kernels/cuda/runtime.h); descriptors that
// destroy themselves; scratch memory from the caching allocator.
#pragma once
#include <cublas_v2.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "base/error.h"
#include "kernels/cuda/allocator.h"
#include "kernels/cuda/runtime.h"

namespace nebula {
namespace gpu {

// Created on first use, bound to stream() and never destroyed, like the stream.
// Creating a handle allocates and synchronises, so the first call must come
// before any CUDA-graph capture (a warm-up step does it).
cudnnHandle_t cudnn_handle();
cublasHandle_t cublas_handle();
// Whether the library path runs in tensor-op (TF32) math (kernels/precision.h's cudnn::set_tf32_math).
bool tf32_math();

// Throw Error("<context>: <call> failed: <library's name and message> (file:line)").
[[noreturn]] void cudnn_fail(cudnnStatus_t status, const char* call, const std::string& context, const char* file,
                             int line);
[[noreturn]] void cublas_fail(cublasStatus_t status, const char* call, const std::string& context, const char* file,
                              int line);

}  // namespace gpu
}  // namespace nebula

// NEBULA_CUDNN_CHECK(call, context parts...) and NEBULA_CUBLAS_CHECK: every
// library call goes through one. The context is only built when the call fails.
#define NEBULA_CUDNN_CHECK(call, ...)                                                                              \
  do {                                                                                                             \
    const cudnnStatus_t nebula_status_ = (call);                                                                   \
    if (nebula_status_ != CUDNN_STATUS_SUCCESS)                                                                    \
      ::nebula::gpu::cudnn_fail(nebula_status_, #call, ::nebula::detail::concat(__VA_ARGS__), __FILE__, __LINE__); \
  } while (0)

#define NEBULA_CUBLAS_CHECK(call, ...)                                                                              \
  do {                                                                                                              \
    const cublasStatus_t nebula_status_ = (call);                                                                   \
    if (nebula_status_ != CUBLAS_STATUS_SUCCESS)                                                                    \
      ::nebula::gpu::cublas_fail(nebula_status_, #call, ::nebula::detail::concat(__VA_ARGS__), __FILE__, __LINE__); \
  } while (0)

namespace nebula {
namespace cudnn {

// A cuDNN descriptor that is destroyed with its owner; it converts to the raw
// handle, so it is passed to cuDNN as it is.
template <typename Raw, cudnnStatus_t (*create)(Raw*), cudnnStatus_t (*destroy)(Raw)>
class Descriptor {
 public:
  Descriptor() { NEBULA_CUDNN_CHECK(create(&raw_), "creating a cuDNN descriptor"); }
  ~Descriptor() {
    if (raw_) destroy(raw_);
  }
  Descriptor(Descriptor&& other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  Descriptor& operator=(Descriptor&& other) noexcept {
    std::swap(raw_, other.raw_);  // ours is destroyed with other
    return *this;
  }

  operator Raw() const { return raw_; }

 private:
  Raw raw_ = nullptr;
};

using TensorDescriptor = Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor = Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor, cudnnDestroyConvolutionDescriptor>;
using PoolingDescriptor =
    Descriptor<cudnnPoolingDescriptor_t, cudnnCreatePoolingDescriptor, cudnnDestroyPoolingDescriptor>;
using ActivationDescriptor =
    Descriptor<cudnnActivationDescriptor_t, cudnnCreateActivationDescriptor, cudnnDestroyActivationDescriptor>;

// A packed NCHW float tensor [n, c, h, w].
TensorDescriptor tensor_4d(int n, int c, int h, int w);
// A float tensor [n, c, h, w] with the given element strides (a window into a larger buffer).
TensorDescriptor tensor_4d_strided(int n, int c, int h, int w, int64_t n_stride, int64_t c_stride, int64_t h_stride,
                                   int64_t w_stride);
// relu or sigmoid; relu maps NaN to 0, as the CPU reference's comparison x > 0 does.
ActivationDescriptor activation_descriptor(cudnnActivationMode_t mode);

// Scratch device memory for one call, from the caching allocator. It may be
// released as soon as the work that uses it is queued: the allocator hands
// blocks out in stream order on Nebula's single stream.
class Scratch {
 public:
  explicit Scratch(size_t bytes) : bytes_(bytes), ptr_(bytes ? gpu::device_allocate(bytes) : nullptr) {}
  ~Scratch() {
    if (ptr_) gpu::device_release(ptr_, bytes_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  void* get() const { return ptr_; }
  float* floats() const { return static_cast<float*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_;
  void* ptr_;
};

}  // namespace cudnn
}  // namespace nebula
