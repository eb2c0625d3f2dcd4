// --device and --backend, as every app that runs a model reads them.
#pragma once
#include <string>

#include "engine/device.h"

namespace nebula {

// "cpu", "cuda" or "auto" (the GPU where one answers). Without a usable GPU,
// auto says so in one line on stderr and picks the CPU; cuda is an error.
Device choose_device(const std::string& wanted);

// Picks the device and sets the GPU backend ("native" or "cudnn") in one call.
Device choose_device(const std::string& wanted, const std::string& backend);

}  // namespace nebula
