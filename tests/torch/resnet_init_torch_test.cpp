// 'init kaiming' against torchvision's own ResNet-18 initialisation
// (tools/make_torch_fixtures.py, torchvision_resnet18_init): every conv weight
// drawn from the same normal law (mean and standard deviation agree within
// five standard errors of the two samples), batch norm 1 and 0, and the dense
// head at nn.Linear's bound (torchvision's fc and our fc1 both take 512 inputs).
// The draws differ (torch's generator against Nebula's), so the laws are compared.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "base/random.h"
#include "models/model_file.h"
#include "tests/torch/torch_fixture.h"

namespace nebula {
namespace {

using torch_parity::fixture;

double meta_double(const SafetensorsFile& f, const std::string& key) {
  return std::strtod(f.meta(key).c_str(), nullptr);
}

struct Summary {
  double mean = 0, std = 0, max_abs = 0;
};

Summary summarise(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  Summary s;
  for (float x : v) s.mean += x, s.max_abs = std::max(s.max_abs, double(std::abs(x)));
  s.mean /= double(v.size());
  for (float x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / double(v.size() - 1));
  return s;
}

TEST(ResNetInitTorch, KaimingMatchesTorchvisionsResNet18) {
  const SafetensorsFile& f = fixture("torchvision_resnet18_init");
  manual_seed(11);
  Model model = load_model("resnet18", ModelOutputs(37));
  EXPECT_EQ(model.spec.init, "kaiming");
  int convs = 0, norms = 0;
  for (NamedParameter& p : model.network->parameters()) {
    if (p.name.rfind("fc", 0) == 0) continue;  // our head is not torchvision's
    SCOPED_TRACE(p.name);
    const Summary ours = summarise(p.variable.value());
    const double n = double(p.variable.value().numel());
    ASSERT_EQ(std::stoi(f.meta(p.name + ".count")), int(n));
    const double torch_mean = meta_double(f, p.name + ".mean"), torch_std = meta_double(f, p.name + ".std");
    if (p.variable.value().shape().size() == 4) {
      ++convs;
      const double expected =
          std::sqrt(2.0 / double(p.variable.shape()[0] * p.variable.shape()[2] * p.variable.shape()[3]));
      EXPECT_NEAR(ours.std, torch_std, 5.0 * expected / std::sqrt(n));
      EXPECT_NEAR(ours.mean, torch_mean, 5.0 * expected * std::sqrt(2.0 / n));
      EXPECT_NEAR(ours.std, expected, 5.0 * expected / std::sqrt(2.0 * n));
    } else {
      ++norms;
      EXPECT_EQ(ours.mean, torch_mean);  // batch norm: 1 and 0 exactly
      EXPECT_EQ(ours.std, 0.0);
    }
  }
  EXPECT_EQ(convs, 20);
  EXPECT_EQ(norms, 40);
  // nn.Linear's default over 512 inputs: U(+-1/sqrt(512)) for weight and bias.
  const double bound = meta_double(f, "fc.weight.max_abs");
  EXPECT_NEAR(bound, 1.0 / std::sqrt(512.0), 1e-4);
  for (NamedParameter& p : model.network->parameters()) {
    if (p.name != "fc1.weight" && p.name != "fc1.bias") continue;
    const Summary ours = summarise(p.variable.value());
    EXPECT_LE(ours.max_abs, 1.0 / std::sqrt(512.0)) << p.name;
    EXPECT_GT(ours.max_abs, 0.95 / std::sqrt(512.0)) << p.name;
  }
}

}  // namespace
}  // namespace nebula
