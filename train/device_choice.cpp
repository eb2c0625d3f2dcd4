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

std::string precision_refusal(Precision precision, Device device, Backend backend, int capability) {
  if (precision == Precision::FP32 || device == Device::CPU) return "";
  const std::string asked = detail::concat("--precision ", precision_name(precision), " on the GPU: ");
  if (precision == Precision::BF16)
    return asked + "not built yet (bf16 storage on the GPU); it runs on the CPU's rounding reference (--device cpu)";
  if (capability < 80)
    return asked + detail::concat("needs compute capability 8.0 or newer (tensor cores with TF32), this GPU has ",
                                  capability / 10, ".", capability % 10);
  if (backend != Backend::Cudnn)
    return asked + "the native kernels run fp32 only (their tensor-core paths are not built yet); use --backend cudnn";
  return "";
}

Precision choose_precision(const std::string& name, Device device) {
  const Precision precision = parse_precision(name);
  const std::string refusal = precision_refusal(precision, device, backend(), gpu_compute_capability());
  NEBULA_CHECK(refusal.empty(), refusal);
  if (precision != Precision::FP32 && device == Device::CPU)
    std::fprintf(stderr, "--precision %s on the CPU: its rounding reference (each GEMM operand rounded, sums in fp32)\n",
                 precision_name(precision));
  set_precision(precision);
  return precision;
}

}  // namespace nebula
