// Timing GPU work for the benchmarks: two CUDA events on Nebula's stream
// around the work, and the median of many such samples.
#pragma once
#include <cuda_runtime.h>

#include <vector>

namespace nebula {

class GpuTimer {
 public:
  GpuTimer();
  ~GpuTimer();
  GpuTimer(const GpuTimer&) = delete;
  GpuTimer& operator=(const GpuTimer&) = delete;

  void start();
  // Waits for the work queued since start() and returns its seconds on the GPU.
  double stop();

 private:
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

double median(std::vector<double> values);

}  // namespace nebula
