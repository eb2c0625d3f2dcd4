#include "kernels/precision.h"

#include "base/error.h"
#include "kernels/cpu/parallel.h"

namespace nebula {

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::FP32: return "fp32";
    case Precision::TF32: return "tf32";
    case Precision::BF16: return "bf16";
  }
  return "?";
}

Precision parse_precision(const std::string& name) {
  for (Precision p : {Precision::FP32, Precision::TF32, Precision::BF16})
    if (name == precision_name(p)) return p;
  throw Error(detail::concat("--precision must be fp32, tf32 or bf16, got '", name, "'"));
}

namespace ref {

void round_values(Precision precision, int64_t n, const float* in, float* out) {
  cpu::parallel_for(n, cpu::kElementwiseGrain, [=](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) out[i] = round_to(precision, in[i]);
  });
}

}  // namespace ref
}  // namespace nebula
