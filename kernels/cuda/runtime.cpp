#include "kernels/cuda/runtime.h"

#include <algorithm>

namespace nebula {
namespace gpu {

cudaStream_t stream() {
  // Never destroyed: tensors freed during static destruction may still queue work.
  static cudaStream_t created = [] {
    cudaStream_t s = nullptr;
    NEBULA_CUDA_CHECK(cudaStreamCreate(&s), "creating Nebula's CUDA stream");
    return s;
  }();
  return created;
}

void fail(cudaError_t status, const char* call, const std::string& context, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw Error(
      detail::located(detail::concat(context, ": ", call, " failed: ", cudaGetErrorString(status)), file, line));
}

int blocks_for(int64_t n, int threads) {
  // Enough blocks to fill an H100 several times over; grid-stride loops cover the rest.
  int64_t blocks = (n + threads - 1) / threads;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(blocks, 132 * 32)));
}

}  // namespace gpu
}  // namespace nebula
