// Shape: the sizes of a tensor's dimensions, outermost first (NCHW for images).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nebula {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape);
std::string to_string(const Shape& shape);

}  // namespace nebula
