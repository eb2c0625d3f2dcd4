#include "kernels/cudnn/handles.h"

#include <atomic>
#include <climits>

#include "kernels/precision.h"

namespace nebula {
namespace gpu {

namespace {
// cuBLAS's recommended workspace on Hopper. Given once, it is all cuBLAS uses,
// so a GEMM never allocates, which a CUDA-graph capture would not allow.
constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;

std::atomic<bool> tf32{false};
std::atomic<bool> cublas_created{false};

// fp32: plain FMA math, which holds the 1e-4 parity with the CPU; tf32: tensor-op math.
cublasMath_t cublas_math() { return tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH; }
}  // namespace

bool tf32_math() { return tf32; }

cudnnHandle_t cudnn_handle() {
  static cudnnHandle_t created = [] {
    cudnnHandle_t handle = nullptr;
    NEBULA_CUDNN_CHECK(cudnnCreate(&handle), "creating the cuDNN handle");
    NEBULA_CUDNN_CHECK(cudnnSetStream(handle, stream()), "binding cuDNN to Nebula's stream");
    return handle;
  }();
  return created;
}

cublasHandle_t cublas_handle() {
  static cublasHandle_t created = [] {
    cublasHandle_t handle = nullptr;
    NEBULA_CUBLAS_CHECK(cublasCreate(&handle), "creating the cuBLAS handle");
    // Setting the stream resets the workspace to cuBLAS's own pool, so the stream comes first.
    NEBULA_CUBLAS_CHECK(cublasSetStream(handle, stream()), "binding cuBLAS to Nebula's stream");
    NEBULA_CUBLAS_CHECK(cublasSetWorkspace(handle, device_allocate(kCublasWorkspaceBytes), kCublasWorkspaceBytes),
                        "giving cuBLAS a ", kCublasWorkspaceBytes, "-byte workspace");
    // No atomics, so a rerun is bit-identical.
    NEBULA_CUBLAS_CHECK(cublasSetMathMode(handle, cublas_math()), "setting cuBLAS's math mode");
    NEBULA_CUBLAS_CHECK(cublasSetAtomicsMode(handle, CUBLAS_ATOMICS_NOT_ALLOWED), "setting cuBLAS's atomics mode");
    cublas_created = true;
    return handle;
  }();
  return created;
}

void cudnn_fail(cudnnStatus_t status, const char* call, const std::string& context, const char* file, int line) {
  char message[512] = {};
  cudnnGetLastErrorString(message, sizeof message);  // cuDNN 9's account of what it rejected, often the reason
  throw Error(detail::located(detail::concat(context, ": ", call, " failed: ", cudnnGetErrorString(status),
                                             message[0] ? std::string(" (") + message + ")" : std::string()),
                              file, line));
}

void cublas_fail(cublasStatus_t status, const char* call, const std::string& context, const char* file, int line) {
  throw Error(detail::located(detail::concat(context, ": ", call, " failed: ", cublasGetStatusName(status), " (",
                                             cublasGetStatusString(status), ")"),
                              file, line));
}

}  // namespace gpu

namespace cudnn {

void set_tf32_math(bool on) {
  gpu::tf32 = on;
  if (gpu::cublas_created)
    NEBULA_CUBLAS_CHECK(cublasSetMathMode(gpu::cublas_handle(), gpu::cublas_math()), "setting cuBLAS's math mode");
}

TensorDescriptor tensor_4d(int n, int c, int h, int w) {
  return tensor_4d_strided(n, c, h, w, int64_t(c) * h * w, int64_t(h) * w, w, 1);
}

TensorDescriptor tensor_4d_strided(int n, int c, int h, int w, int64_t n_stride, int64_t c_stride, int64_t h_stride,
                                   int64_t w_stride) {
  // cuDNN's legacy descriptors hold int strides.
  NEBULA_CHECK(n_stride <= INT_MAX && c_stride <= INT_MAX && h_stride <= INT_MAX && w_stride <= INT_MAX,
               "cuDNN: tensor [", n, ", ", c, ", ", h, ", ", w, "] has strides beyond 32 bits");
  TensorDescriptor desc;
  NEBULA_CUDNN_CHECK(cudnnSetTensor4dDescriptorEx(desc, CUDNN_DATA_FLOAT, n, c, h, w, int(n_stride), int(c_stride),
                                                  int(h_stride), int(w_stride)),
                     "describing tensor [", n, ", ", c, ", ", h, ", ", w, "] with strides [", n_stride, ", ", c_stride,
                     ", ", h_stride, ", ", w_stride, "]");
  return desc;
}

ActivationDescriptor activation_descriptor(cudnnActivationMode_t mode) {
  ActivationDescriptor desc;
  NEBULA_CUDNN_CHECK(cudnnSetActivationDescriptor(desc, mode, CUDNN_NOT_PROPAGATE_NAN, 0.0), "describing activation ",
                     int(mode));
  return desc;
}

}  // namespace cudnn
}  // namespace nebula
