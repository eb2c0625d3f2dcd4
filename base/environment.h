// Limits a user can raise through an environment variable.
#pragma once
#include <cstdint>

namespace nebula {

// The variable's value as a positive whole number, or `fallback` when it is unset
// or empty. Anything else ("12abc", "0", "-3", "1e9") throws nebula::Error naming
// the variable and `what` it sets.
int64_t positive_whole_from_environment(const char* variable, int64_t fallback, const char* what);

}  // namespace nebula
