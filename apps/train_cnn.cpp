// train_cnn: trains one of the study's CNNs (or a model file) on Galaxy Zoo
// images and writes checkpoints, history.csv, curves.svg and summary.json.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "base/error.h"
#include "train/stop_request.h"
#include "train/trainer.h"

int main(int argc, char** argv) {
  nebula::TrainConfig c;
  CLI::App app{"Train a CNN to predict Galaxy Zoo morphology probabilities."};
  app.add_option("--data", c.data_dir, "Kaggle layout: DIR/training_solutions_rev1.csv, DIR/images_training_rev1/");
  app.add_option("--images", c.images_dir, "folder of <GalaxyID>.jpg (with --labels)");
  app.add_option("--labels", c.labels_path, "label CSV: GalaxyID and any subset of the 37 Class columns");
  app.add_option("--model", c.model, "cnn1, cnn2, cnn3, resnet18, resnet34, resnet50, or a model file")
      ->capture_default_str();
  app.add_option("--weights", c.weights, "pretrained backbone weights (.pth or .safetensors)");
  app.add_flag("--freeze-backbone", c.freeze_backbone, "train the head only; the imported backbone stays fixed");
  app.add_option("--backbone-lr", c.backbone_lr, "the backbone's own learning rate (default: --lr)");
  app.add_option("--epochs", c.epochs)->capture_default_str();
  app.add_option("--batch", c.batch)->capture_default_str();
  app.add_option("--lr", c.lr, "learning rate (the schedule's peak)")->capture_default_str();
  app.add_option("--optimizer", c.optimizer, "adamax (Keras's rule, the study's), adam, adamw or sgd")
      ->capture_default_str();
  float weight_decay = 0, momentum = 0;
  CLI::Option* weight_decay_option = app.add_option(
      "--weight-decay", weight_decay, "L2 weight decay; decoupled for adamw (default 0.01 adamw, else 0)");
  CLI::Option* momentum_option = app.add_option("--momentum", momentum, "sgd's momentum (default 0.9)");
  app.add_flag("--nesterov", c.nesterov, "sgd with Nesterov momentum");
  app.add_option("--lr-schedule", c.lr_schedule, "constant, step or cosine (cosine anneals every step to 0)")
      ->capture_default_str();
  app.add_option("--warmup-epochs", c.warmup_epochs, "rise linearly to --lr over these epochs' steps first")
      ->capture_default_str();
  app.add_option("--lr-step-epochs", c.lr_step_epochs, "step: multiply the rate by --lr-gamma every N epochs");
  app.add_option("--lr-gamma", c.lr_gamma, "step: the factor of each decay")->capture_default_str();
  app.add_option("--patience", c.patience, "stop when validation RMSE has not improved for N epochs (0: never)")
      ->capture_default_str();
  app.add_option("--precision", c.precision,
                 "GEMM precision: fp32, tf32 (cuDNN's tensor cores; the CPU's rounding reference) or bf16 (CPU)")
      ->capture_default_str();
  app.add_option("--seed", c.seed, "one seed for the split, weights, shuffles, augmentation and dropout")
      ->capture_default_str();
  app.add_option("--split-seed", c.split_seed,
                 "seed of the split alone (default: --seed), to compare seeds on one split");
  app.add_option("--limit", c.limit, "use at most this many rows (a seeded random subset)");
  app.add_option("--split", c.split, "train/validation/test as counts (8000/2000/2000) or fractions")
      ->capture_default_str();
  app.add_option("--input-size", c.input_size, "input side in pixels (default: the model's: 100 cnn1, 70 others)");
  app.add_option("--crop", c.crop, "centre crop of the 424x424 frame before resizing (default: the model's; 0 none)");
  app.add_flag("!--no-augment", c.augment, "train without the Keras augmentation");
  app.add_flag("!--single-resample", c.resize_first,
               "augment in one resample from the decoded JPEG, instead of the study's order (resize the crop, "
               "then transform the small image)");
  app.add_option("--workers", c.workers, "loader threads (default: every core)");
  app.add_flag("--cache", c.cache, "keep decoded images in memory between epochs");
  app.add_option("--device", c.device, "cpu, cuda or auto (cuda where a GPU is present)")->capture_default_str();
  app.add_option("--backend", c.backend, "GPU kernels: native or cudnn")->capture_default_str();
  app.add_flag("!--no-cuda-graph", c.cuda_graph,
               "on the GPU, launch every step's kernels instead of replaying a captured CUDA graph");
  app.add_option("--out", c.out_dir, "output folder")->capture_default_str();
  app.add_flag("--resume", c.resume, "continue the run in --out from its last checkpoint");
  CLI11_PARSE(app, argc, argv);
  if (*weight_decay_option) c.weight_decay = weight_decay;
  if (*momentum_option) c.momentum = momentum;
  try {
    nebula::TrainResult result = nebula::train(c);
    if (result.stopped_by_signal) return nebula::kStoppedExitStatus;
    return result.stopped_on_nan ? 2 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_cnn: %s\n", e.what());
    return 1;
  }
}
