#include "models/kaiming_init.h"

#include <map>
#include <string>

#include "engine/init.h"

namespace nebula {

namespace {

// "layer1.0.conv1.weight" -> ("layer1.0.conv1", "weight").
std::pair<std::string, std::string> split_name(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? std::make_pair(std::string(), name)
                                  : std::make_pair(name.substr(0, dot), name.substr(dot + 1));
}

}  // namespace

void kaiming_init(Sequential& net) {
  std::vector<NamedParameter> parameters = net.parameters();
  // A layer's weight tells what its bias is: the layers hold a weight and then a bias.
  std::map<std::string, Shape> weights;
  for (NamedParameter& p : parameters) {
    const auto [layer, kind] = split_name(p.name);
    Tensor& value = p.variable.value();
    const Shape shape = value.shape();
    if (kind == "weight") {
      weights[layer] = shape;
      if (shape.size() == 4) kaiming_normal_fan_out(value, shape[0] * shape[2] * shape[3]);
      if (shape.size() == 2) torch_linear_default(value, nullptr, shape[1]);
      if (shape.size() == 1) value.fill(1.0f);  // batch norm
    } else if (kind == "bias") {
      auto it = weights.find(layer);
      const bool dense = it != weights.end() && it->second.size() == 2;
      if (dense)
        torch_linear_default(value, nullptr, it->second[1]);
      else
        value.fill(0.0f);  // conv and batch norm
    }
  }
}

}  // namespace nebula
