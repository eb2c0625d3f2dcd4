// The study's cnn1, scaled down (filters and hidden units / 8, 62x62 input), end
// to end against PyTorch: two training steps of forward, MSE, backward and
// Adamax (torch's rule), with dropout on. The fixture applies Nebula's Philox
// mask in torch (see dropout_torch_test.cpp for why that is fair), so outputs,
// losses, every parameter gradient and the final parameters must all agree.
// Nebula's Sequential names its parameters as torch's nn.Sequential does; the
// test loads the fixture by those names.
#include <gtest/gtest.h>

#include <set>

#include "base/random.h"
#include "engine/layers.h"
#include "engine/ops.h"
#include "engine/optimizer.h"
#include "engine/sequential.h"
#include "tests/torch/torch_fixture.h"

namespace nebula {
namespace {

using torch_parity::fixture;
using torch_parity::meta_float;
using torch_parity::meta_int;
using torch_parity::variable;

std::unique_ptr<Sequential> scaled_cnn1(const SafetensorsFile& f) {
  auto model = std::make_unique<Sequential>();
  int in = 3, size = meta_int(f, "size");
  std::string filters = f.meta("filters");
  for (size_t start = 0; start < filters.size();) {
    size_t comma = filters.find(',', start);
    int out = std::stoi(filters.substr(start, comma - start));
    model->emplace<Conv2d>(Conv2dOptions{in, out, 3});
    model->emplace<ReLU>();
    model->emplace<MaxPool2d>(2);
    in = out;
    size = (size - 2) / 2;
    start = comma == std::string::npos ? filters.size() : comma + 1;
  }
  model->emplace<Flatten>();
  // The fixture's mask is Philox keyed by the Dropout's seed, which is the
  // generator's first draw after this manual_seed.
  manual_seed(std::stoull(f.meta("dropout_seed_key")));
  model->emplace<Dropout>(meta_float(f, "dropout_rate"));
  const int hidden = meta_int(f, "hidden");
  model->emplace<Dense>(in * size * size, hidden);
  model->emplace<ReLU>();
  model->emplace<Dense>(hidden, meta_int(f, "outputs"));
  model->emplace<Sigmoid>();
  return model;
}

TEST(Cnn1Torch, TwoTrainingStepsWithDropout) {
  const SafetensorsFile& f = fixture("torch_cnn1");
  std::unique_ptr<Sequential> model = scaled_cnn1(f);
  model->train();

  std::set<std::string> torch_names;
  for (const SafetensorsEntry& e : f.entries())
    if (e.name.rfind("param.", 0) == 0) torch_names.insert(e.name.substr(6));
  std::set<std::string> nebula_names;
  for (NamedParameter& p : model->parameters()) {
    nebula_names.insert(p.name);
    ASSERT_TRUE(f.contains("param." + p.name)) << "torch has no parameter named " << p.name;
    p.variable.value().copy_from(f.at("param." + p.name));
  }
  ASSERT_EQ(nebula_names, torch_names);

  AdamaxParams params;
  params.lr = meta_float(f, "lr");
  params.eps = meta_float(f, "eps");
  params.eps_inside_max = true;
  Adamax optimizer(single_group(*model), params);
  Variable x = variable(f, "x"), target = variable(f, "target");
  for (int k = 0; k < meta_int(f, "steps"); ++k) {
    const std::string step = "step" + std::to_string(k) + ".";
    SCOPED_TRACE(step);
    optimizer.zero_grad();
    Variable y = (*model)(x);
    Variable loss = mse_loss(y, target);
    EXPECT_MATCHES(y.value(), f.at(step + "y"));
    EXPECT_MATCHES(loss.value(), f.at(step + "loss"));
    backward(loss);
    for (NamedParameter& p : model->parameters()) {
      SCOPED_TRACE(p.name);
      EXPECT_MATCHES(p.variable.grad(), f.at(step + "grad." + p.name));
    }
    optimizer.step();
  }
  for (NamedParameter& p : model->parameters()) {
    SCOPED_TRACE(p.name);
    EXPECT_MATCHES(p.variable.value(), f.at("final." + p.name));
  }
}

}  // namespace
}  // namespace nebula
