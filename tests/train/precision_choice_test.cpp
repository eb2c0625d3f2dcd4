// --precision for the device chosen: what each device and backend can run,
// refused in one line naming the flag; set where it can run.
#include <gtest/gtest.h>

#include "base/error.h"
#include "train/device_choice.h"

namespace nebula {
namespace {

TEST(PrecisionChoice, TheCpuRunsEveryPrecisionAsItsRoundingReference) {
  for (Precision p : {Precision::FP32, Precision::TF32, Precision::BF16})
    EXPECT_EQ(precision_refusal(p, Device::CPU, Backend::Native, 0), "") << precision_name(p);
}

TEST(PrecisionChoice, TheGpuRunsTf32InCudnnOnAmpereAndNewer) {
  EXPECT_EQ(precision_refusal(Precision::TF32, Device::CUDA, Backend::Cudnn, 90), "");
  EXPECT_EQ(precision_refusal(Precision::TF32, Device::CUDA, Backend::Cudnn, 80), "");
  EXPECT_EQ(precision_refusal(Precision::FP32, Device::CUDA, Backend::Native, 75), "");
  const std::string old = precision_refusal(Precision::TF32, Device::CUDA, Backend::Cudnn, 75);
  EXPECT_NE(old.find("--precision tf32 on the GPU: needs compute capability 8.0 or newer"), std::string::npos) << old;
  EXPECT_NE(old.find("this GPU has 7.5"), std::string::npos) << old;
  const std::string native = precision_refusal(Precision::TF32, Device::CUDA, Backend::Native, 90);
  EXPECT_NE(native.find("the native kernels run fp32 only"), std::string::npos) << native;
  EXPECT_NE(native.find("use --backend cudnn"), std::string::npos) << native;
  const std::string bf16 = precision_refusal(Precision::BF16, Device::CUDA, Backend::Cudnn, 90);
  EXPECT_NE(bf16.find("--precision bf16 on the GPU: not built yet"), std::string::npos) << bf16;
}

TEST(PrecisionChoice, ChoosingSetsItAndABadNameIsRefused) {
  EXPECT_EQ(choose_precision("bf16", Device::CPU), Precision::BF16);
  EXPECT_EQ(precision(), Precision::BF16);
  EXPECT_EQ(choose_precision("fp32", Device::CPU), Precision::FP32);
  EXPECT_EQ(precision(), Precision::FP32);
  try {
    choose_precision("half", Device::CPU);
    ADD_FAILURE() << "half was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--precision must be fp32, tf32 or bf16, got 'half'"), std::string::npos);
  }
}

}  // namespace
}  // namespace nebula
