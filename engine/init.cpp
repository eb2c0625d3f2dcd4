#include "engine/init.h"

#include <cmath>
#include <vector>

#include "base/random.h"

namespace nebula {

void glorot_uniform(Tensor& weight, int64_t fan_in, int64_t fan_out) {
  float limit = static_cast<float>(std::sqrt(6.0 / static_cast<double>(fan_in + fan_out)));
  std::vector<float> values(weight.numel());
  Generator& generator = global_generator();
  for (float& v : values) v = generator.uniform(-limit, limit);
  weight.copy_from(Tensor::from_vector(weight.shape(), values));
}

}  // namespace nebula
