#include "benchmarks/gpu_timer.h"

#include <algorithm>

#include "kernels/cuda/runtime.h"

namespace nebula {

GpuTimer::GpuTimer() {
  NEBULA_CUDA_CHECK(cudaEventCreate(&start_), "benchmark timer: creating an event");
  NEBULA_CUDA_CHECK(cudaEventCreate(&stop_), "benchmark timer: creating an event");
}

GpuTimer::~GpuTimer() {
  cudaEventDestroy(start_);
  cudaEventDestroy(stop_);
}

void GpuTimer::start() {
  NEBULA_CUDA_CHECK(cudaEventRecord(start_, gpu::stream()), "benchmark timer: recording an event");
}

double GpuTimer::stop() {
  NEBULA_CUDA_CHECK(cudaEventRecord(stop_, gpu::stream()), "benchmark timer: recording an event");
  NEBULA_CUDA_CHECK(cudaEventSynchronize(stop_), "benchmark timer: waiting for the timed work");
  float ms = 0.0f;
  NEBULA_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_), "benchmark timer: reading an event");
  return ms * 1e-3;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  if (n == 0) return 0.0;
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace nebula
