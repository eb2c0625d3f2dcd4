// The tape: order, accumulation where a value feeds two ops, no recording
// without grad, and a whole composed network gradient-checked end to end
// through the engine (float, so with a float-sized step and tolerance; the
// per-op checks in double live in tests/kernels).
#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "base/random.h"
#include "engine/autograd.h"
#include "engine/layers.h"
#include "engine/ops.h"
#include "engine/sequential.h"

namespace nebula {
namespace {

Tensor random_tensor(Shape shape, Generator& g, float low = -1.0f, float high = 1.0f) {
  std::vector<float> v(numel(shape));
  for (float& x : v) x = g.uniform(low, high);
  return Tensor::from_vector(shape, v);
}

TEST(Autograd, ValueUsedTwiceAccumulatesBothPaths) {
  // y = relu(x) + sigmoid(x): dy/dx = [x > 0] + s(x)(1 - s(x)).
  Variable x(Tensor::from_vector({4}, {-1.5f, -0.2f, 0.3f, 2.0f}), true);
  Variable y = add(relu(x), sigmoid(x));
  Variable loss = mse_loss(y, Variable(Tensor::zeros({4})));
  backward(loss);
  std::vector<float> xv = x.value().to_vector(), yv = y.value().to_vector(), g = x.grad().to_vector();
  for (int i = 0; i < 4; ++i) {
    float s = 1.0f / (1.0f + std::exp(-xv[i]));
    float expected = 2.0f * yv[i] / 4.0f * ((xv[i] > 0 ? 1.0f : 0.0f) + s * (1 - s));
    EXPECT_NEAR(g[i], expected, 1e-6f) << "element " << i;
  }
  EXPECT_EQ(tape_size(), 0u);
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Variable x(Tensor::full({3}, 1.0f), true);
  {
    NoGradGuard guard;
    Variable y = relu(x);
    EXPECT_FALSE(y.requires_grad());
  }
  EXPECT_EQ(tape_size(), 0u);
  Variable y = relu(x);
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(tape_size(), 1u);
  clear_tape();
}

TEST(Autograd, BackwardNeedsAScalarThatRequiresGrad) {
  Variable x(Tensor::full({3}, 1.0f), true);
  Variable y = relu(x);
  EXPECT_THROW(backward(y), Error);
  clear_tape();
  Variable constant(Tensor::full({1}, 1.0f));
  EXPECT_THROW(backward(constant), Error);
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCallsUntilZeroed) {
  Variable x(Tensor::from_vector({2}, {0.5f, -0.5f}), true);
  Variable target(Tensor::zeros({2}));
  for (int i = 0; i < 2; ++i) {
    Variable loss = mse_loss(x, target);
    backward(loss);
  }
  // d/dx mean(x^2) = x, twice.
  EXPECT_FLOAT_EQ(x.grad().to_vector()[0], 1.0f);
  EXPECT_FLOAT_EQ(x.grad().to_vector()[1], -1.0f);
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

// A network with every layer kind, gradient-checked through the engine.
struct SmallNet {
  Sequential net;
  SmallNet() {
    manual_seed(7);
    net.emplace<Conv2d>(Conv2dOptions{2, 3, 3, 1, Padding::Same});
    net.emplace<BatchNorm2d>(3);
    net.emplace<ReLU>();
    auto body = std::make_unique<Sequential>();
    body->emplace<Conv2d>(Conv2dOptions{3, 3, 3, 1, Padding::Same});
    net.add(std::make_unique<Residual>(std::move(body)));
    net.emplace<MaxPool2d>(2);
    net.emplace<Conv2d>(Conv2dOptions{3, 4, 3, 2, Padding::Valid, 1});
    net.emplace<Flatten>();
    net.emplace<Dropout>(0.25f);
    net.emplace<Dense>(4 * 2 * 2, 3);
    net.emplace<Sigmoid>();
  }
};

TEST(Autograd, WholeNetworkGradMatchesFiniteDifferences) {
  SmallNet model;
  Generator g(11);
  Variable x(random_tensor({2, 2, 7, 7}, g), true);
  Variable target(random_tensor({2, 3}, g, 0.0f, 1.0f));
  auto& dropout = static_cast<Dropout&>(model.net.at(7));

  // The loss with the dropout mask held fixed (same call index each time).
  auto loss_value = [&]() {
    NoGradGuard guard;
    dropout.calls = 0;
    return static_cast<double>(mse_loss(model.net(x), target).value().to_vector()[0]);
  };
  dropout.calls = 0;
  Variable loss = mse_loss(model.net(x), target);
  backward(loss);

  std::vector<std::pair<std::string, Variable>> checked = {{"input", x}};
  for (auto& p : model.net.parameters()) checked.push_back({p.name, p.variable});
  const float step = 2e-3f;
  for (auto& [name, v] : checked) {
    std::vector<float> analytic = v.grad().to_vector();
    float* data = v.value().data();
    for (int64_t i = 0; i < v.value().numel(); i += 3) {
      float saved = data[i];
      data[i] = saved + step;
      double plus = loss_value();
      data[i] = saved - step;
      double minus = loss_value();
      data[i] = saved;
      double numeric = (plus - minus) / (2 * step);
      double scale = std::max({std::fabs(numeric), std::fabs(double(analytic[i])), 1e-2});
      EXPECT_NEAR(analytic[i], numeric, 2e-2 * scale) << name << "[" << i << "]";
    }
  }
}

TEST(Autograd, SameSeedSameGradientsBitForBit) {
  auto run = []() {
    SmallNet model;
    Generator g(3);
    Variable x(random_tensor({2, 2, 7, 7}, g));
    Variable target(random_tensor({2, 3}, g, 0.0f, 1.0f));
    Variable loss = mse_loss(model.net(x), target);
    backward(loss);
    std::vector<float> all;
    for (auto& p : model.net.parameters()) {
      auto v = p.variable.grad().to_vector();
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace nebula
