// The training job behind train_cnn: data set and split, model, loaders, the
// optimizer and its learning-rate schedule, the epoch loop with validation and
// early stopping, checkpoints (last and best), the history and curves, the
// final test evaluation and summary.json. A killed run resumes exactly from its
// last checkpoint: the split, the shuffles, the augmentations, the dropout
// masks and the learning rate are all functions of (seed, epoch, step, ...).
// One --out folder holds one run at a time (train/run_directory.h).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nebula {

struct TrainConfig {
  std::string data_dir;  // Kaggle layout; or images_dir + labels_path
  std::string images_dir, labels_path;
  std::string model = "cnn1";
  std::string weights;  // pretrained backbone (.pth or .safetensors)
  bool freeze_backbone = false;
  float backbone_lr = 0;  // 0: the same as lr
  int epochs = 20;
  int batch = 100;
  float lr = 1e-3f;
  // train/optimizer_choice.h: the optimizers and their defaults.
  std::string optimizer = "adamax";
  std::optional<float> weight_decay;  // unset: 0.01 for adamw, else 0
  std::optional<float> momentum;      // unset: 0.9 for sgd
  bool nesterov = false;
  // train/lr_schedule.h: the schedules, per step after a per-step warm-up.
  std::string lr_schedule = "constant";
  int warmup_epochs = 0;
  int lr_step_epochs = 0;
  float lr_gamma = 0.1f;
  int patience = 0;  // stop when validation RMSE has not improved for this many epochs; 0: never
  std::string precision = "fp32";  // the GEMMs': fp32, tf32 or bf16 (kernels/precision.h)
  uint64_t seed = 0;
  int64_t split_seed = -1;  // -1: the same as seed
  size_t limit = 0;
  std::string split = "0.8/0.1/0.1";
  int input_size = 0;  // 0: the model's
  int crop = -1;       // -1: the model's; 0: none
  bool augment = true;
  bool resize_first = true;  // augment the resized image, as the study's Keras did; false: one resample
  int workers = 0;           // 0: every core
  bool cache = false;
  std::string device = "auto";
  std::string backend = "native";
  bool cuda_graph = true;  // on the GPU, replay full-size steps as a captured CUDA graph
  std::string out_dir = "out/run";
  bool resume = false;
  bool quiet = false;  // no progress bars (tests)
  // Called after each training step with its epoch and batch index (a test sends
  // itself a signal at an exact step this way; a caller may watch progress).
  std::function<void(int epoch, size_t batch)> after_step;
};

struct TrainResult {
  int epochs_run = 0;
  double val_rmse = 0, best_val_rmse = 0, test_rmse = 0, mean_predictor_test_rmse = 0;
  double images_per_second = 0, seconds = 0;
  int best_epoch = 0;
  bool stopped_early = false;  // --patience ran out; the test used the best epoch's weights
  bool stopped_on_nan = false;
  bool stopped_by_signal = false;  // SIGINT or SIGTERM: last.safetensors holds where it stopped
};

// Runs the job; prints its progress on stderr and its results on stdout.
// Throws nebula::Error on bad input (the message names the file and problem).
// The first SIGINT or SIGTERM finishes the current step, saves the run's place
// in last.safetensors (so --resume continues with the next batch) and returns.
TrainResult train(const TrainConfig& config);

}  // namespace nebula
