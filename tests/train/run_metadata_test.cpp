// The run metadata a checkpoint carries: what the writer writes, the reader
// reads back exactly, and every field a hostile or damaged file could hold is
// refused naming the file, the field and its value.
#include "train/run_metadata.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "base/error.h"

namespace nebula {
namespace {

RunMetadata example() {
  RunMetadata run;
  run.model = "cnn1";
  run.model_source = "input 3 48 48\nflatten\ndense outputs sigmoid\n";
  run.columns = {"Class1.1", "Class1.2", "Class1.3"};
  run.input_size = 48;
  run.crop = 250;
  run.seed = 18446744073709551615ull;
  run.split = "0.8/0.1/0.1 limit 0 seed 3";
  run.augment_render = "resize-first";
  run.epoch = 7;
  run.best_val_rmse = 0.1234567890123456789;
  run.best_epoch = 5;
  run.schedule = {"sgd", 0.1f, 1e-4f, 0.9f, true, "cosine", 2, 0, 0.1f, 3, 100, 20, 0.01f};
  return run;
}

void expect_refused(const CheckpointMetadata& metadata, const std::string& fragment) {
  try {
    read_run_metadata(metadata, "run/last.safetensors");
    ADD_FAILURE() << "accepted; expected an error with '" << fragment << "'";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("run/last.safetensors: ", 0), 0u) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  }
}

TEST(RunMetadata, ReadsBackWhatWasWritten) {
  RunMetadata run = example();
  RunMetadata back = read_run_metadata(to_checkpoint_metadata(run), "last.safetensors");
  EXPECT_EQ(back.model, run.model);
  EXPECT_EQ(back.model_source, run.model_source);
  EXPECT_EQ(back.columns, run.columns);
  EXPECT_EQ(back.input_size, 48);
  EXPECT_EQ(back.crop, 250);
  EXPECT_EQ(back.seed, run.seed);
  EXPECT_EQ(back.split, run.split);
  EXPECT_EQ(back.augment_render, "resize-first");
  EXPECT_EQ(back.epoch, 7);
  EXPECT_EQ(back.best_val_rmse, run.best_val_rmse);  // to the last bit
  EXPECT_EQ(back.interrupted.batches, 0u);
}

TEST(RunMetadata, AnInterruptedEpochReadsBackExactly) {
  RunMetadata run = example();
  run.epoch = 0;
  run.best_val_rmse = INFINITY;  // stopped inside the first epoch: no validation yet
  run.best_epoch = 0;
  run.interrupted = {7, 1.2345678901234567, 140, {0.1, 1.0 / 3.0, 2.5e-17}, 140, 3.25};
  CheckpointMetadata written = to_checkpoint_metadata(run);
  EXPECT_EQ(written.at("best_val_rmse"), "none");
  RunMetadata back = read_run_metadata(written, "last.safetensors");
  EXPECT_EQ(back.epoch, 0);
  EXPECT_TRUE(std::isinf(back.best_val_rmse));
  EXPECT_EQ(back.interrupted.batches, 7u);
  EXPECT_EQ(back.interrupted.loss_sum, run.interrupted.loss_sum);
  EXPECT_EQ(back.interrupted.images, 140u);
  EXPECT_EQ(back.interrupted.squared_errors, run.interrupted.squared_errors);
  EXPECT_EQ(back.interrupted.samples, 140);
  EXPECT_EQ(back.interrupted.seconds, 3.25);
}

TEST(RunMetadata, OldCheckpointsWithoutTheRenderAreSingleResampleRuns) {
  CheckpointMetadata metadata = to_checkpoint_metadata(example());
  metadata.erase("augment_render");
  EXPECT_EQ(read_run_metadata(metadata, "last.safetensors").augment_render, "single-resample");
}

TEST(RunMetadata, EveryMissingFieldIsNamed) {
  for (const char* key :
       {"model", "model_source", "columns", "input_size", "crop", "seed", "split", "epoch", "best_val_rmse"}) {
    CheckpointMetadata metadata = to_checkpoint_metadata(example());
    metadata.erase(key);
    expect_refused(metadata, std::string("no '") + key + "' in its metadata");
  }
}

TEST(RunMetadata, NumbersAreParsedWholeAndInRange) {
  const std::pair<const char*, const char*> bad[] = {{"input_size", "16abc"},
                                                     {"input_size", "0"},
                                                     {"input_size", "100000"},
                                                     {"input_size", "abc"},
                                                     {"crop", "abc"},
                                                     {"crop", "-1"},
                                                     {"crop", "1e3"},
                                                     {"seed", "-1"},
                                                     {"seed", "3.5"},
                                                     {"epoch", "2147483647"},
                                                     {"epoch", "-5"},
                                                     {"epoch", "0"},
                                                     {"epoch", ""},
                                                     {"epoch", "two"},
                                                     {"best_val_rmse", "nan"},
                                                     {"best_val_rmse", "inf"},
                                                     {"best_val_rmse", "-0.1"},
                                                     {"best_val_rmse", "0.1abc"},
                                                     {"best_val_rmse", "none"}};
  for (const auto& [key, value] : bad) {
    CheckpointMetadata metadata = to_checkpoint_metadata(example());
    metadata[key] = value;
    expect_refused(metadata, std::string("metadata ") + key + " = '" + value + "'");
  }
}

TEST(RunMetadata, ColumnsAndRenderAreChecked) {
  CheckpointMetadata metadata = to_checkpoint_metadata(example());
  metadata["columns"] = "";
  expect_refused(metadata, "columns is empty");
  metadata["columns"] = "Class1.1,,Class1.3";
  expect_refused(metadata, "has an empty name");
  metadata = to_checkpoint_metadata(example());
  metadata["augment_render"] = "sideways";
  expect_refused(metadata, "augment_render = 'sideways'");
}

TEST(RunMetadata, AnInterruptedEpochIsChecked) {
  RunMetadata run = example();
  run.interrupted = {3, 0.5, 60, {0.1, 0.2, 0.3}, 60, 1.0};
  const std::pair<const char*, const char*> bad[] = {{"interrupted_batches", "0"},    {"interrupted_batches", "3x"},
                                                     {"interrupted_loss_sum", "nan"}, {"interrupted_images", "-60"},
                                                     {"interrupted_samples", ""},     {"interrupted_seconds", "-1"}};
  for (const auto& [key, value] : bad) {
    CheckpointMetadata metadata = to_checkpoint_metadata(run);
    metadata[key] = value;
    expect_refused(metadata, std::string("metadata ") + key + " = '" + value + "'");
  }
  CheckpointMetadata metadata = to_checkpoint_metadata(run);
  metadata["interrupted_squared_errors"] = "0.1,0.2";
  expect_refused(metadata, "2 sums for 3 columns");
  metadata["interrupted_squared_errors"] = "0.1,nan,0.3";
  expect_refused(metadata, "'nan', not a finite sum");
  metadata.erase("interrupted_squared_errors");
  expect_refused(metadata, "no 'interrupted_squared_errors'");
}

TEST(RunMetadata, TheScheduleReadsBackExactly) {
  RunMetadata run = example();
  run.schedule.lr = 0.3f;  // not a short decimal in binary: read back to the same float
  const CheckpointMetadata written = to_checkpoint_metadata(run);
  EXPECT_EQ(written.at("lr"), "0.3");
  EXPECT_EQ(written.at("weight_decay"), "0.0001");
  const RunMetadata back = read_run_metadata(written, "last.safetensors");
  EXPECT_EQ(back.best_epoch, 5);
  const TrainingSchedule& s = back.schedule;
  EXPECT_EQ(s.optimizer, "sgd");
  EXPECT_EQ(s.lr, 0.3f);
  EXPECT_EQ(s.weight_decay, 1e-4f);
  EXPECT_EQ(s.momentum, 0.9f);
  EXPECT_TRUE(s.nesterov);
  EXPECT_EQ(s.lr_schedule, "cosine");
  EXPECT_EQ(s.warmup_epochs, 2);
  EXPECT_EQ(s.lr_step_epochs, 0);
  EXPECT_EQ(s.lr_gamma, 0.1f);
  EXPECT_EQ(s.patience, 3);
  EXPECT_EQ(s.batch, 100);
  EXPECT_EQ(s.epochs, 20);
  EXPECT_EQ(s.backbone_lr, 0.01f);
  EXPECT_TRUE(schedule_difference(s, run.schedule).option.empty());
}

TEST(RunMetadata, OldCheckpointsWithoutAScheduleAreAdamaxAtAConstantRate) {
  CheckpointMetadata metadata = to_checkpoint_metadata(example());
  for (const char* key :
       {"optimizer", "lr", "backbone_lr", "weight_decay", "momentum", "nesterov", "lr_schedule", "warmup_epochs",
        "lr_step_epochs", "lr_gamma", "patience", "batch", "schedule_epochs", "best_epoch"})
    metadata.erase(key);
  const RunMetadata back = read_run_metadata(metadata, "last.safetensors");
  EXPECT_EQ(back.best_epoch, 0);
  EXPECT_EQ(back.schedule.optimizer, "adamax");
  EXPECT_EQ(back.schedule.lr_schedule, "constant");
  EXPECT_EQ(back.schedule.patience, 0);
  // Their lr, backbone lr and batch were not recorded, so any is taken as theirs.
  TrainingSchedule now;
  now.lr = 0.002f;
  now.backbone_lr = 0.0005f;
  now.batch = 64;
  now.epochs = 30;
  EXPECT_TRUE(schedule_difference(back.schedule, now).option.empty());
  now.weight_decay = 0.01f;
  EXPECT_EQ(schedule_difference(back.schedule, now).option, "--weight-decay");
}

TEST(RunMetadata, EveryScheduleFieldIsChecked) {
  const std::pair<const char*, const char*> bad[] = {{"optimizer", "rmsprop"},
                                                     {"lr", "0"},
                                                     {"lr", "nan"},
                                                     {"weight_decay", "-1"},
                                                     {"momentum", "1"},
                                                     {"nesterov", "2"},
                                                     {"lr_schedule", "poly"},
                                                     {"warmup_epochs", "-1"},
                                                     {"lr_step_epochs", "x"},
                                                     {"lr_gamma", "1.5"},
                                                     {"lr_gamma", "0"},
                                                     {"patience", "-2"},
                                                     {"batch", "0"},
                                                     {"schedule_epochs", "0"},
                                                     {"best_epoch", "8"},
                                                     {"backbone_lr", "-1"}};
  for (const auto& [key, value] : bad) {
    CheckpointMetadata metadata = to_checkpoint_metadata(example());
    metadata[key] = value;
    expect_refused(metadata, std::string("metadata ") + key + " = '" + value + "'");
  }
  CheckpointMetadata metadata = to_checkpoint_metadata(example());
  metadata.erase("lr_gamma");
  expect_refused(metadata, "no 'lr_gamma'");
}

TEST(RunMetadata, ScheduleDifferenceNamesTheOptionAndBothValues) {
  const TrainingSchedule saved = example().schedule;
  TrainingSchedule now = saved;
  now.lr_schedule = "step";
  ScheduleDifference d = schedule_difference(saved, now);
  EXPECT_EQ(d.option, "--lr-schedule");
  EXPECT_EQ(d.saved, "cosine");
  EXPECT_EQ(d.now, "step");
  // --epochs matters to a cosine schedule alone.
  now = saved;
  now.epochs = 30;
  d = schedule_difference(saved, now);
  EXPECT_EQ(d.option, "--epochs");
  EXPECT_EQ(d.saved, "20");
  TrainingSchedule step_saved = saved, step_now = saved;
  step_saved.lr_schedule = step_now.lr_schedule = "step";
  step_now.epochs = 30;
  EXPECT_TRUE(schedule_difference(step_saved, step_now).option.empty());
  now = saved;
  now.patience = 4;
  EXPECT_EQ(schedule_difference(saved, now).option, "--patience");
  now = saved;
  now.backbone_lr = 0;
  d = schedule_difference(saved, now);
  EXPECT_EQ(d.option, "--backbone-lr");
  EXPECT_EQ(d.saved, "0.01");
  EXPECT_EQ(d.now, "0");
}

}  // namespace
}  // namespace nebula
