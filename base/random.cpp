#include "base/random.h"

namespace nebula {

uint64_t Generator::next_u64() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Generator::uniform() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

float Generator::uniform(float low, float high) { return low + static_cast<float>(uniform()) * (high - low); }

Generator& global_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) { global_generator() = Generator(seed); }

}  // namespace nebula
