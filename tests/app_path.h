#pragma once
// Where a test finds one of Nebula's programs: the build tree's path compiled
// in, or NEBULA_APPS_DIR/<name> where the programs were moved (the GPU
// machine's bundle, tools/gpu_check.sh).
#include <cstdlib>
#include <filesystem>
#include <string>

namespace nebula {
namespace test {

inline std::string app_path(const std::string& built) {
  const char* dir = std::getenv("NEBULA_APPS_DIR");
  if (dir == nullptr || *dir == '\0') return built;
  return (std::filesystem::path(dir) / std::filesystem::path(built).filename()).string();
}

}  // namespace test
}  // namespace nebula
