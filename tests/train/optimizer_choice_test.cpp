// --optimizer's defaults (torch's where it has one, and 0.9 momentum for sgd),
// the optimizer each name makes, and the settings refused, each naming its option.
#include "train/optimizer_choice.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/random.h"
#include "engine/layers.h"

namespace nebula {
namespace {

TEST(OptimizerChoice, DefaultsAreTorchsWhereItHasOne) {
  const OptimizerChoice adamax = choose_optimizer("adamax", 1e-3f, {}, {}, false);
  EXPECT_EQ(adamax.weight_decay, 0.0f);
  EXPECT_EQ(adamax.momentum, 0.0f);
  EXPECT_EQ(choose_optimizer("adam", 1e-3f, {}, {}, false).weight_decay, 0.0f);
  EXPECT_EQ(choose_optimizer("adamw", 1e-3f, {}, {}, false).weight_decay, 0.01f);  // torch.optim.AdamW's
  EXPECT_EQ(choose_optimizer("adamw", 1e-3f, 0.0f, {}, false).weight_decay, 0.0f);
  const OptimizerChoice sgd = choose_optimizer("sgd", 0.1f, {}, {}, true);
  EXPECT_EQ(sgd.momentum, 0.9f);
  EXPECT_EQ(sgd.weight_decay, 0.0f);
  EXPECT_TRUE(sgd.nesterov);
  EXPECT_EQ(choose_optimizer("sgd", 0.1f, {}, 0.0f, false).momentum, 0.0f);  // plain SGD
}

TEST(OptimizerChoice, EachNameMakesItsOptimizer) {
  manual_seed(1);
  Dense layer(3, 2);
  for (const auto& [name, kind] : {std::pair<std::string, std::string>{"adamax", "Adamax"},
                                   {"adam", "Adam"},
                                   {"adamw", "AdamW"},
                                   {"sgd", "SGD"}}) {
    const OptimizerChoice choice = choose_optimizer(name, 2e-3f, {}, {}, false);
    std::unique_ptr<Optimizer> optimizer = make_optimizer(choice, single_group(layer));
    EXPECT_EQ(optimizer->kind(), kind);
    EXPECT_EQ(optimizer->lr(), 2e-3f);
  }
}

TEST(OptimizerChoice, BadSettingsAreRefusedNamingTheOption) {
  auto refused = [](const std::function<void()>& f, const std::string& message) {
    try {
      f();
      ADD_FAILURE() << "accepted; expected '" << message << "'";
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  };
  refused([] { choose_optimizer("lamb", 1e-3f, {}, {}, false); },
          "--optimizer: 'lamb' is not adamax, adam, adamw or sgd");
  refused([] { choose_optimizer("adam", 0.0f, {}, {}, false); }, "--lr must be positive, got 0");
  refused([] { choose_optimizer("adamw", 1e-3f, -0.5f, {}, false); }, "--weight-decay must be 0 or more, got -0.5");
  refused([] { choose_optimizer("adam", 1e-3f, {}, 0.9f, false); },
          "--momentum applies to --optimizer sgd alone, not adam");
  refused([] { choose_optimizer("adamw", 1e-3f, {}, {}, true); },
          "--nesterov applies to --optimizer sgd alone, not adamw");
  refused([] { choose_optimizer("sgd", 1e-3f, {}, -0.1f, false); },
          "--momentum must be at least 0 and below 1, got -0.1");
  refused([] { choose_optimizer("sgd", 1e-3f, {}, 0.0f, true); }, "--nesterov needs a --momentum above 0");
}

}  // namespace
}  // namespace nebula
