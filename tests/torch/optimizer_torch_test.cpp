// Adamax against ten steps of torch.optim.Adamax (PyTorch's rule: eps inside the
// max) and of Keras's rule (the study's) computed by hand in float32, on two raw
// parameter tensors with a given gradient sequence whose scale jumps around so
// that exp_inf takes both sides of its max. Then Adam with L2 weight decay,
// AdamW (decoupled decay) and SGD with momentum and L2 decay, plain and
// Nesterov, against ten steps of torch.optim's own, on the same kind of tensors.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

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

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(std::vector<ParameterGroup>)>;

// Steps the optimizer `make` gives through the fixture's gradients, checking
// the parameters after each step and the state at the end.
void check_steps(const std::string& name, const MakeOptimizer& make) {
  const SafetensorsFile& f = fixture(name);
  const int count = meta_int(f, "params"), steps = meta_int(f, "steps");

  ParameterGroup group;
  for (int i = 0; i < count; ++i) {
    const std::string p = "p" + std::to_string(i);
    group.parameters.push_back({p, Variable(f.at(p + ".initial").clone(), true)});
  }
  std::unique_ptr<Optimizer> made = make({group});
  Optimizer& optimizer = *made;
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

void check_adamax(const std::string& name, bool eps_inside_max) {
  const SafetensorsFile& f = fixture(name);
  AdamaxParams params;
  params.lr = meta_float(f, "lr");
  params.beta1 = meta_float(f, "beta1");
  params.beta2 = meta_float(f, "beta2");
  params.eps = meta_float(f, "eps");
  params.eps_inside_max = eps_inside_max;
  check_steps(name, [&](std::vector<ParameterGroup> groups) { return std::make_unique<Adamax>(groups, params); });
}

TEST(AdamaxTorch, TenSteps) { check_adamax("torch_adamax", true); }
TEST(AdamaxKeras, TenSteps) { check_adamax("keras_adamax", false); }

// torch's defaults for betas and eps, as AdamParams's.
AdamParams adam_params(const SafetensorsFile& f) {
  AdamParams params;
  params.lr = meta_float(f, "lr");
  params.weight_decay = meta_float(f, "weight_decay");
  return params;
}

TEST(AdamTorch, TenStepsWithL2WeightDecay) {
  const AdamParams params = adam_params(fixture("torch_adam"));
  check_steps("torch_adam", [&](std::vector<ParameterGroup> groups) { return std::make_unique<Adam>(groups, params); });
}

TEST(AdamWTorch, TenStepsWithDecoupledWeightDecay) {
  const AdamParams params = adam_params(fixture("torch_adamw"));
  check_steps("torch_adamw",
              [&](std::vector<ParameterGroup> groups) { return std::make_unique<AdamW>(groups, params); });
}

void check_sgd(const std::string& name) {
  const SafetensorsFile& f = fixture(name);
  SgdParams params;
  params.lr = meta_float(f, "lr");
  params.momentum = meta_float(f, "momentum");
  params.weight_decay = meta_float(f, "weight_decay");
  params.nesterov = meta_int(f, "nesterov") == 1;
  check_steps(name, [&](std::vector<ParameterGroup> groups) { return std::make_unique<Sgd>(groups, params); });
}

TEST(SgdTorch, TenStepsWithMomentumAndWeightDecay) { check_sgd("torch_sgd"); }
TEST(SgdTorch, TenStepsWithNesterovMomentumAndWeightDecay) { check_sgd("torch_sgd_nesterov"); }

}  // namespace
}  // namespace nebula
