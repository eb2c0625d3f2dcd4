// --optimizer and its settings, checked and with their defaults filled in, and
// the optimizer they make. Defaults, as torch.optim's where it has one:
//   adamax  Keras's rule (the study's); --weight-decay 0 (L2, added to g)
//   adam    torch.optim.Adam; --weight-decay 0 (L2)
//   adamw   torch.optim.AdamW; --weight-decay 0.01 (decoupled), torch's default
//   sgd     torch.optim.SGD with --momentum 0.9 (torch's is 0: give --momentum 0
//           for plain SGD) and optional --nesterov; --weight-decay 0 (L2)
// Every optimizer takes --lr (default 0.001); --momentum and --nesterov are sgd's alone.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/optimizer.h"

namespace nebula {

struct OptimizerChoice {
  std::string name = "adamax";  // adamax, adam, adamw or sgd
  float lr = 1e-3f;
  float weight_decay = 0.0f;
  float momentum = 0.0f;  // sgd's; 0 for the others
  bool nesterov = false;
};

// Checks the options (an unknown name, a negative decay, --momentum without
// sgd, ...; each error names its option) and fills in the defaults above.
OptimizerChoice choose_optimizer(const std::string& name, float lr, std::optional<float> weight_decay,
                                 std::optional<float> momentum, bool nesterov);

std::unique_ptr<Optimizer> make_optimizer(const OptimizerChoice& choice, std::vector<ParameterGroup> groups);

}  // namespace nebula
