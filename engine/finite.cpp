#include "engine/finite.h"

#include <cmath>

#include "base/error.h"

namespace nebula {

std::string first_non_finite(const Tensor& t) {
  const float* values = t.data();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(values[i])) return detail::concat("element ", i, " is ", values[i]);
  return "";
}

}  // namespace nebula
