// --device and --backend, as every app that runs a model reads them.
#pragma once
#include <string>

#include "engine/device.h"
#include "engine/dispatch.h"

namespace nebula {

// "cpu", "cuda" or "auto" (the GPU where one answers). Without a usable GPU,
// auto says so in one line on stderr and picks the CPU; cuda is an error.
Device choose_device(const std::string& wanted);

// Picks the device and sets the GPU backend ("native" or "cudnn") in one call.
Device choose_device(const std::string& wanted, const std::string& backend);

// Why `device` cannot run GEMMs at `precision` ("" when it can): tf32 on the
// GPU needs compute capability 8.0 or newer and the cudnn backend (the native
// kernels run fp32 only); bf16 runs on the CPU's rounding reference only.
// capability: as gpu_compute_capability() gives it.
std::string precision_refusal(Precision precision, Device device, Backend backend, int capability);

// --precision for the device chosen (after choose_device): parsed, refused in
// one line before any work where precision_refusal says so, else set; on the
// CPU a precision other than fp32 says in one line that it runs the rounding
// reference.
Precision choose_precision(const std::string& name, Device device);

}  // namespace nebula
