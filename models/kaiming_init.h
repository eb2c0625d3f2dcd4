// A model file's 'init kaiming' line: torchvision's ResNet initialisation in
// place of Keras's Glorot, which every layer draws when it is made.
#pragma once
#include "engine/sequential.h"

namespace nebula {

// Redraws every parameter as torchvision's ResNet has it: each conv weight
// kaiming_normal_(mode='fan_out', nonlinearity='relu') and a conv bias 0; each
// dense layer nn.Linear's default, U(+-1/sqrt(in)) for weight and bias; batch
// norm weight 1 and bias 0. In the order of net.parameters(), from the engine's
// generator, so a seed gives the same weights every time.
void kaiming_init(Sequential& net);

}  // namespace nebula
