#include "engine/shape.h"

#include "base/error.h"

namespace nebula {

bool checked_mul(int64_t a, int64_t b, int64_t* out) {
  int64_t result = 0;
  if (__builtin_mul_overflow(a, b, &result)) return false;
  *out = result;
  return true;
}

bool checked_add(int64_t a, int64_t b, int64_t* out) {
  int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) return false;
  *out = result;
  return true;
}

bool checked_numel(const Shape& shape, int64_t* out) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (!checked_mul(n, d, &n)) return false;
  *out = n;
  return true;
}

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  NEBULA_CHECK(checked_numel(shape, &n), "shape ", to_string(shape), " has more elements than 64 bits can count");
  return n;
}

std::string to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace nebula
