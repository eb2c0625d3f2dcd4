// Counter-based random numbers for the data pipeline: the draws for one
// (seed, epoch, sample) are a pure function of those three, so they do not
// depend on which thread handles the sample or in which order.
#pragma once
#include <cstdint>

#include "base/philox.h"

namespace nebula {

class CounterRandom {
 public:
  CounterRandom(uint64_t seed, uint64_t stream, uint64_t item)
      : key_(seed ^ (stream + 1) * 0x9E3779B97F4A7C15ull), item_(item) {}

  uint32_t next_u32() {
    if (used_ == 4) {
      block_ = philox4x32((item_ << 24) + blocks_++, key_);
      used_ = 0;
    }
    return block_.v[used_++];
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() {
    uint64_t bits = (uint64_t(next_u32()) << 21) ^ (next_u32() >> 11);
    return double(bits) * (1.0 / 9007199254740992.0);
  }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n); the bias of a 64-bit modulo is negligible for our n.
  uint64_t below(uint64_t n) {
    uint64_t bits = (uint64_t(next_u32()) << 32) | next_u32();
    return bits % n;
  }

 private:
  uint64_t key_;
  uint64_t item_;
  uint64_t blocks_ = 0;
  Philox4 block_{};
  int used_ = 4;
};

}  // namespace nebula
