#include "engine/device.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "base/error.h"
#include "engine/cuda_architectures.h"
#include "kernels/cuda/allocator.h"
#include "kernels/cuda/runtime.h"

namespace nebula {

namespace {

struct CudaProbe {
  bool available = false;
  std::string reason;
  std::string card;    // GPU 0's name, when one answers
  int capability = 0;  // and its compute capability, 10 x major + minor
  // A GPU this build has no code for is not usable: refused here, in one line,
  // instead of failing at its first kernel launch.
  void check_capability();
  CudaProbe() {
    int count = 0;
    cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      reason = std::string("no usable GPU (cudaGetDeviceCount: ") + cudaGetErrorString(status) + ")";
      cudaGetLastError();  // clear the sticky error so later probes start clean
    } else if (count == 0) {
      reason = "no usable GPU (no CUDA device found)";
    } else {
      check_capability();
    }
  }
};

void CudaProbe::check_capability() {
  cudaDeviceProp properties{};
  cudaError_t status = cudaGetDeviceProperties(&properties, 0);
  if (status != cudaSuccess) {
    reason = std::string("no usable GPU (cudaGetDeviceProperties: ") + cudaGetErrorString(status) + ")";
    cudaGetLastError();
    return;
  }
  reason = unsupported_gpu_reason(properties.name, properties.major, properties.minor, built_cuda_architectures());
  available = reason.empty();
  card = properties.name;
  capability = 10 * properties.major + properties.minor;
}

const CudaProbe& probe() {
  static const CudaProbe result;
  return result;
}
}  // namespace

int gpu_compute_capability() { return probe().available ? probe().capability : 0; }
const std::string& gpu_name() { return probe().card; }

namespace {

// Large host blocks are kept for reuse instead of returned to the system: a
// training step frees and reallocates the same activation sizes every time,
// and fresh pages from the kernel cost a page fault each (about 180,000 a cnn1
// step without this cache). Blocks are binned by their exact rounded size, so
// the cache holds at most the peak working set of one step.
class HostBlockCache {
 public:
  static constexpr size_t kMinimum = size_t(1) << 20;

  void* take(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* ptr = it->second.back();
    it->second.pop_back();
    return ptr;
  }
  void give(void* ptr, size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_[bytes].push_back(ptr);
  }

 private:
  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
};

HostBlockCache& host_cache() {
  static HostBlockCache* cache = new HostBlockCache;  // never destroyed: tensors may outlive static destruction
  return *cache;
}

size_t host_block_size(size_t bytes) { return (std::max<size_t>(bytes, 1) + 63) / 64 * 64; }

}  // namespace

const char* device_name(Device device) { return device == Device::CPU ? "cpu" : "cuda"; }

bool cuda_available() { return probe().available; }
const std::string& cuda_unavailable_reason() { return probe().reason; }

void* allocate(Device device, size_t bytes) {
  if (device == Device::CPU) {
    size_t size = host_block_size(bytes);
    if (size >= HostBlockCache::kMinimum)
      if (void* ptr = host_cache().take(size)) return ptr;
    // 64-byte alignment suits AVX-512 loads and BLAS.
    void* ptr = std::aligned_alloc(64, size);
    if (!ptr) throw std::bad_alloc();
    return ptr;
  }
  NEBULA_CHECK(cuda_available(), "cannot allocate on the GPU: ", cuda_unavailable_reason());
  return gpu::device_allocate(bytes);
}

void release(Device device, void* ptr, size_t bytes) {
  if (device == Device::CPU) {
    size_t size = host_block_size(bytes);
    if (size >= HostBlockCache::kMinimum)
      host_cache().give(ptr, size);
    else
      std::free(ptr);
  } else {
    gpu::device_release(ptr, bytes);
  }
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes) {
  if (bytes == 0) return;
  if (dst_device == Device::CPU && src_device == Device::CPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
  // On Nebula's stream, so copies are ordered with the kernels; device-to-device
  // copies stay asynchronous (and capturable), a copy to the host waits for its data.
  NEBULA_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, gpu::stream()), "copying ", bytes,
                    " bytes from ", device_name(src_device), " to ", device_name(dst_device));
  if (dst_device == Device::CPU)
    NEBULA_CUDA_CHECK(cudaStreamSynchronize(gpu::stream()), "waiting for a copy to the host");
}

}  // namespace nebula
