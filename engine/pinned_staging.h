// What the loader needs of the GPU to keep it fed, without CUDA in data/:
// page-locked host buffers that a batch is made in, host-to-device copies on
// Nebula's stream (ordered before the step's kernels), and an event that says
// when a buffer's copy is done and it may be written again. Each owns its
// resource, so a constructor that throws half-way leaks nothing.
#pragma once
#include <cstddef>

#include "engine/tensor.h"

namespace nebula {

// Page-locked host memory (cudaHostAlloc): copies from it run asynchronously.
class PinnedBuffer {
 public:
  explicit PinnedBuffer(size_t bytes);
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  float* floats() const { return static_cast<float*>(data_); }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// Marks the end of the copies queued on Nebula's stream before record().
class CopyDoneEvent {
 public:
  enum class State { done, pending };

  CopyDoneEvent();
  ~CopyDoneEvent();
  CopyDoneEvent(const CopyDoneEvent&) = delete;
  CopyDoneEvent& operator=(const CopyDoneEvent&) = delete;

  void record();
  // done or pending; a CUDA error is not completion (the copy may still read
  // the buffer) and is thrown as the device's.
  State query() const;
  // Blocks until done; throws a device error.
  void wait() const;
  // For destructors: blocks until done or failed, never throws.
  void wait_quietly() const noexcept;

 private:
  void* event_ = nullptr;  // cudaEvent_t
};

// Queues a copy of dst.numel() floats from pinned host memory into the GPU
// tensor dst, on Nebula's stream; returns without waiting.
void copy_to_device_async(Tensor& dst, const float* pinned_source);

}  // namespace nebula
