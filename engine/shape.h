// Shape: the sizes of a tensor's dimensions, outermost first (NCHW for images).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nebula {

using Shape = std::vector<int64_t>;

// The element count; throws nebula::Error when it does not fit in 64 bits.
int64_t numel(const Shape& shape);
std::string to_string(const Shape& shape);

// Checked 64-bit arithmetic for sizes read from files: false (and *out left as
// it was) when the exact result does not fit in int64_t, never undefined behaviour.
bool checked_mul(int64_t a, int64_t b, int64_t* out);
bool checked_add(int64_t a, int64_t b, int64_t* out);
// The element count, or false when the product overflows.
bool checked_numel(const Shape& shape, int64_t* out);

}  // namespace nebula
