#include "train/device_choice.h"

#include <cstdio>

#include "base/error.h"
#include "engine/dispatch.h"

namespace nebula {

Device choose_device(const std::string& wanted) {
  NEBULA_CHECK(wanted == "auto" || wanted == "cpu" || wanted == "cuda", "--device must be cpu, cuda or auto, got '",
               wanted, "'");
  if (wanted == "cpu") return Device::CPU;
  if (!cuda_available()) {
    NEBULA_CHECK(wanted != "cuda", "--device cuda: ", cuda_unavailable_reason());
    std::fprintf(stderr, "%s: running on the CPU\n", cuda_unavailable_reason().c_str());
    return Device::CPU;
  }
  return Device::CUDA;
}

Device choose_device(const std::string& wanted, const std::string& backend) {
  set_backend(parse_backend(backend));
  return choose_device(wanted);
}

}  // namespace nebula
