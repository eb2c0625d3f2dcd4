// Errors: library code throws nebula::Error with a message that names what failed
// and where; the apps catch at the top and print one line. Never exit().
// A user reads "file: problem"; the source location (file:line of the check) is
// appended only in a debug build or when NEBULA_DEBUG is set to anything but 0.
#pragma once
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>

namespace nebula {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// Whether errors carry the source location of the check that raised them.
inline bool show_source_locations() {
#ifndef NDEBUG
  return true;
#else
  static const bool enabled = [] {
    const char* value = std::getenv("NEBULA_DEBUG");
    return value != nullptr && *value != '\0' && std::string(value) != "0";
  }();
  return enabled;
#endif
}

// message, then " (file:line)" where source locations are shown.
inline std::string located(const std::string& message, const char* file, int line) {
  if (!show_source_locations()) return message;
  return concat(message, " (", file, ":", line, ")");
}
}  // namespace detail

}  // namespace nebula

// NEBULA_CHECK(cond, parts...) throws Error("parts...") when cond is false (with
// " (file:line)" in a debug build or under NEBULA_DEBUG).
#define NEBULA_CHECK(cond, ...)                                                                                    \
  do {                                                                                                             \
    if (!(cond))                                                                                                   \
      throw ::nebula::Error(::nebula::detail::located(::nebula::detail::concat(__VA_ARGS__), __FILE__, __LINE__)); \
  } while (0)

#define NEBULA_FAIL(...) NEBULA_CHECK(false, __VA_ARGS__)
