// The learning-rate schedules by hand: the warm-up's ramp, the step decay's
// epochs, the cosine's ends and middle, and the options that cannot run.
// tests/torch/lr_schedule_torch_test.cpp holds them to torch's own schedulers.
#include "train/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "base/error.h"

namespace nebula {
namespace {

LrSchedule schedule(LrScheduleKind kind, int epochs, int64_t steps, int warmup = 0) {
  LrSchedule s;
  s.kind = kind;
  s.epochs = epochs;
  s.steps_per_epoch = steps;
  s.warmup_epochs = warmup;
  return s;
}

TEST(LrSchedule, ConstantIsOneEverywhere) {
  const LrSchedule s = schedule(LrScheduleKind::Constant, 3, 4);
  for (int64_t step = 0; step < 12; ++step) EXPECT_EQ(lr_factor(s, step), 1.0) << step;
}

TEST(LrSchedule, WarmUpRisesLinearlyToOneOnItsLastStep) {
  const LrSchedule s = schedule(LrScheduleKind::Constant, 3, 4, 1);
  EXPECT_EQ(lr_factor(s, 0), 0.25);
  EXPECT_EQ(lr_factor(s, 1), 0.5);
  EXPECT_EQ(lr_factor(s, 3), 1.0);
  EXPECT_EQ(lr_factor(s, 4), 1.0);
}

TEST(LrSchedule, StepDecaysEveryStepEpochsAfterTheWarmUp) {
  LrSchedule s = schedule(LrScheduleKind::Step, 10, 5, 1);
  s.step_epochs = 2;
  s.gamma = 0.5;
  EXPECT_EQ(lr_factor(s, 4), 1.0);      // the warm-up's last step
  EXPECT_EQ(lr_factor(s, 5), 1.0);      // epoch 2: the first after the warm-up
  EXPECT_EQ(lr_factor(s, 14), 1.0);     // epoch 3, last step
  EXPECT_EQ(lr_factor(s, 15), 0.5);     // epoch 4
  EXPECT_EQ(lr_factor(s, 25), 0.25);    // epoch 6
  EXPECT_EQ(lr_factor(s, 49), 0.0625);  // epoch 10, last step
}

TEST(LrSchedule, CosineStartsAtOneHalvesMidwayAndNearsZero) {
  const LrSchedule s = schedule(LrScheduleKind::Cosine, 4, 25, 0);
  EXPECT_EQ(lr_factor(s, 0), 1.0);
  EXPECT_NEAR(lr_factor(s, 50), 0.5, 1e-15);
  EXPECT_GT(lr_factor(s, 99), 0.0);
  EXPECT_LT(lr_factor(s, 99), 1e-3);
  for (int64_t step = 1; step < 100; ++step) EXPECT_LT(lr_factor(s, step), lr_factor(s, step - 1)) << step;
  // After a warm-up the cosine starts afresh, over the epochs left.
  const LrSchedule warm = schedule(LrScheduleKind::Cosine, 5, 25, 1);
  for (int64_t t = 0; t < 100; ++t) EXPECT_EQ(lr_factor(warm, 25 + t), lr_factor(s, t)) << t;
}

void expect_refused(const LrSchedule& s, const std::string& fragment) {
  try {
    check_lr_schedule(s);
    ADD_FAILURE() << "accepted; expected an error with '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(LrSchedule, OptionsThatCannotRunAreRefusedNamingTheOption) {
  EXPECT_NO_THROW(check_lr_schedule(schedule(LrScheduleKind::Cosine, 3, 4, 2)));
  expect_refused(schedule(LrScheduleKind::Cosine, 3, 4, 3), "--warmup-epochs 3 leaves no epoch after it in --epochs 3");
  expect_refused(schedule(LrScheduleKind::Constant, 3, 4, -1), "--warmup-epochs must be 0 or more");
  expect_refused(schedule(LrScheduleKind::Step, 3, 4), "--lr-schedule step needs --lr-step-epochs");
  LrSchedule s = schedule(LrScheduleKind::Step, 3, 4);
  s.step_epochs = 1;
  s.gamma = 0;
  expect_refused(s, "--lr-gamma must be above 0 and at most 1, got 0");
  s.gamma = 1.5;
  expect_refused(s, "--lr-gamma");
  EXPECT_EQ(parse_lr_schedule("cosine"), LrScheduleKind::Cosine);
  EXPECT_EQ(parse_lr_schedule("step"), LrScheduleKind::Step);
  EXPECT_EQ(parse_lr_schedule("constant"), LrScheduleKind::Constant);
  EXPECT_STREQ(lr_schedule_name(LrScheduleKind::Cosine), "cosine");
  try {
    parse_lr_schedule("linear");
    ADD_FAILURE() << "--lr-schedule linear was accepted";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "--lr-schedule: 'linear' is not constant, step or cosine");
  }
}

}  // namespace
}  // namespace nebula
