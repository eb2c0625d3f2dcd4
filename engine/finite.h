// Weights read from a file are checked to be finite: a model holding Inf or NaN
// predicts NaN everywhere, so such a file is refused naming the tensor.
#pragma once
#include <string>

#include "engine/tensor.h"

namespace nebula {

// The first element of a host tensor that is not finite, as "element 5 is inf";
// "" when every element is finite.
std::string first_non_finite(const Tensor& t);

}  // namespace nebula
