// A .pth archive built in memory, as torch.save lays it out: archive/data.pkl,
// archive/byteorder, archive/data/<key> for each storage, archive/version.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace nebula::fuzz {

using Storages = std::vector<std::pair<std::string, std::string>>;  // key, raw little-endian bytes

// Entries are stored, as torch.save writes them, or deflated.
std::string pth_archive(const std::string& pickle, const Storages& storages, bool deflate = false);

// The storages the seed pickles point at ("0": 64 float32, "1": 16 float16,
// "2": 8 int64, "3": 8 float64); fuzz_pth puts a bare pickle among them.
const Storages& seed_storages();

}  // namespace nebula::fuzz
