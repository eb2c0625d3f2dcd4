#include "engine/device.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/error.h"

namespace nebula {

namespace {

struct CudaProbe {
  bool available = false;
  std::string reason;
  CudaProbe() {
    int count = 0;
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      reason = std::string("no usable GPU (cudaGetDeviceCount: ") + cudaGetErrorString(status) + ")";
      cudaGetLastError();  // clear the sticky error so later probes start clean
    } else if (count == 0) {
      reason = "no usable GPU (no CUDA device found)";
    } else {
      available = true;
    }
  }
};

const CudaProbe& probe() {
  static const CudaProbe result;
  return result;
}

void cuda_check(cudaError_t status, const char* what, size_t bytes) {
  NEBULA_CHECK(status == cudaSuccess, what, " of ", bytes, " bytes failed: ", cudaGetErrorString(status));
}

}  // namespace

const char* device_name(Device device) { return device == Device::CPU ? "cpu" : "cuda"; }

bool cuda_available() { return probe().available; }
const std::string& cuda_unavailable_reason() { return probe().reason; }

void* allocate(Device device, size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (device == Device::CPU) {
    // 64-byte alignment suits AVX-512 loads and BLAS.
    void* ptr = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!ptr) throw std::bad_alloc();
    return ptr;
  }
  NEBULA_CHECK(cuda_available(), "cannot allocate on the GPU: ", cuda_unavailable_reason());
  void* ptr = nullptr;
  cuda_check(cudaMalloc(&ptr, bytes), "cudaMalloc", bytes);
  return ptr;
}

void release(Device device, void* ptr) {
  if (device == Device::CPU)
    std::free(ptr);
  else
    cudaFree(ptr);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (dst_device == Device::CPU && src_device == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  cuda_check(cudaMemcpy(dst, src, bytes, cudaMemcpyDefault), "cudaMemcpy", bytes);
}

}  // namespace nebula
