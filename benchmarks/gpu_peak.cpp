#include "benchmarks/gpu_peak.h"

#include <cuda_runtime.h>

#include <cstdio>

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace {

int attribute(cudaDeviceAttr which, int device, const char* name) {
  int value = 0;
  NEBULA_CUDA_CHECK(cudaDeviceGetAttribute(&value, which, device), "reading the GPU's ", name);
  return value;
}

}  // namespace

int fp32_lanes_per_sm(int major, int minor) {
  if (major <= 5) return 128;  // Maxwell
  if (major == 6) return minor == 0 ? 64 : 128;
  if (major == 7) return 64;  // Volta, Turing
  if (major == 8) return minor == 0 ? 64 : 128;
  return 128;  // Hopper, Blackwell
}

GpuPeak gpu_peak() {
  int device = 0;
  NEBULA_CUDA_CHECK(cudaGetDevice(&device), "finding the current GPU");
  cudaDeviceProp prop{};
  NEBULA_CUDA_CHECK(cudaGetDeviceProperties(&prop, device), "reading the GPU's name");
  GpuPeak peak;
  peak.name = prop.name;
  peak.major = attribute(cudaDevAttrComputeCapabilityMajor, device, "compute capability");
  peak.minor = attribute(cudaDevAttrComputeCapabilityMinor, device, "compute capability");
  peak.sms = attribute(cudaDevAttrMultiProcessorCount, device, "SM count");
  peak.clock_khz = attribute(cudaDevAttrClockRate, device, "clock rate");
  peak.memory_clock_khz = attribute(cudaDevAttrMemoryClockRate, device, "memory clock rate");
  peak.bus_width_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, device, "memory bus width");
  peak.l2_bytes = attribute(cudaDevAttrL2CacheSize, device, "L2 cache size");
  peak.fp32_lanes_per_sm = fp32_lanes_per_sm(peak.major, peak.minor);
  peak.fp32_flops = double(peak.sms) * peak.fp32_lanes_per_sm * 2.0 * peak.clock_khz * 1e3;
  peak.memory_bytes = 2.0 * peak.memory_clock_khz * 1e3 * peak.bus_width_bits / 8.0;
  return peak;
}

std::string describe(const GpuPeak& peak) {
  char line[512];
  std::snprintf(line, sizeof line, "%s (sm_%d%d, %d SMs at %.0f MHz): FP32 %.1f TFLOP/s, DRAM %.0f GB/s, L2 %.0f MiB",
                peak.name.c_str(), peak.major, peak.minor, peak.sms, peak.clock_khz / 1e3, peak.fp32_flops / 1e12,
                peak.memory_bytes / 1e9, peak.l2_bytes / 1048576.0);
  return line;
}

}  // namespace nebula
