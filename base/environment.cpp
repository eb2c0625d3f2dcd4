#include "base/environment.h"

#include <cstdlib>
#include <limits>

#include "base/error.h"
#include "base/parse_number.h"

namespace nebula {

int64_t positive_whole_from_environment(const char* variable, int64_t fallback, const char* what) {
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return fallback;
  int64_t value = 0;
  NEBULA_CHECK(parse_whole_number<int64_t>(text, 1, std::numeric_limits<int64_t>::max(), &value), variable, ": '", text,
               "' is not a positive whole number (it sets ", what, ")");
  return value;
}

}  // namespace nebula
