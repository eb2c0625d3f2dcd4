#include "kernels/cuda/counter.h"
#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

__global__ void set_counter_kernel(uint64_t* counter, uint64_t value) { *counter = value; }

void set_counter(uint64_t* counter, uint64_t value) {
  set_counter_kernel<<<1, 1, 0, gpu::stream()>>>(counter, value);
  NEBULA_CUDA_CHECK_LAUNCH("setting a device counter to ", value);
}

}  // namespace cuda
}  // namespace nebula
