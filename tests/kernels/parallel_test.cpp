// The CPU kernels' work splitting: ranges cover the work exactly once, small work
// stays on the calling thread, errors come back to the caller, and every threaded
// kernel gives bitwise the same result on 1 and on 3 threads.
#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/activation.h"
#include "kernels/add.h"
#include "kernels/batchnorm2d.h"
#include "kernels/conv2d.h"
#include "kernels/dropout.h"
#include "kernels/global_avg_pool.h"
#include "kernels/maxpool2d.h"
#include "kernels/optimizer_update.h"
#include "tests/kernels/gradient_checker.h"

namespace nebula {
namespace {

// Sets NEBULA_CPU_THREADS for one scope and restores what was there.
class ThreadsOverride {
 public:
  explicit ThreadsOverride(const char* threads) {
    const char* old = std::getenv("NEBULA_CPU_THREADS");
    had_ = old != nullptr;
    if (had_) saved_ = old;
    setenv("NEBULA_CPU_THREADS", threads, 1);
  }
  ~ThreadsOverride() {
    if (had_)
      setenv("NEBULA_CPU_THREADS", saved_.c_str(), 1);
    else
      unsetenv("NEBULA_CPU_THREADS");
  }

 private:
  bool had_ = false;
  std::string saved_;
};

TEST(ParallelFor, CoversEveryItemOnceInContiguousRanges) {
  ThreadsOverride threads("3");
  EXPECT_EQ(cpu::thread_count(), 3);
  EXPECT_EQ(cpu::range_count(1000, 1), 3);
  EXPECT_EQ(cpu::range_count(1000, 400), 3);
  EXPECT_EQ(cpu::range_count(1000, 600), 2);
  std::vector<std::atomic<int>> seen(1000);
  std::mutex m;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::vector<std::thread::id> ids;
  cpu::parallel_for(1000, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) ++seen[i];
    std::lock_guard<std::mutex> lock(m);
    ranges.emplace_back(begin, end);
    ids.push_back(std::this_thread::get_id());
  });
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(seen[i], 1) << i;
  ASSERT_EQ(ranges.size(), 3u);
  std::sort(ranges.begin(), ranges.end());
  EXPECT_EQ(ranges[0], (std::pair<int64_t, int64_t>{0, 333}));
  EXPECT_EQ(ranges[1], (std::pair<int64_t, int64_t>{333, 666}));
  EXPECT_EQ(ranges[2], (std::pair<int64_t, int64_t>{666, 1000}));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()) - ids.begin(), 3);
}

TEST(ParallelFor, SmallWorkStaysOnTheCaller) {
  ThreadsOverride threads("4");
  int calls = 0;
  std::thread::id where;
  cpu::parallel_for(100, 1000, [&](int64_t begin, int64_t end) {
    ++calls;
    where = std::this_thread::get_id();
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 100);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(where, std::this_thread::get_id());
  cpu::parallel_for(0, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 1);  // no work, no call
}

TEST(ParallelFor, RethrowsAWorkersException) {
  ThreadsOverride threads("3");
  EXPECT_THROW(cpu::parallel_for(30, 1,
                                 [](int64_t begin, int64_t) {
                                   if (begin > 0) throw std::runtime_error("range failed");
                                 }),
               std::runtime_error);
}

// Runs f once on 1 thread and once on 3, returning both results.
template <typename F>
std::pair<std::vector<float>, std::vector<float>> on_1_and_3_threads(F f) {
  std::vector<float> one, three;
  {
    ThreadsOverride threads("1");
    one = f();
  }
  {
    ThreadsOverride threads("3");
    three = f();
  }
  return {one, three};
}

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Sizes are past three grains, so three threads really split the work.
constexpr int64_t kBig = 3 * cpu::kElementwiseGrain + 1001;

TEST(ParallelKernels, ElementwiseIndependentOfThreadCount) {
  const std::vector<float> x = random_floats(kBig, 1), g = random_floats(kBig, 2);
  auto [a, b] = on_1_and_3_threads([&] {
    std::vector<float> y(kBig), dx(kBig), s(kBig), ds(kBig), sum(kBig), d(kBig), acc = g;
    ref::relu_forward<float>(kBig, x.data(), y.data());
    ref::relu_backward<float>(kBig, y.data(), g.data(), dx.data());
    ref::sigmoid_forward<float>(kBig, x.data(), s.data());
    ref::sigmoid_backward<float>(kBig, s.data(), g.data(), ds.data());
    ref::add_forward<float>(kBig, x.data(), g.data(), sum.data());
    ref::accumulate<float>(kBig, x.data(), acc.data());
    ref::dropout_forward<float>(kBig, 0.3f, 5, 17, x.data(), d.data());
    std::vector<float> all;
    for (auto* v : {&y, &dx, &s, &ds, &sum, &acc, &d}) all.insert(all.end(), v->begin(), v->end());
    return all;
  });
  EXPECT_TRUE(a == b);
}

TEST(ParallelKernels, PoolingAndBatchNormIndependentOfThreadCount) {
  const Pool2dParams pool = pool2d_params(6, 8, 130, 129, 3, 2, 1);  // ~800k inputs
  const int64_t nx = int64_t(6) * 8 * 130 * 129, ny = int64_t(6) * 8 * pool.out_h * pool.out_w;
  const std::vector<float> x = random_floats(nx, 3), dy = random_floats(ny, 4), dyx = random_floats(nx, 5);
  BatchNormParams bn;
  bn.batch = 6, bn.channels = 8, bn.spatial = 130 * 129;
  const std::vector<float> gamma = random_floats(8, 6), beta = random_floats(8, 7);
  auto [a, b] = on_1_and_3_threads([&] {
    std::vector<float> y(ny), dx(nx), gap(48), dgap(nx);
    ref::maxpool2d_forward(pool, x.data(), y.data());
    ref::maxpool2d_backward(pool, x.data(), dy.data(), dx.data());
    ref::global_avg_pool_forward(48, 130 * 129, x.data(), gap.data());
    ref::global_avg_pool_backward(48, 130 * 129, gap.data(), dgap.data());
    std::vector<float> by(nx), mean(8), invstd(8), rm(8, 0.0f), rv(8, 1.0f), bdx(nx), dgamma(8), dbeta(8);
    ref::batchnorm2d_forward_train(bn, x.data(), gamma.data(), beta.data(), by.data(), mean.data(), invstd.data(),
                                   rm.data(), rv.data());
    ref::batchnorm2d_backward(bn, true, x.data(), dyx.data(), gamma.data(), mean.data(), invstd.data(), bdx.data(),
                              dgamma.data(), dbeta.data());
    std::vector<float> all;
    for (auto* v : {&y, &dx, &gap, &dgap, &by, &mean, &invstd, &rm, &rv, &bdx, &dgamma, &dbeta})
      all.insert(all.end(), v->begin(), v->end());
    return all;
  });
  EXPECT_TRUE(a == b);
}

TEST(ParallelKernels, OptimizersAndConvIndependentOfThreadCount) {
  const std::vector<float> g = random_floats(kBig, 8), w0 = random_floats(kBig, 9);
  const Conv2dParams p = conv2d_params(9, 3, 11, 10, 5, 3, 2, Padding::Same);
  const std::vector<float> x = random_floats(9 * 3 * 11 * 10, 10), cw = random_floats(5 * 3 * 9, 11);
  const std::vector<float> cdy = random_floats(9 * 5 * p.out_h * p.out_w, 12), cb = random_floats(5, 13);
  auto [a, b] = on_1_and_3_threads([&] {
    std::vector<float> w1 = w0, m(kBig), u(kBig), w2 = w0, m2(kBig), v2(kBig), w3 = w0, vel(kBig);
    ref::adamax_update(AdamaxParams{}, 3, kBig, w1.data(), g.data(), m.data(), u.data());
    ref::adam_update(AdamParams{}, 3, kBig, w2.data(), g.data(), m2.data(), v2.data());
    SgdParams sgd;
    sgd.momentum = 0.9f;
    ref::sgd_update(sgd, kBig, w3.data(), g.data(), vel.data());
    std::vector<float> y(cdy.size()), dx(x.size()), dw(cw.size()), db(5);
    cpu::conv2d_forward(p, x.data(), cw.data(), cb.data(), y.data());
    cpu::conv2d_backward_data(p, cdy.data(), cw.data(), dx.data());
    cpu::conv2d_backward_filter(p, x.data(), cdy.data(), dw.data(), db.data());
    std::vector<float> all;
    for (auto* v : {&w1, &m, &u, &w2, &m2, &v2, &w3, &vel, &y, &dx, &dw, &db})
      all.insert(all.end(), v->begin(), v->end());
    return all;
  });
  EXPECT_TRUE(a == b);
}

}  // namespace
}  // namespace nebula
