// predict: a Kaggle submission from a train_cnn checkpoint. The model, its label
// columns and its preprocessing are read from the checkpoint itself.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "train/device_choice.h"
#include "train/predict_submission.h"

int main(int argc, char** argv) {
  nebula::PredictConfig c;
  std::string device = "auto", backend = "native", precision = "fp32";
  CLI::App app{"Predict the Galaxy Zoo probabilities of a folder of images with train_cnn checkpoints."};
  app.add_option("--checkpoint", c.checkpoints,
                 "best.safetensors or last.safetensors from train_cnn; give several to average them as an ensemble")
      ->required();
  app.add_option("--images", c.images, "folder of <GalaxyID>.jpg")->required();
  app.add_option("--out", c.out, "the submission CSV")->capture_default_str();
  app.add_option("--tta", c.tta,
                 "views averaged per image: up to 8 are its rotations and flips, more add fixed augmentation draws")
      ->capture_default_str();
  app.add_option("--labels", c.labels, "a label CSV to score the predictions against (overall and per question)");
  app.add_option("--workers", c.workers, "loader threads (default: every core)");
  app.add_option("--batch", c.batch)->capture_default_str();
  app.add_option("--device", device, "cpu, cuda or auto (cuda where a GPU is present)")->capture_default_str();
  app.add_option("--backend", backend, "GPU kernels: native or cudnn")->capture_default_str();
  app.add_option("--precision", precision, "GEMM precision: fp32, tf32 or bf16")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    c.device = nebula::choose_device(device, backend);
    nebula::choose_precision(precision, c.device);
    nebula::PredictResult result = nebula::predict_submission(c);
    std::printf("wrote %zu predictions of %zu columns to %s (%zu checkpoint%s x %d view%s)\n", result.predictions,
                result.columns, c.out.c_str(), c.checkpoints.size(), c.checkpoints.size() == 1 ? "" : "s", c.tta,
                c.tta == 1 ? "" : "s");
    if (result.scored) {
      std::printf("RMSE %.5f over the %zu galaxies %s labels; per question:", result.score.rmse, result.score.galaxies,
                  c.labels.c_str());
      for (const auto& [question, rmse] : result.score.per_question) std::printf(" %s %.4f", question.c_str(), rmse);
      std::printf("\n");
    }
    if (result.columns != 37)
      std::fprintf(stderr, "note: the model was trained on %zu of the 37 Kaggle columns; the file holds only those\n",
                   result.columns);
    if (result.skipped)
      std::fprintf(stderr, "%zu broken images were skipped and have no row (named above)\n", result.skipped);
    return result.skipped ? 3 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "predict: %s\n", e.what());
    return 1;
  }
}
