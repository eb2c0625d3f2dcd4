#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <thread>
#include <vector>

namespace nebula::cpu {

int thread_count() {
  int n = static_cast<int>(std::thread::hardware_concurrency());
  if (const char* env = std::getenv("NEBULA_CPU_THREADS")) n = std::atoi(env);
  return std::max(1, n);
}

int range_count(int64_t n, int64_t grain) {
  if (n <= 0) return 0;
  const int64_t by_grain = (n + std::max<int64_t>(grain, 1) - 1) / std::max<int64_t>(grain, 1);
  return static_cast<int>(std::min<int64_t>(thread_count(), by_grain));
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& body) {
  const int ranges = range_count(n, grain);
  if (ranges <= 1) {
    if (n > 0) body(0, n);
    return;
  }
  std::vector<std::exception_ptr> errors(ranges);
  auto run = [&](int r) {
    try {
      body(n * r / ranges, n * (r + 1) / ranges);
    } catch (...) {
      errors[r] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(ranges - 1);
  for (int r = 1; r < ranges; ++r) threads.emplace_back(run, r);
  run(0);
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace nebula::cpu
