// The training options end to end on the CPU: an SGD run with Nesterov
// momentum, a one-epoch warm-up and a cosine schedule, stopped by Ctrl-C inside
// an epoch and resumed, equals the uninterrupted run bit for bit; a step
// schedule extended by --resume equals the longer run; a resume with another
// option is refused naming it; --patience stops a run that stopped improving,
// tests the best epoch's weights, and stops again when resumed; every option
// is in summary.json and the checkpoint; bad options are refused by name.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/safetensors.h"
#include "tests/train/train_test_util.h"
#include "train/history.h"
#include "train/run_metadata.h"
#include "train/trainer.h"

namespace nebula {
namespace {

using namespace train_test;  // NOLINT: the shared fixture and checks

nlohmann::json read_summary(const TrainConfig& c) {
  return nlohmann::json::parse(read_text_file(c.out_dir + "/summary.json"));
}

TrainConfig sgd_cosine(TrainConfig c) {
  c.optimizer = "sgd";
  c.lr = 0.05f;
  c.nesterov = true;
  c.weight_decay = 1e-4f;
  c.lr_schedule = "cosine";
  c.warmup_epochs = 1;
  return c;
}

TEST_F(TrainEndToEnd, AScheduledSgdRunStoppedInsideAnEpochResumesExactly) {
  TrainConfig whole = sgd_cosine(config("sgd_whole", 3));
  whole.augment = true;
  whole.batch = 10;  // 9 steps an epoch
  const TrainResult uninterrupted = train(whole);
  TrainConfig stopped = whole;
  stopped.out_dir = (root_ / "sgd_stopped").string();
  ASSERT_TRUE(train_and_interrupt(stopped, 2, 4).stopped_by_signal);
  stopped.resume = true;
  const TrainResult resumed = train(stopped);
  EXPECT_EQ(resumed.epochs_run, 3);
  expect_same_history(whole.out_dir + "/history.csv", stopped.out_dir + "/history.csv");
  expect_same_tensors(whole.out_dir + "/last.safetensors", stopped.out_dir + "/last.safetensors");
  EXPECT_EQ(resumed.test_rmse, uninterrupted.test_rmse);
  // The schedule is not Adamax's constant rate: the same run without it trains otherwise.
  TrainConfig constant = whole;
  constant.out_dir = (root_ / "sgd_constant").string();
  constant.lr_schedule = "constant";
  constant.warmup_epochs = 0;
  EXPECT_NE(train(constant).test_rmse, uninterrupted.test_rmse);

  // Every option lands in summary.json and in the checkpoint.
  const nlohmann::json options = read_summary(whole)["training"];
  EXPECT_EQ(options["optimizer"], "sgd");
  EXPECT_EQ(options["lr"], 0.05);
  EXPECT_EQ(options["weight_decay"], 0.0001);
  EXPECT_EQ(options["momentum"], 0.9);
  EXPECT_EQ(options["nesterov"], true);
  EXPECT_EQ(options["lr_schedule"], "cosine");
  EXPECT_EQ(options["warmup_epochs"], 1);
  EXPECT_EQ(options["patience"], 0);
  EXPECT_EQ(options["batch"], 10);
  EXPECT_EQ(options["init"], "glorot");
  const std::string last = whole.out_dir + "/last.safetensors";
  const TrainingSchedule saved = read_run_metadata(read_safetensors(last).metadata(), last).schedule;
  EXPECT_EQ(saved.optimizer, "sgd");
  EXPECT_EQ(saved.lr, 0.05f);
  EXPECT_EQ(saved.weight_decay, 1e-4f);
  EXPECT_EQ(saved.momentum, 0.9f);
  EXPECT_TRUE(saved.nesterov);
  EXPECT_EQ(saved.lr_schedule, "cosine");
  EXPECT_EQ(saved.warmup_epochs, 1);
  EXPECT_EQ(saved.epochs, 3);
}

// A resume with other schedule options is refused, naming the option and both values.
TEST_F(TrainEndToEnd, ResumeRefusesAnotherScheduleNamingTheOption) {
  TrainConfig c = sgd_cosine(config("sgd_refused", 2));
  train(c);
  c.resume = true;
  TrainConfig other = c;
  other.optimizer = "adamw";
  other.nesterov = false;
  other.weight_decay.reset();
  expect_error([&] { train(other); }, {"last.safetensors", "--optimizer sgd, not adamw", "without --resume"});
  other = c;
  other.weight_decay = 1e-3f;
  expect_error([&] { train(other); }, {"--weight-decay 0.0001, not 0.001"});
  other = c;
  other.nesterov = false;
  expect_error([&] { train(other); }, {"--nesterov 1, not 0"});
  other = c;
  other.warmup_epochs = 0;
  expect_error([&] { train(other); }, {"--warmup-epochs 1, not 0"});
  other = c;
  other.batch = 10;
  expect_error([&] { train(other); }, {"--batch 20, not 10"});
  // A cosine schedule anneals over --epochs, so a longer run is another schedule.
  other = c;
  other.epochs = 3;
  expect_error([&] { train(other); }, {"--epochs 2, not 3"});
}

// A step schedule does not depend on the run's length: resumed with more
// epochs, it goes on as the longer run would have.
TEST_F(TrainEndToEnd, AStepScheduleExtendedByResumeMatchesTheLongerRun) {
  TrainConfig whole = config("step_whole", 3);
  whole.optimizer = "adam";
  whole.lr_schedule = "step";
  whole.lr_step_epochs = 1;
  whole.lr_gamma = 0.5f;
  train(whole);
  TrainConfig first = whole;
  first.out_dir = (root_ / "step_resumed").string();
  first.epochs = 2;
  train(first);
  first.epochs = 3;
  first.resume = true;
  train(first);
  expect_same_history(whole.out_dir + "/history.csv", first.out_dir + "/history.csv");
  expect_same_tensors(whole.out_dir + "/last.safetensors", first.out_dir + "/last.safetensors");
}

// A high rate (Adamax at 3e-2 on 90 images) makes validation RMSE stop
// improving within a few epochs: --patience 1 stops at the first that does not.
TEST_F(TrainEndToEnd, PatienceStopsEarlyAndTestsTheBestWeights) {
  TrainConfig c = config("patience", 12);
  c.patience = 1;
  c.lr = 3e-2f;
  const TrainResult result = train(c);
  ASSERT_TRUE(result.stopped_early);
  EXPECT_LT(result.epochs_run, 12);
  EXPECT_EQ(result.best_epoch, result.epochs_run - 1);
  const std::vector<EpochRecord> history =
      parse_history_csv(read_text_file(c.out_dir + "/history.csv"), c.out_dir + "/history.csv");
  ASSERT_EQ(int(history.size()), result.epochs_run);
  EXPECT_GE(history.back().val_rmse, history[size_t(result.best_epoch - 1)].val_rmse);
  const nlohmann::json summary = read_summary(c);
  EXPECT_EQ(summary["stopped_early"], true);
  EXPECT_EQ(summary["epochs"], result.epochs_run);
  EXPECT_EQ(summary["best_epoch"], result.best_epoch);
  EXPECT_EQ(summary["training"]["epochs"], 12);
  EXPECT_EQ(summary["best_val_rmse"].get<double>(), result.best_val_rmse);
  EXPECT_NEAR(history[size_t(result.best_epoch - 1)].val_rmse, result.best_val_rmse, 1e-7);  // the CSV's 8 digits
  const std::string best = c.out_dir + "/best.safetensors";
  EXPECT_EQ(read_run_metadata(read_safetensors(best).metadata(), best).epoch, result.best_epoch);
  // Resumed, the run is still out of patience: it trains nothing and tests the same weights.
  c.resume = true;
  const TrainResult again = train(c);
  EXPECT_TRUE(again.stopped_early);
  EXPECT_EQ(again.epochs_run, result.epochs_run);
  EXPECT_EQ(again.test_rmse, result.test_rmse);
}

// --backbone-lr's group follows the schedule too: a backbone rate equal to
// --lr trains exactly as one group does, warm-up and cosine included.
TEST_F(TrainEndToEnd, TheBackboneRateFollowsTheSchedule) {
  std::string model = kSmallModel;
  model.replace(model.find("dense 64 relu"), 0, "head\n");
  write_file_atomic((root_ / "headed.model").string(), model);
  TrainConfig one = sgd_cosine(config("one_group", 2));
  one.model = (root_ / "headed.model").string();
  train(one);
  TrainConfig two = one;
  two.out_dir = (root_ / "two_groups").string();
  two.backbone_lr = one.lr;
  train(two);
  expect_same_history(one.out_dir + "/history.csv", two.out_dir + "/history.csv");
  const std::string a = one.out_dir + "/best.safetensors", b = two.out_dir + "/best.safetensors";
  expect_same_tensors(a, b);
  EXPECT_EQ(read_summary(two)["training"]["backbone_lr"], 0.05);
  TrainConfig slower = two;
  slower.out_dir = (root_ / "slower_backbone").string();
  slower.backbone_lr = one.lr / 10;
  train(slower);
  EXPECT_NE(read_safetensors(slower.out_dir + "/best.safetensors").at("model.0.weight").to_vector(),
            read_safetensors(a).at("model.0.weight").to_vector());
}

TEST_F(TrainEndToEnd, BadTrainingOptionsAreRefusedNamingTheOption) {
  const std::pair<std::function<void(TrainConfig&)>, std::string> cases[] = {
      {[](TrainConfig& c) { c.optimizer = "rmsprop"; }, "--optimizer: 'rmsprop' is not adamax, adam, adamw or sgd"},
      {[](TrainConfig& c) { c.weight_decay = -0.1f; }, "--weight-decay must be 0 or more, got -0.1"},
      {[](TrainConfig& c) { c.momentum = 0.9f; }, "--momentum applies to --optimizer sgd alone, not adamax"},
      {[](TrainConfig& c) { c.nesterov = true; }, "--nesterov applies to --optimizer sgd alone"},
      {[](TrainConfig& c) { c.optimizer = "sgd", c.momentum = 0.0f, c.nesterov = true; },
       "--nesterov needs a --momentum above 0"},
      {[](TrainConfig& c) { c.optimizer = "sgd", c.momentum = 1.0f; }, "--momentum must be at least 0 and below 1"},
      {[](TrainConfig& c) { c.lr_schedule = "linear"; }, "--lr-schedule: 'linear' is not constant, step or cosine"},
      {[](TrainConfig& c) { c.warmup_epochs = 2; }, "--warmup-epochs 2 leaves no epoch after it in --epochs 2"},
      {[](TrainConfig& c) { c.lr_schedule = "step"; }, "--lr-schedule step needs --lr-step-epochs"},
      {[](TrainConfig& c) { c.lr_step_epochs = 2; }, "--lr-step-epochs applies to --lr-schedule step alone"},
      {[](TrainConfig& c) { c.lr_gamma = 0; }, "--lr-gamma must be above 0"},
      {[](TrainConfig& c) { c.patience = -1; }, "--patience must be 0"},
  };
  for (const auto& [edit, message] : cases) {
    TrainConfig c = config("bad_options", 2);
    c.data_dir = (root_ / "not-read").string();  // refused before the data is opened
    edit(c);
    expect_error([&] { train(c); }, {message});
  }
}

}  // namespace
}  // namespace nebula
