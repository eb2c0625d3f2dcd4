// The seed corpus's writers, one per reader; make_seeds.cpp calls them.
#pragma once
#include <cstdint>
#include <string>

namespace nebula::fuzz {

// Writes `bytes` to dir/name.
void write_seed(const std::string& dir, const std::string& name, const std::string& bytes);

void write_pth_seeds(const std::string& dir);

}  // namespace nebula::fuzz
