// The learning rate of every step of a run, as a factor of --lr: a pure
// function of the step's place in the run, so a resumed run continues its
// schedule exactly (nothing about it is carried from step to step).
//
//   warm-up   --warmup-epochs W: the first W epochs' steps rise linearly,
//             step s (0-based) at (s + 1) / (W x steps per epoch), reaching
//             --lr on the last: torch's LinearLR(start_factor=1/n,
//             total_iters=n-1) stepped each batch, n the warm-up's steps
//   constant  1 after the warm-up
//   step      --lr-gamma ^ floor(e / --lr-step-epochs), e the epochs since the
//             warm-up: torch's StepLR stepped each epoch
//   cosine    (1 + cos(pi t / T)) / 2 for step t of the T steps after the
//             warm-up: torch's CosineAnnealingLR(T_max=T, eta_min=0) stepped
//             each batch (its closed form; torch's recursion agrees to ~1e-15)
//
// After a warm-up the schedule starts afresh, as torch's SequentialLR does.
#pragma once
#include <cstdint>
#include <string>

namespace nebula {

enum class LrScheduleKind { Constant, Step, Cosine };

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::Constant;
  int epochs = 1;               // the run's length: cosine anneals over it
  int64_t steps_per_epoch = 1;  // the training loader's batches per epoch
  int warmup_epochs = 0;
  int step_epochs = 0;  // step: decay every this many epochs
  double gamma = 0.1;   // step: the factor of each decay
};

// "constant", "step" or "cosine"; anything else throws, naming --lr-schedule.
LrScheduleKind parse_lr_schedule(const std::string& name);
const char* lr_schedule_name(LrScheduleKind kind);

// Throws, naming the option, for a schedule that cannot run: a warm-up as long
// as the run, a step schedule without --lr-step-epochs, a gamma not in (0, 1].
void check_lr_schedule(const LrSchedule& schedule);

// The factor of --lr for `step`, the 0-based index of the step in the whole run
// ((epoch - 1) x steps_per_epoch + batch). Always > 0 within the run.
double lr_factor(const LrSchedule& schedule, int64_t step);

}  // namespace nebula
