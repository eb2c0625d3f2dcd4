// The seed corpus's writers, one per reader; make_seeds.cpp calls them.
#pragma once
#include <cstdint>
#include <string>

namespace nebula::fuzz {

// Writes `bytes` to dir/name.
void write_seed(const std::string& dir, const std::string& name, const std::string& bytes);

void write_pth_seeds(const std::string& dir);

// A baseline JPEG of RGB pixels whose luma blocks are luma_h x luma_v (chroma 1x1).
std::string jpeg_with_luma_sampling(const uint8_t* rgb, int w, int h, int luma_h, int luma_v);

}  // namespace nebula::fuzz
