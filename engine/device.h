// Where a tensor's storage lives, and the few memory operations the engine needs
// on each device. CUDA presence is probed once at run time; nothing here needs a
// GPU to build.
#pragma once
#include <cstddef>
#include <string>

namespace nebula {

enum class Device { CPU, CUDA };

const char* device_name(Device device);

// True when a CUDA driver and at least one GPU answer. Cached after the first call.
bool cuda_available();
// One line saying why CUDA is not usable ("" when it is).
const std::string& cuda_unavailable_reason();
// GPU 0's compute capability as 10 x major + minor (90 for an H100), 0 when
// CUDA is not usable; and its name.
int gpu_compute_capability();
const std::string& gpu_name();

// Host blocks of 1 MiB and more are cached for reuse (device.cpp says why);
// release must be given the size that was allocated.
void* allocate(Device device, size_t bytes);
void release(Device device, void* ptr, size_t bytes);
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes);

}  // namespace nebula
