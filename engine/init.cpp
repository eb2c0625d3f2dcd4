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

namespace {
void fill_uniform(Tensor& tensor, float limit) {
  std::vector<float> values(tensor.numel());
  Generator& generator = global_generator();
  for (float& v : values) v = generator.uniform(-limit, limit);
  tensor.copy_from(Tensor::from_vector(tensor.shape(), values));
}
}  // namespace

void kaiming_normal_fan_out(Tensor& weight, int64_t fan_out) {
  const double stddev = std::sqrt(2.0 / static_cast<double>(fan_out));
  std::vector<float> values(weight.numel());
  Generator& generator = global_generator();
  for (size_t i = 0; i < values.size(); i += 2) {  // each Box-Muller pair gives two values
    const double radius = std::sqrt(-2.0 * std::log(1.0 - generator.uniform()));  // 1 - u in (0, 1]
    const double angle = 2.0 * M_PI * generator.uniform();
    values[i] = static_cast<float>(stddev * radius * std::cos(angle));
    if (i + 1 < values.size()) values[i + 1] = static_cast<float>(stddev * radius * std::sin(angle));
  }
  weight.copy_from(Tensor::from_vector(weight.shape(), values));
}

void torch_linear_default(Tensor& weight, Tensor* bias, int64_t fan_in) {
  const float limit = static_cast<float>(1.0 / std::sqrt(static_cast<double>(fan_in)));
  fill_uniform(weight, limit);
  if (bias) fill_uniform(*bias, limit);
}

}  // namespace nebula
