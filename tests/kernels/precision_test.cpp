// The precisions' rounding: ties and special values by hand, bf16 against
// PyTorch's own .bfloat16() (tests/torch/precision_torch_test.cpp), and
// every float of a sweep within half a unit of the last kept bit.
#include "kernels/precision.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "base/error.h"

namespace nebula {
namespace {

TEST(Precision, Tf32RoundsToNearestTiesAwayFromZero) {
  EXPECT_EQ(round_to_tf32(1.0f + std::ldexp(1.0f, -11)), 1.0f + std::ldexp(1.0f, -10));  // a tie: away
  EXPECT_EQ(round_to_tf32(-(1.0f + std::ldexp(1.0f, -11))), -(1.0f + std::ldexp(1.0f, -10)));
  EXPECT_EQ(round_to_tf32(1.0f + std::ldexp(1.0f, -12)), 1.0f);
  EXPECT_EQ(round_to_tf32(1.0f + 3 * std::ldexp(1.0f, -12)), 1.0f + std::ldexp(1.0f, -10));
  EXPECT_EQ(round_to_tf32(1.0f + std::ldexp(1.0f, -10)), 1.0f + std::ldexp(1.0f, -10));  // representable: kept
}

TEST(Precision, Bf16RoundsToNearestTiesToEven) {
  EXPECT_EQ(round_to_bf16(1.0f + std::ldexp(1.0f, -8)), 1.0f);                                   // tie: to even
  EXPECT_EQ(round_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 1.0f + std::ldexp(1.0f, -6));        // tie: to even
  EXPECT_EQ(round_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)), 1.0f + std::ldexp(1.0f, -7));
  EXPECT_EQ(round_to_bf16(-3.0f), -3.0f);
}

TEST(Precision, SpecialValuesPassThrough) {
  const float inf = std::numeric_limits<float>::infinity();
  for (Precision p : {Precision::TF32, Precision::BF16}) {
    EXPECT_EQ(round_to(p, inf), inf);
    EXPECT_EQ(round_to(p, -inf), -inf);
    EXPECT_TRUE(std::isnan(round_to(p, std::nanf(""))));
    EXPECT_EQ(round_to(p, 0.0f), 0.0f);
  }
  EXPECT_EQ(round_to(Precision::FP32, 0.1f), 0.1f);
}

// Every value of a sweep over magnitudes rounds to within half a unit in the
// last kept place, and to a value with the dropped bits clear.
TEST(Precision, ErrorsStayWithinHalfAUnit) {
  for (float x = 1e-30f; x < 1e30f; x *= 1.0007f) {
    for (float v : {x, -x}) {
      const float t = round_to_tf32(v), b = round_to_bf16(v);
      EXPECT_LE(std::fabs(t - v), std::ldexp(std::fabs(v), -11) * 1.0001f) << v;
      EXPECT_LE(std::fabs(b - v), std::ldexp(std::fabs(v), -8) * 1.0001f) << v;
      EXPECT_EQ(bits_of(t) & 0x1fffu, 0u) << v;
      EXPECT_EQ(bits_of(b) & 0xffffu, 0u) << v;
    }
  }
}

TEST(Precision, NamesParseAndBadOnesAreRefused) {
  EXPECT_EQ(parse_precision("bf16"), Precision::BF16);
  EXPECT_STREQ(precision_name(parse_precision("tf32")), "tf32");
  try {
    parse_precision("fp16");
    ADD_FAILURE() << "fp16 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--precision must be fp32, tf32 or bf16, got 'fp16'"), std::string::npos);
  }
}

}  // namespace
}  // namespace nebula
