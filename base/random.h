// One seed drives every random choice of the engine (weight initialisation,
// dropout streams), so a run with the same seed repeats bit for bit. The
// generator is SplitMix64: tiny, well mixed, and the same on every platform,
// unlike the standard library's distributions.
#pragma once
#include <cstdint>

namespace nebula {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : state_(seed) {}
  uint64_t next_u64();
  double uniform();  // [0, 1)
  float uniform(float low, float high);

 private:
  uint64_t state_;
};

// The engine's generator; manual_seed resets it.
Generator& global_generator();
void manual_seed(uint64_t seed);

}  // namespace nebula
