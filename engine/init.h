// Keras's default initialisers and PyTorch's for the ResNets, drawn from the
// engine's generator.
#pragma once
#include <cstdint>

#include "engine/tensor.h"

namespace nebula {

// U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)); for a conv weight
// [K, C, R, S], fan_in = C R S and fan_out = K R S; for a dense [out, in], in and out.
void glorot_uniform(Tensor& weight, int64_t fan_in, int64_t fan_out);

// PyTorch's kaiming_normal_(mode='fan_out', nonlinearity='relu'), as
// torchvision's ResNet initialises every convolution: N(0, 2 / fan_out), with
// fan_out = K R S for a conv weight [K, C, R, S]. The normal draws are
// Box-Muller's, from the engine's generator (not torch's: same law, other values).
void kaiming_normal_fan_out(Tensor& weight, int64_t fan_out);

// PyTorch's nn.Linear default (kaiming_uniform_ with a = sqrt(5)): weight and
// bias alike U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias may be null.
void torch_linear_default(Tensor& weight, Tensor* bias, int64_t fan_in);

}  // namespace nebula
