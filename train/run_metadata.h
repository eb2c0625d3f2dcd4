// What a train_cnn checkpoint says about its run: written by the training job
// after each epoch, read by predict (to rebuild the model and its
// preprocessing) and by --resume (to check it continues the same run). One
// writer and one reader, so a field is never parsed two ways; every field is
// checked when read, and an error names the checkpoint, the field and its value.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/checkpoint.h"

namespace nebula {

// Where a run stopped by a signal stood inside the epoch after RunMetadata::epoch,
// so that --resume continues with its next batch and the epoch's figures come
// out as an uninterrupted run's would.
struct InterruptedEpoch {
  size_t batches = 0;   // the epoch's batches done; 0: it ends a whole epoch
  double loss_sum = 0;  // image-weighted sum of the steps' losses
  size_t images = 0;
  std::vector<double> squared_errors;  // the training RMSE meter's per-column sums
  int64_t samples = 0;
  double seconds = 0;
};

// How the weights move: the optimizer, its learning-rate schedule and when to
// stop, all of which --resume must continue as they were. Checkpoints from
// before these were recorded read as what every run did then: Adamax at a
// constant rate, without a recorded lr or batch (0: not checked on resume).
struct TrainingSchedule {
  std::string optimizer = "adamax";              // adamax, adam, adamw, sgd
  float lr = 0, weight_decay = 0, momentum = 0;  // as the options hold them
  bool nesterov = false;
  std::string lr_schedule = "constant";  // constant, step, cosine
  int warmup_epochs = 0, lr_step_epochs = 0;
  float lr_gamma = 0.1f;
  int patience = 0;  // 0: never stop early
  int batch = 0;
  int epochs = 0;         // the --epochs the schedule was made for (cosine anneals over it)
  float backbone_lr = 0;  // the backbone group's own rate; 0: --lr
  std::string precision = "fp32";  // the GEMMs' (kernels/precision.h); unrecorded: fp32
};

// The first option (as its command-line flag) whose value differs between a
// saved schedule and this run's, with both values; empty when none does. The
// lr, backbone lr and batch are skipped where the saved schedule did not record them, and
// --epochs is compared only for a cosine schedule, which depends on it.
struct ScheduleDifference {
  std::string option, saved, now;
};
ScheduleDifference schedule_difference(const TrainingSchedule& saved, const TrainingSchedule& now);

struct RunMetadata {
  // What was trained.
  std::string model;                 // the --model argument: a built-in name or a model file's path
  std::string model_source;          // the model file's text
  std::vector<std::string> columns;  // the label columns, in the model's output order
  int input_size = 0;                // the model's square input side
  int crop = 0;                      // centre crop before resizing; 0 none
  // How: the seed, the split and the augmentation's render order.
  uint64_t seed = 0;
  std::string split;           // "0.8/0.1/0.1 limit 0 seed 3"
  std::string augment_render;  // "resize-first" or "single-resample"
  // How far: the last whole epoch (0 when stopped inside the first), the best
  // validation RMSE so far (infinity before the first validation), and where a
  // stopped epoch stood.
  int epoch = 0;
  double best_val_rmse = 0;
  int best_epoch = 0;  // the epoch of best_val_rmse; 0 before the first (or not recorded)
  InterruptedEpoch interrupted;
  TrainingSchedule schedule;
};

// The largest input side and crop a checkpoint may ask for (the largest image side).
constexpr int kMaxInputSide = 16384;

CheckpointMetadata to_checkpoint_metadata(const RunMetadata& run);

// Reads and checks every field (a missing one, "16abc", a negative or out-of-range
// number, a non-finite RMSE, an empty column list are errors naming `path`).
// Checkpoints from before the render order was recorded were single-resample runs.
RunMetadata read_run_metadata(const CheckpointMetadata& metadata, const std::string& path);

// The number as text that reads back to the same double.
std::string exact_text(double value);
// The shortest text that reads back to the same float ("0.001").
std::string float_text(float value);

}  // namespace nebula
