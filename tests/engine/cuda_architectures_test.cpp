// Which GPUs a build can run on, from CMake's architecture list: machine code
// runs within its major version from its minor up, PTX on every later GPU.
#include "engine/cuda_architectures.h"

#include <gtest/gtest.h>

namespace nebula {
namespace {

bool runs(int major, int minor, const std::string& architectures) {
  return unsupported_gpu_reason("a card", major, minor, architectures).empty();
}

TEST(CudaArchitectures, TheDefaultBuildRunsOnAmpereHopperAndLater) {
  for (auto [major, minor] : {std::pair{8, 0}, {8, 6}, {8, 9}, {9, 0}, {10, 0}, {12, 0}})
    EXPECT_TRUE(runs(major, minor, "80;90")) << major << "." << minor;
  for (auto [major, minor] : {std::pair{7, 5}, {7, 0}, {6, 1}})
    EXPECT_FALSE(runs(major, minor, "80;90")) << major << "." << minor;
}

TEST(CudaArchitectures, MachineCodeAloneRunsOnlyWithinItsMajorVersion) {
  EXPECT_TRUE(runs(8, 6, "80-real"));
  EXPECT_FALSE(runs(9, 0, "80-real"));
  EXPECT_FALSE(runs(7, 5, "80-real"));
  EXPECT_TRUE(runs(9, 0, "80-real;90-real"));
  EXPECT_TRUE(runs(9, 0, "90a"));    // Hopper-specific machine code, no PTX:
  EXPECT_FALSE(runs(10, 0, "90a"));  // nothing for a later card
}

TEST(CudaArchitectures, PtxAloneRunsOnEveryLaterGpu) {
  EXPECT_TRUE(runs(9, 0, "80-virtual"));
  EXPECT_TRUE(runs(12, 0, "80-virtual"));
  EXPECT_FALSE(runs(7, 5, "80-virtual"));
}

TEST(CudaArchitectures, TheRefusalNamesTheCardItsCapabilityAndTheFix) {
  EXPECT_EQ(unsupported_gpu_reason("Tesla T4", 7, 5, "80;90"),
            "the GPU (Tesla T4) has compute capability 7.5, and this build has code only for 80;90 (rebuild with "
            "-DCMAKE_CUDA_ARCHITECTURES=75)");
}

TEST(CudaArchitectures, TheBuildKnowsItsTargets) { EXPECT_FALSE(std::string(built_cuda_architectures()).empty()); }

}  // namespace
}  // namespace nebula
