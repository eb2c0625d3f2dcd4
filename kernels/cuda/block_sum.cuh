// A deterministic sum over one thread block, for the reductions that must give
// the same bits on every run (batch norm's statistics, the loss): a fixed
// halving tree in shared memory, in double. Only .cu files include this.
#pragma once

namespace nebula {
namespace cuda {

// Every thread of a block of kThreads (a power of two) passes its value; every
// thread gets the block's sum.
template <int kThreads>
__device__ double block_sum(double value) {
  static_assert((kThreads & (kThreads - 1)) == 0, "block_sum needs a power-of-two block");
  __shared__ double partial[kThreads];
  __syncthreads();  // a previous call's readers are done with partial[0]
  partial[threadIdx.x] = value;
  __syncthreads();
  for (unsigned width = kThreads / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
    __syncthreads();
  }
  return partial[0];
}

}  // namespace cuda
}  // namespace nebula
