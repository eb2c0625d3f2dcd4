// The schedules against torch.optim.lr_scheduler's own rates, stepped as
// train_cnn steps them (tools/make_torch_fixtures.py, torch_lr_schedules):
// CosineAnnealingLR each batch; LinearLR warm-up then CosineAnnealingLR in a
// SequentialLR; StepLR each epoch. torch forms cosine and step recursively, we
// in closed form, so they agree to rounding (1e-12 of the base rate).
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "tests/torch/torch_fixture.h"
#include "train/lr_schedule.h"

namespace nebula {
namespace {

using torch_parity::fixture;

std::vector<double> rates(const std::string& text) {
  std::vector<double> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::strtod(item.c_str(), nullptr));
  return out;
}

void check(const std::string& name, const LrSchedule& schedule, int64_t steps_per_value) {
  const SafetensorsFile& f = fixture("torch_lr_schedules");
  const double base = std::strtod(f.meta("base_lr").c_str(), nullptr);
  const std::vector<double> torch_rates = rates(f.meta(name + ".lr"));
  ASSERT_EQ(int64_t(torch_rates.size()) * steps_per_value, int64_t(schedule.epochs) * schedule.steps_per_epoch);
  for (size_t i = 0; i < torch_rates.size(); ++i)
    EXPECT_NEAR(base * lr_factor(schedule, int64_t(i) * steps_per_value), torch_rates[i], 1e-12 * base)
        << name << " value " << i;
}

LrSchedule from_fixture(const std::string& name, LrScheduleKind kind) {
  const SafetensorsFile& f = fixture("torch_lr_schedules");
  LrSchedule s;
  s.kind = kind;
  s.epochs = std::stoi(f.meta(name + ".epochs"));
  s.steps_per_epoch = std::stoi(f.meta(name + ".batches"));
  s.warmup_epochs = std::stoi(f.meta(name + ".warmup"));
  return s;
}

TEST(LrScheduleTorch, CosineMatchesCosineAnnealingLR) {
  check("cosine", from_fixture("cosine", LrScheduleKind::Cosine), 1);
}

TEST(LrScheduleTorch, WarmUpThenCosineMatchesLinearLRThenCosineAnnealingLR) {
  check("warmup_cosine", from_fixture("warmup_cosine", LrScheduleKind::Cosine), 1);
}

TEST(LrScheduleTorch, StepMatchesStepLR) {
  const SafetensorsFile& f = fixture("torch_lr_schedules");
  LrSchedule s;
  s.kind = LrScheduleKind::Step;
  s.epochs = std::stoi(f.meta("step.epochs"));
  s.steps_per_epoch = 3;  // torch steps once an epoch: compare each epoch's first step
  s.step_epochs = std::stoi(f.meta("step.step_epochs"));
  s.gamma = std::strtod(f.meta("step.gamma").c_str(), nullptr);
  check("step", s, s.steps_per_epoch);
}

}  // namespace
}  // namespace nebula
