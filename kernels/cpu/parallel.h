// Work splitting for the CPU kernels. [0, n) is cut into at most thread_count()
// consecutive ranges that depend only on n, the grain and the thread count, and
// each range is a plain serial loop, so a kernel's result never depends on how
// its ranges were scheduled. Threads are started per call: a training step makes
// only tens of calls, each milliseconds long, so a pool would save little.
#pragma once
#include <cstdint>
#include <functional>

namespace nebula::cpu {

// Elements per range for cheap elementwise loops: ~1 MB of floats, far more work
// than starting a thread costs.
constexpr int64_t kElementwiseGrain = int64_t(1) << 18;

// NEBULA_CPU_THREADS if set, else the hardware's thread count; at least 1.
int thread_count();

// How many ranges parallel_for will use for n items of at least `grain` each.
int range_count(int64_t n, int64_t grain);

// Calls body(begin, end) on range_count(n, grain) disjoint ranges covering
// [0, n), each on its own thread (the first on the caller's). The first
// exception thrown is rethrown after all ranges finish.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& body);

}  // namespace nebula::cpu
