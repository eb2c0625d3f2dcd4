#include "train/lr_schedule.h"

#include <cmath>

#include "base/error.h"

namespace nebula {

LrScheduleKind parse_lr_schedule(const std::string& name) {
  if (name == "step") return LrScheduleKind::Step;
  if (name == "cosine") return LrScheduleKind::Cosine;
  NEBULA_CHECK(name == "constant", "--lr-schedule: '", name, "' is not constant, step or cosine");
  return LrScheduleKind::Constant;
}

const char* lr_schedule_name(LrScheduleKind kind) {
  switch (kind) {
    case LrScheduleKind::Step:
      return "step";
    case LrScheduleKind::Cosine:
      return "cosine";
    default:
      return "constant";
  }
}

void check_lr_schedule(const LrSchedule& s) {
  NEBULA_CHECK(s.warmup_epochs >= 0, "--warmup-epochs must be 0 or more, got ", s.warmup_epochs);
  NEBULA_CHECK(s.warmup_epochs < s.epochs, "--warmup-epochs ", s.warmup_epochs,
               " leaves no epoch after it in --epochs ", s.epochs, "; give fewer warm-up epochs or more epochs");
  NEBULA_CHECK(s.steps_per_epoch > 0, "the learning-rate schedule needs at least one batch per epoch");
  if (s.kind == LrScheduleKind::Step)
    NEBULA_CHECK(s.step_epochs > 0, "--lr-schedule step needs --lr-step-epochs of 1 or more, got ", s.step_epochs);
  NEBULA_CHECK(s.gamma > 0 && s.gamma <= 1, "--lr-gamma must be above 0 and at most 1, got ", s.gamma);
}

double lr_factor(const LrSchedule& s, int64_t step) {
  const int64_t warmup_steps = int64_t(s.warmup_epochs) * s.steps_per_epoch;
  if (step < warmup_steps) return double(step + 1) / double(warmup_steps);
  const int64_t t = step - warmup_steps;  // steps since the warm-up
  switch (s.kind) {
    case LrScheduleKind::Step:
      return std::pow(s.gamma, double(t / s.steps_per_epoch / s.step_epochs));
    case LrScheduleKind::Cosine: {
      const double total = double(int64_t(s.epochs - s.warmup_epochs) * s.steps_per_epoch);
      return (1.0 + std::cos(M_PI * double(t) / total)) / 2.0;
    }
    default:
      return 1.0;
  }
}

}  // namespace nebula
