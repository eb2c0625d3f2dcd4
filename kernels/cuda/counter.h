// A 64-bit value in device memory set from the host by a one-thread kernel:
// the value travels as a launch argument, so any number of sets can be queued
// ahead of the work that reads them (a pinned-memory copy could be overwritten
// before it ran). Used to advance a replayed CUDA graph's dropout stream.
#pragma once
#include <cstdint>

namespace nebula {
namespace cuda {
void set_counter(uint64_t* counter, uint64_t value);
}  // namespace cuda
}  // namespace nebula
