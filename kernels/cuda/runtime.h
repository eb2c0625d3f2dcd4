// The GPU runtime every CUDA path shares: the one stream Nebula's GPU work is
// queued on, and checked calls whose errors name the op and its shapes.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "base/error.h"

namespace nebula {
namespace gpu {

// Nebula's stream: created on first use, blocking with respect to the legacy
// default stream (so a stray cudaMemcpy elsewhere still orders correctly) and
// capturable into a CUDA graph.
cudaStream_t stream();

// Throws Error("<context>: <call> failed: <CUDA's message> (file:line)").
[[noreturn]] void fail(cudaError_t status, const char* call, const std::string& context, const char* file, int line);

// Grid size for a grid-stride loop over n elements.
int blocks_for(int64_t n, int threads);

}  // namespace gpu
}  // namespace nebula

// NEBULA_CUDA_CHECK(call, context parts...): every CUDA runtime call goes
// through it. The context is only formatted when the call failed.
#define NEBULA_CUDA_CHECK(call, ...)                                                                         \
  do {                                                                                                       \
    cudaError_t nebula_status_ = (call);                                                                     \
    if (nebula_status_ != cudaSuccess)                                                                       \
      ::nebula::gpu::fail(nebula_status_, #call, ::nebula::detail::concat(__VA_ARGS__), __FILE__, __LINE__); \
  } while (0)
// After a kernel launch: a bad configuration shows up here, naming the op.
#define NEBULA_CUDA_CHECK_LAUNCH(...) NEBULA_CUDA_CHECK(cudaGetLastError(), __VA_ARGS__)
