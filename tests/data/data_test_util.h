// Helpers for the data tests: temporary folders, generated images, and where
// the real Galaxy Zoo sample lives (../shared/data/galaxyzoo beside the source
// tree; tests that need it skip when it is absent).
#pragma once
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/file_io.h"

namespace nebula::data::test {

inline std::string source_dir() {
  if (const char* dir = std::getenv("NEBULA_SOURCE_DIR"); dir && *dir) return dir;
  return NEBULA_SOURCE_DIR_FALLBACK;
}

inline std::string real_sample_dir() { return source_dir() + "/../shared/data/galaxyzoo"; }

inline bool have_real_sample() {
  return is_directory(real_sample_dir() + "/images") && is_file(real_sample_dir() + "/labels_partial.csv");
}

#define NEBULA_SKIP_WITHOUT_REAL_SAMPLE()                                                            \
  if (!::nebula::data::test::have_real_sample())                                                     \
  GTEST_SKIP() << "the real Galaxy Zoo sample is not at " << ::nebula::data::test::real_sample_dir() \
               << " (../shared beside the source tree)"

// A fresh folder under the system temp directory, removed with its contents.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("nebula_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A smooth RGB test pattern (JPEG-friendly) with a distinct value per channel.
inline std::vector<uint8_t> pattern_image(int width, int height) {
  std::vector<uint8_t> rgb(size_t(width) * height * 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t* p = rgb.data() + (size_t(y) * width + x) * 3;
      p[0] = uint8_t(40 + 160 * x / std::max(1, width - 1));
      p[1] = uint8_t(40 + 160 * y / std::max(1, height - 1));
      p[2] = uint8_t(120 + 60 * ((x / 16 + y / 16) % 2));
    }
  return rgb;
}

// Noise: every pixel different, for exact-geometry checks.
inline std::vector<uint8_t> noise_image(int width, int height, uint32_t seed = 1) {
  std::vector<uint8_t> rgb(size_t(width) * height * 3);
  uint32_t state = seed * 2654435761u + 1;
  for (uint8_t& v : rgb) {
    state = state * 1664525u + 1013904223u;
    v = uint8_t(state >> 24);
  }
  return rgb;
}

}  // namespace nebula::data::test
