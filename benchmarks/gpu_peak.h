// What the GPU benchmarks measure against: the card's name, its FP32 and DRAM
// peaks and its L2 size (bench_kernels rotates its inputs past it).
//   FP32 peak   = SMs * FP32 lanes per SM * 2 (a fused multiply-add) * clock
//   memory peak = 2 (double data rate) * memory clock * bus width / 8
// The figures come from cudaDeviceGetAttribute: CUDA 13 removed the clock
// fields of cudaDeviceProp.
#pragma once
#include <string>

namespace nebula {

struct GpuPeak {
  std::string name;
  int major = 0, minor = 0;  // compute capability
  int sms = 0, fp32_lanes_per_sm = 0;
  int clock_khz = 0, memory_clock_khz = 0, bus_width_bits = 0;
  int l2_bytes = 0;
  double fp32_flops = 0;    // per second
  double memory_bytes = 0;  // per second
};

// The current device's figures; throws nebula::Error when CUDA refuses.
GpuPeak gpu_peak();

// FP32 lanes per SM of a compute capability: 64 on sm_60, sm_70, sm_75 and
// sm_80 (A100), 128 on the other Pascal, Ampere, Ada, Hopper and Blackwell parts.
int fp32_lanes_per_sm(int major, int minor);

// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs): FP32 66.9 TFLOP/s, DRAM 3352 GB/s, L2 50 MiB"
std::string describe(const GpuPeak& peak);

}  // namespace nebula
