#include "engine/pinned_staging.h"

#include <cuda_runtime.h>

#include "base/error.h"
#include "kernels/cuda/runtime.h"

namespace nebula {

namespace {

// A CUDA error met while feeding the GPU is the device's: an asynchronous fault
// from earlier GPU work (a replayed step, say) surfaces at the next call that waits.
void check_device(cudaError_t status, const char* what) {
  NEBULA_CHECK(status == cudaSuccess, "GPU error (seen by the loader's ", what,
               "; the fault may come from earlier GPU work): ", cudaGetErrorString(status));
}

cudaEvent_t as_event(void* event) { return static_cast<cudaEvent_t>(event); }

}  // namespace

PinnedBuffer::PinnedBuffer(size_t bytes) : bytes_(bytes) {
  check_device(cudaHostAlloc(&data_, bytes, cudaHostAllocDefault), "cudaHostAlloc");
}

PinnedBuffer::~PinnedBuffer() {
  if (data_) cudaFreeHost(data_);
}

CopyDoneEvent::CopyDoneEvent() {
  cudaEvent_t event = nullptr;
  check_device(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreate");
  event_ = event;
}

CopyDoneEvent::~CopyDoneEvent() {
  if (event_) cudaEventDestroy(as_event(event_));
}

void CopyDoneEvent::record() { check_device(cudaEventRecord(as_event(event_), gpu::stream()), "cudaEventRecord"); }

CopyDoneEvent::State CopyDoneEvent::query() const {
  const cudaError_t status = cudaEventQuery(as_event(event_));
  if (status == cudaErrorNotReady) return State::pending;
  check_device(status, "cudaEventQuery");
  return State::done;
}

void CopyDoneEvent::wait() const { check_device(cudaEventSynchronize(as_event(event_)), "cudaEventSynchronize"); }

void CopyDoneEvent::wait_quietly() const noexcept { cudaEventSynchronize(as_event(event_)); }

void copy_to_device_async(Tensor& dst, const float* pinned_source) {
  NEBULA_CHECK(dst.device() == Device::CUDA, "copy_to_device_async: the destination is not on the GPU");
  check_device(cudaMemcpyAsync(dst.data(), pinned_source, size_t(dst.numel()) * sizeof(float), cudaMemcpyHostToDevice,
                               gpu::stream()),
               "cudaMemcpyAsync");
}

}  // namespace nebula
