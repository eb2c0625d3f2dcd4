// The arithmetic a GEMM (convolution, dense) runs in. fp32: exact float
// products and sums, the default. tf32: each operand rounded to TF32 (8
// exponent bits, 10 mantissa bits; to nearest, ties away from zero, as the
// tensor cores' cvt.rna.tf32.f32 and CUTLASS round), products and sums in
// fp32. bf16: each operand rounded to bfloat16 (7 mantissa bits; to nearest,
// ties to even, as __float2bfloat16_rn and PyTorch's .bfloat16() round),
// products and sums in fp32. The product of two such values is exact in
// fp32, so the CPU reproduces a precision by rounding the operands and
// running its fp32 GEMM: its rounding reference. Weights, optimizer state,
// batch-norm statistics and the loss stay fp32 in every setting.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "base/host_device.h"

namespace nebula {

enum class Precision { FP32, TF32, BF16 };

const char* precision_name(Precision precision);
// "fp32", "tf32" or "bf16"; throws nebula::Error naming --precision otherwise.
Precision parse_precision(const std::string& name);

NEBULA_HD float float_from_bits(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

NEBULA_HD uint32_t bits_of(float f) {
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  return bits;
}

// Infinities and NaN pass through (a NaN stays a NaN).
NEBULA_HD float round_to_tf32(float x) {
  const uint32_t bits = bits_of(x);
  if ((bits & 0x7f800000u) == 0x7f800000u) return x;
  return float_from_bits((bits + 0x1000u) & 0xffffe000u);  // half of the 13 dropped bits, then truncate
}

NEBULA_HD float round_to_bf16(float x) {
  const uint32_t bits = bits_of(x);
  if ((bits & 0x7f800000u) == 0x7f800000u) return (bits & 0x007fffffu) ? float_from_bits(bits | 0x00400000u) : x;
  const uint32_t even = (bits >> 16) & 1u;  // ties go to the even result
  return float_from_bits((bits + 0x7fffu + even) & 0xffff0000u);
}

NEBULA_HD float round_to(Precision precision, float x) {
  return precision == Precision::TF32 ? round_to_tf32(x) : precision == Precision::BF16 ? round_to_bf16(x) : x;
}

// The GPU library path: whether cuDNN's convolutions and cuBLAS's GEMMs run
// in tensor-op math (TF32 for fp32 data). Off by default; touches no GPU
// until a handle or a plan exists.
namespace cudnn {
void set_tf32_math(bool on);
}  // namespace cudnn

namespace ref {
// out[i] = round_to(precision, in[i]); out may be in.
void round_values(Precision precision, int64_t n, const float* in, float* out);
}  // namespace ref

}  // namespace nebula
