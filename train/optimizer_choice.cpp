#include "train/optimizer_choice.h"

#include <cmath>

#include "base/error.h"

namespace nebula {

OptimizerChoice choose_optimizer(const std::string& name, float lr, std::optional<float> weight_decay,
                                 std::optional<float> momentum, bool nesterov) {
  NEBULA_CHECK(name == "adamax" || name == "adam" || name == "adamw" || name == "sgd", "--optimizer: '", name,
               "' is not adamax, adam, adamw or sgd");
  NEBULA_CHECK(std::isfinite(lr) && lr > 0, "--lr must be positive, got ", lr);
  const bool sgd = name == "sgd";
  NEBULA_CHECK(sgd || !momentum, "--momentum applies to --optimizer sgd alone, not ", name);
  NEBULA_CHECK(sgd || !nesterov, "--nesterov applies to --optimizer sgd alone, not ", name);
  OptimizerChoice c;
  c.name = name;
  c.lr = lr;
  c.weight_decay = weight_decay.value_or(name == "adamw" ? 0.01f : 0.0f);
  NEBULA_CHECK(std::isfinite(c.weight_decay) && c.weight_decay >= 0, "--weight-decay must be 0 or more, got ",
               c.weight_decay);
  c.momentum = sgd ? momentum.value_or(0.9f) : 0.0f;
  NEBULA_CHECK(std::isfinite(c.momentum) && c.momentum >= 0 && c.momentum < 1,
               "--momentum must be at least 0 and below 1, got ", c.momentum);
  NEBULA_CHECK(!nesterov || c.momentum > 0, "--nesterov needs a --momentum above 0");
  c.nesterov = nesterov;
  return c;
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerChoice& c, std::vector<ParameterGroup> groups) {
  if (c.name == "adam") {
    AdamParams p;
    p.lr = c.lr, p.weight_decay = c.weight_decay;
    return std::make_unique<Adam>(std::move(groups), p);
  }
  if (c.name == "adamw") {
    AdamParams p;
    p.lr = c.lr, p.weight_decay = c.weight_decay;
    return std::make_unique<AdamW>(std::move(groups), p);
  }
  if (c.name == "sgd") {
    SgdParams p;
    p.lr = c.lr, p.momentum = c.momentum, p.weight_decay = c.weight_decay, p.nesterov = c.nesterov;
    return std::make_unique<Sgd>(std::move(groups), p);
  }
  AdamaxParams p;
  p.lr = c.lr, p.weight_decay = c.weight_decay;
  return std::make_unique<Adamax>(std::move(groups), p);
}

}  // namespace nebula
