// The safetensors reader (engine/safetensors.h) on whole files.
#include <cstdint>
#include <string>

#include "base/error.h"
#include "engine/safetensors.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    nebula::SafetensorsFile file =
        nebula::parse_safetensors(std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    for (const nebula::SafetensorsEntry& e : file.entries()) {
      FUZZ_EXPECT(file.contains(e.name));
      touch(file.at(e.name));
    }
    for (const auto& [key, value] : file.metadata()) FUZZ_EXPECT(file.meta(key) == value);
  } catch (const nebula::Error&) {
  }
  return 0;
}
