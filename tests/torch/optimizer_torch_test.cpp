// Adamax against ten steps of torch.optim.Adamax (PyTorch's rule: eps inside the
// max) and of Keras's rule (the study's) computed by hand in float32, on two raw
// parameter tensors with a given gradient sequence whose scale jumps around so
// that exp_inf takes both sides of its max.
#include <gtest/gtest.h>

#include "engine/optimizer.h"
#include "tests/torch/torch_fixture.h"

namespace nebula {
namespace {

using torch_parity::fixture;
using torch_parity::meta_float;
using torch_parity::meta_int;

// The displacement from the start: an update is ~lr, small next to the
// parameter, so comparing parameters alone would hide a wrong update.
Tensor minus(const Tensor& a, const Tensor& b) {
  std::vector<float> av = a.to_vector(), bv = b.to_vector();
  for (size_t i = 0; i < av.size(); ++i) av[i] -= bv[i];
  return Tensor::from_vector(a.shape(), av);
}

void check_adamax(const std::string& name, bool eps_inside_max) {
  const SafetensorsFile& f = fixture(name);
  AdamaxParams params;
  params.lr = meta_float(f, "lr");
  params.beta1 = meta_float(f, "beta1");
  params.beta2 = meta_float(f, "beta2");
  params.eps = meta_float(f, "eps");
  params.eps_inside_max = eps_inside_max;
  const int count = meta_int(f, "params"), steps = meta_int(f, "steps");

  ParameterGroup group;
  for (int i = 0; i < count; ++i) {
    const std::string p = "p" + std::to_string(i);
    group.parameters.push_back({p, Variable(f.at(p + ".initial").clone(), true)});
  }
  Adamax optimizer({group}, params);
  for (int k = 0; k < steps; ++k) {
    SCOPED_TRACE("step " + std::to_string(k + 1));
    optimizer.zero_grad();
    for (int i = 0; i < count; ++i) {
      const std::string p = "p" + std::to_string(i);
      group.parameters[size_t(i)].variable.accumulate_grad(f.at(p + ".grad." + std::to_string(k)).clone());
    }
    optimizer.step();
    for (int i = 0; i < count; ++i) {
      const std::string p = "p" + std::to_string(i);
      const Tensor& value = group.parameters[size_t(i)].variable.value();
      const Tensor& expected = f.at(p + ".after." + std::to_string(k));
      EXPECT_MATCHES(value, expected);
      EXPECT_MATCHES(minus(value, f.at(p + ".initial")), minus(expected, f.at(p + ".initial")));
    }
  }
  EXPECT_EQ(optimizer.steps(), steps);
  for (const NamedBuffer& state : optimizer.state()) {
    SCOPED_TRACE(state.name);
    EXPECT_MATCHES(state.tensor, f.at(state.name));
  }
}

TEST(AdamaxTorch, TenSteps) { check_adamax("torch_adamax", true); }
TEST(AdamaxKeras, TenSteps) { check_adamax("keras_adamax", false); }

}  // namespace
}  // namespace nebula
