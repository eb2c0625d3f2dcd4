// The optimizer's learning rate can change between steps (a schedule) and each
// group's rate is its own or the optimizer's; the set of parameters that train,
// which a captured CUDA step bakes in, is read in the optimizer's order. AdamW
// without decay is Adam; with it, it differs from Adam's L2 decay. Nesterov's
// SGD differs from plain momentum and needs a momentum.
#include "engine/optimizer.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "base/random.h"
#include "engine/layers.h"
#include "engine/sequential.h"
#include "engine/training_step.h"

namespace nebula {
namespace {

std::unique_ptr<Sequential> small_net() {
  manual_seed(4);
  auto net = std::make_unique<Sequential>();
  net->emplace<Dense>(5, 3);
  net->emplace<Sigmoid>();
  return net;
}

// Parameters after `steps` eager steps, with the learning rate set before each by lr_of(step).
template <class Rate>
std::vector<float> train(Rate lr_of, int steps) {
  auto net = small_net();
  Adamax optimizer(single_group(*net));
  Tensor x = Tensor::full({4, 5}, 0.3f), y = Tensor::full({4, 3}, 0.9f);
  for (int s = 0; s < steps; ++s) {
    optimizer.set_lr(lr_of(s));
    training_step(*net, optimizer, x, y);
  }
  return net->parameters().front().variable.value().to_vector();
}

TEST(Optimizer, ALearningRateSetBetweenStepsIsUsedFromTheNextStep) {
  const auto constant = train([](int) { return 1e-3f; }, 4);
  const auto scheduled = train([](int s) { return s < 2 ? 1e-3f : 1e-2f; }, 4);
  const auto scheduled_again = train([](int s) { return s < 2 ? 1e-3f : 1e-2f; }, 4);
  EXPECT_NE(constant, scheduled);
  EXPECT_EQ(scheduled, scheduled_again);
  // The same two steps at the old rate leave the same weights: the change starts at step 3.
  EXPECT_EQ(train([](int) { return 1e-3f; }, 2), train([](int s) { return s < 2 ? 1e-3f : 5.0f; }, 2));
}

TEST(Optimizer, AGroupKeepsItsOwnRateAndTheOthersFollowTheOptimizers) {
  auto net = small_net();
  std::vector<NamedParameter> params = net->parameters();
  Adamax optimizer({ParameterGroup{{params[0]}, 5e-4f}, ParameterGroup{{params[1]}, 0.0f}}, AdamaxParams{2e-3f});
  EXPECT_EQ(optimizer.group_lr(0), 5e-4f);
  EXPECT_EQ(optimizer.group_lr(1), 2e-3f);
  optimizer.set_lr(1e-4f);
  EXPECT_EQ(optimizer.lr(), 1e-4f);
  EXPECT_EQ(optimizer.group_lr(0), 5e-4f);
  EXPECT_EQ(optimizer.group_lr(1), 1e-4f);
  EXPECT_THROW(optimizer.set_lr(0.0f), Error);
  EXPECT_THROW(optimizer.set_lr(-1.0f), Error);
}

TEST(Optimizer, SetGroupLrGivesAGroupItsOwnRate) {
  auto net = small_net();
  std::vector<NamedParameter> params = net->parameters();
  Adamax optimizer({ParameterGroup{{params[0]}, 0.0f}, ParameterGroup{{params[1]}, 0.0f}}, AdamaxParams{2e-3f});
  optimizer.set_group_lr(0, 4e-4f);
  EXPECT_EQ(optimizer.group_lr(0), 4e-4f);
  EXPECT_EQ(optimizer.group_lr(1), 2e-3f);
  EXPECT_THROW(optimizer.set_group_lr(0, 0.0f), Error);
  EXPECT_THROW(optimizer.set_group_lr(2, 1e-3f), std::out_of_range);
}

// The weights after three steps of the optimizer `make` builds.
template <class Make>
std::vector<float> three_steps(Make make) {
  auto net = small_net();
  std::unique_ptr<Optimizer> optimizer = make(single_group(*net));
  Tensor x = Tensor::full({4, 5}, 0.3f), y = Tensor::full({4, 3}, 0.9f);
  for (int s = 0; s < 3; ++s) training_step(*net, *optimizer, x, y);
  return net->parameters().front().variable.value().to_vector();
}

TEST(AdamW, WithoutDecayIsAdamAndWithDecayIsNotAdamsL2) {
  AdamParams none, decay;
  decay.weight_decay = 0.1f;
  auto adam = [](AdamParams p) { return [p](auto groups) { return std::make_unique<Adam>(groups, p); }; };
  auto adamw = [](AdamParams p) { return [p](auto groups) { return std::make_unique<AdamW>(groups, p); }; };
  EXPECT_EQ(three_steps(adamw(none)), three_steps(adam(none)));
  EXPECT_NE(three_steps(adamw(decay)), three_steps(adam(decay)));
  EXPECT_NE(three_steps(adamw(decay)), three_steps(adamw(none)));
  EXPECT_STREQ(AdamW(single_group(*small_net())).kind(), "AdamW");
}

TEST(Sgd, NesterovDiffersFromPlainMomentumAndNeedsAMomentum) {
  SgdParams plain, nesterov;
  plain.momentum = nesterov.momentum = 0.9f;
  nesterov.nesterov = true;
  auto sgd = [](SgdParams p) { return [p](auto groups) { return std::make_unique<Sgd>(groups, p); }; };
  EXPECT_NE(three_steps(sgd(nesterov)), three_steps(sgd(plain)));
  SgdParams no_momentum;
  no_momentum.nesterov = true;
  EXPECT_THROW(Sgd(single_group(*small_net()), no_momentum), Error);
}

TEST(TrainableParameters, FollowRequiresGradInTheOptimizersOrder) {
  auto net = small_net();
  Adamax optimizer(single_group(*net));
  EXPECT_EQ(trainable_parameters(optimizer), (std::vector<bool>{true, true}));
  net->parameters()[1].variable.set_requires_grad(false);
  EXPECT_EQ(trainable_parameters(optimizer), (std::vector<bool>{true, false}));
}

}  // namespace
}  // namespace nebula
