// The parity tests' comparison itself, on the CPU (no GPU needed): a value
// both sides left poisoned fails, NaN agrees only where it is expected, and
// the tolerance scales with the tensor.
#include <limits>

#include "tests/cuda/cuda_test_util.h"

namespace nebula::test {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(ParityCompare, AnElementBothSidesLeftPoisonedFails) {
  const std::vector<float> cpu = {1.0f, kNaN, 3.0f}, gpu = {1.0f, kNaN, 3.0f};
  EXPECT_FALSE(compare(cpu, gpu, {3}, Tolerance{}));
  EXPECT_FALSE(compare(cpu, gpu, {3}, Tolerance::equal()));
}

TEST(ParityCompare, NanAgreesOnlyWhereTheReferenceIsNanByConstruction) {
  const std::vector<float> cpu = {1.0f, kNaN}, gpu = {1.0f, kNaN};
  EXPECT_TRUE(compare(cpu, gpu, {2}, Tolerance::unchanged()));
  EXPECT_FALSE(compare(cpu, {1.0f, 2.0f}, {2}, Tolerance::unchanged()));
  EXPECT_FALSE(compare({1.0f, 2.0f}, {1.0f, kNaN}, {2}, Tolerance{}));
}

TEST(ParityCompare, ToleranceScalesWithTheTensorAndEqualityIsExact) {
  const std::vector<float> cpu = {1000.0f, 0.0f};
  // atol = 1e-5 * 1000 = 0.01: an element near zero is held to the tensor's scale.
  EXPECT_TRUE(compare(cpu, {1000.0f, 0.009f}, {2}, Tolerance{}));
  EXPECT_FALSE(compare(cpu, {1000.0f, 0.02f}, {2}, Tolerance{}));
  EXPECT_TRUE(compare(cpu, {1000.05f, 0.0f}, {2}, Tolerance{}));  // within rtol 1e-4 of 1000, plus atol
  EXPECT_FALSE(compare(cpu, {1000.2f, 0.0f}, {2}, Tolerance{}));
  EXPECT_FALSE(compare(cpu, {1000.0f, 1e-30f}, {2}, Tolerance::equal()));
  EXPECT_TRUE(compare({0.0f}, {-0.0f}, {1}, Tolerance::equal()));
  EXPECT_FALSE(compare(cpu, {1000.0f}, {2}, Tolerance{}));  // sizes differ
}

}  // namespace
}  // namespace nebula::test
