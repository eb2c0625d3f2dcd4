// Numbers parsed whole: the whole text is the number, or it is refused ("16abc",
// " 16", "+16", "1e3" for an integer, "nan" and "inf" for a finite number).
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace nebula {

// True when `text` is an integer in [minimum, maximum]; *value is set only then.
template <class Integer>
bool parse_whole_number(std::string_view text, Integer minimum, Integer maximum, Integer* value) {
  Integer parsed{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return false;
  if (parsed < minimum || parsed > maximum) return false;
  *value = parsed;
  return true;
}

// True when `text` is a finite decimal number; *value is set only then.
inline bool parse_finite_number(std::string_view text, double* value) {
  double parsed = 0.0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(parsed)) return false;
  *value = parsed;
  return true;
}

}  // namespace nebula
