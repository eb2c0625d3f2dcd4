#include "base/environment.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "base/error.h"

namespace nebula {

int64_t positive_whole_from_environment(const char* variable, int64_t fallback, const char* what) {
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return fallback;
  int64_t value = 0;
  const char* end = text + std::strlen(text);
  auto [stop, error] = std::from_chars(text, end, value);
  NEBULA_CHECK(error == std::errc() && stop == end && value > 0, variable, ": '", text,
               "' is not a positive whole number (it sets ", what, ")");
  return value;
}

}  // namespace nebula
