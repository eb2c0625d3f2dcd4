// A flag of the form --name=N that the GPU benchmarks read themselves: it is
// taken out of argv before Google Benchmark, which would refuse it, sees it.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace nebula {

// Returns N (at least 1) for "--<name>=N", or fallback when absent.
inline int take_count_flag(int* argc, char** argv, const char* name, int fallback) {
  const size_t length = std::strlen(name);
  int value = fallback, kept = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp(argv[i], "--", 2) == 0 && std::strncmp(argv[i] + 2, name, length) == 0 &&
        argv[i][2 + length] == '=')
      value = std::max(1, std::atoi(argv[i] + 3 + length));
    else
      argv[kept++] = argv[i];
  }
  *argc = kept;
  return value;
}

}  // namespace nebula
