// Keras's default initialisers, drawn from the engine's generator.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace nebula {

// U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)); for a conv weight
// [K, C, R, S], fan_in = C R S and fan_out = K R S; for a dense [out, in], in and out.
void glorot_uniform(Tensor& weight, int64_t fan_in, int64_t fan_out);

}  // namespace nebula
