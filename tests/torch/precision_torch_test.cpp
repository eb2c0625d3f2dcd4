// bf16 rounding against PyTorch's own float32 -> bfloat16 -> float32 (ties
// to even): every value bit for bit.
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/precision.h"
#include "tests/torch/torch_fixture.h"

namespace nebula {
namespace {

TEST(PrecisionTorch, Bf16RoundsAsPyTorchDoes) {
  const SafetensorsFile& f = torch_parity::fixture("torch_bf16_rounding");
  const std::vector<float> x = f.at("main.x").to_vector(), y = f.at("main.y").to_vector();
  ASSERT_EQ(x.size(), y.size());
  ASSERT_GT(x.size(), 3000u);
  int wrong = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (bits_of(round_to_bf16(x[i])) != bits_of(y[i]) && ++wrong <= 5)
      ADD_FAILURE() << x[i] << " rounds to " << round_to_bf16(x[i]) << ", PyTorch gives " << y[i];
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace nebula
