// Lets small helpers compile for both the host and CUDA kernels.
#pragma once
#if defined(__CUDACC__)
#define NEBULA_HD __host__ __device__ __forceinline__
#else
#define NEBULA_HD inline
#endif
