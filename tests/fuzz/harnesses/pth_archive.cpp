#include "pth_archive.h"

#include <zip.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <vector>

namespace nebula::fuzz {

std::string pth_archive(const std::string& pickle, const Storages& storages, bool deflate) {
  Storages entries = {{"archive/data.pkl", pickle}, {"archive/byteorder", "little"}};
  for (const auto& [key, bytes] : storages) entries.emplace_back("archive/data/" + key, bytes);
  entries.emplace_back("archive/version", "3\n");

  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_source_keep(buffer);  // still needed after zip_close, to read the archive back
  zip_t* zip = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (!zip) throw std::runtime_error("libzip cannot make an archive in memory");
  for (const auto& [name, bytes] : entries) {
    zip_source_t* source = zip_source_buffer(zip, bytes.data(), bytes.size(), 0);
    zip_int64_t index = zip_file_add(zip, name.c_str(), source, ZIP_FL_OVERWRITE);
    zip_set_file_compression(zip, zip_uint64_t(index), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(zip) != 0) throw std::runtime_error("libzip cannot write an archive in memory");

  std::string out;
  zip_source_open(buffer);
  zip_source_seek(buffer, 0, SEEK_END);
  out.resize(size_t(zip_source_tell(buffer)));
  zip_source_seek(buffer, 0, SEEK_SET);
  zip_source_read(buffer, out.data(), out.size());
  zip_source_close(buffer);
  zip_source_free(buffer);
  return out;
}

const Storages& seed_storages() {
  static const Storages fixed = [] {
    std::vector<float> f(64);
    for (int i = 0; i < 64; ++i) f[i] = 0.25f * float(i) - 4.0f;
    std::vector<uint16_t> h(16, 0x3c00);  // 1.0
    std::vector<int64_t> l = {7, 0, 1, -1, 2, 3, 4, 5};
    std::vector<double> d = {0.5, -1e300, 1e-300, 3, 4, 5, 6, 7};
    auto raw = [](const auto& v) {
      return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0]));
    };
    return Storages{{"0", raw(f)}, {"1", raw(h)}, {"2", raw(l)}, {"3", raw(d)}};
  }();
  return fixed;
}

}  // namespace nebula::fuzz
