// Errors: library code throws nebula::Error with a message that names what failed
// and where; the apps catch at the top and print one line. Never exit().
#pragma once
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
}  // namespace detail

}  // namespace nebula

// NEBULA_CHECK(cond, parts...) throws Error("parts... (file:line)") when cond is false.
#define NEBULA_CHECK(cond, ...)                                                      \
  do {                                                                               \
    if (!(cond))                                                                     \
      throw ::nebula::Error(::nebula::detail::concat(__VA_ARGS__, " (", __FILE__, ":", \
                                                     __LINE__, ")"));                \
  } while (0)

#define NEBULA_FAIL(...) NEBULA_CHECK(false, __VA_ARGS__)
