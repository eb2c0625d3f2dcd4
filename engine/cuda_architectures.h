// Whether this build has code a GPU can run. A build holds, for each entry of
// CMAKE_CUDA_ARCHITECTURES, machine code (sm_XY, which runs on compute
// capability X.Y up to X.9) and PTX (compute_XY, which the driver compiles for
// any capability from X.Y up): "80" is both, "80-real" machine code alone,
// "80-virtual" PTX alone. A GPU older than every entry has nothing to run.
#pragma once
#include <string>

namespace nebula {

// "" when a GPU of compute capability major.minor can run a build for
// `architectures` (CMake's list, as "80;90" or "80-real;90", or with commas); else why not, in
// one line naming the card, its capability and the build's targets.
std::string unsupported_gpu_reason(const std::string& card, int major, int minor, const std::string& architectures);

// The architectures this build was compiled for.
const char* built_cuda_architectures();

}  // namespace nebula
