#include "engine/module.h"

#include "base/error.h"

namespace nebula {

Variable Module::operator()(const Variable& x) {
  NEBULA_CHECK(x.defined(), kind(), ": input is undefined");
  output_shape(x.shape());  // throws, naming the layer, on a shape it cannot take
  return forward(x);
}

void Module::to(Device device) {
  for (NamedParameter& p : parameters()) {
    p.variable.value().move_to(device);
    p.variable.grad().move_to(device);
  }
  for (NamedBuffer& b : buffers()) b.tensor.move_to(device);
}

void Module::train(bool on) {
  visit([on](Module& m) { m.training_ = on; });
}

std::vector<NamedParameter> Module::parameters() {
  std::vector<NamedParameter> out;
  collect_parameters("", out);
  return out;
}

std::vector<NamedBuffer> Module::buffers() {
  std::vector<NamedBuffer> out;
  collect_buffers("", out);
  return out;
}

int64_t Module::parameter_count() {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.variable.value().numel();
  return n;
}

}  // namespace nebula
