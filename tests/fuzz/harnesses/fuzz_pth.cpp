// The .pth reader (models/pth_reader.h). An input that opens like a zip ("PK")
// is read as a whole file. Any other is taken as a data.pkl and read inside an
// archive of fixed storages: a zip's checksums stop almost every mutation of
// a pickle inside it, so this is how the unpickler itself gets fuzzed.
#include <cstdint>
#include <string>

#include "base/error.h"
#include "fuzz_check.h"
#include "models/pth_reader.h"
#include "pth_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (bytes.compare(0, 2, "PK") != 0) bytes = nebula::fuzz::pth_archive(bytes, nebula::fuzz::seed_storages());
  try {
    for (const nebula::PthEntry& e : nebula::parse_pth(bytes, "fuzz.pth")) {
      FUZZ_EXPECT(!e.dtype.empty());
      touch(e.tensor);
    }
  } catch (const nebula::Error&) {
  }
  return 0;
}
