// End to end on the CPU: render a few hundred synthetic galaxies, train a small
// CNN on them through the same job train_cnn runs, and check that it learnt from
// the pixels (beats predicting the training mean), that a resumed run equals an
// uninterrupted one bit for bit (also one stopped by Ctrl-C inside an epoch),
// that a diverging run stops cleanly, that damaged checkpoints and a second run
// on one folder are refused, and that predict's submission scores what train
// reported.
#include <gtest/gtest.h>

#include <signal.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "base/error.h"
#include "base/file_io.h"
#include "data/labels.h"
#include "data/synth.h"
#include "engine/device.h"
#include "engine/safetensors.h"
#include "tests/train/train_test_util.h"
#include "train/history.h"
#include "train/predict_submission.h"
#include "train/run_directory.h"
#include "train/trainer.h"

namespace nebula {
namespace {

using namespace train_test;  // NOLINT: the shared fixture and checks

// The GalaxyIDs split.csv puts in the test part.
std::vector<int64_t> test_ids(const std::string& split_csv) {
  std::vector<int64_t> ids;
  std::istringstream in(read_text_file(split_csv));
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line))
    if (line.size() > 5 && line.compare(line.size() - 5, 5, ",test") == 0) ids.push_back(std::stoll(line));
  return ids;
}

TEST_F(TrainEndToEnd, SmallCnnBeatsTheMeanPredictor) {
  TrainResult result = train(config("learn", 20, 600));
  EXPECT_EQ(result.epochs_run, 20);
  ASSERT_GT(result.mean_predictor_test_rmse, 0.1);
  EXPECT_LT(result.best_val_rmse, 0.92 * result.mean_predictor_test_rmse)
      << "validation RMSE " << result.best_val_rmse << " vs the mean predictor's " << result.mean_predictor_test_rmse;
  EXPECT_LT(result.test_rmse, 0.92 * result.mean_predictor_test_rmse);
  for (const char* file : {"best.safetensors", "last.safetensors", "history.csv", "curves.svg", "summary.json"})
    EXPECT_TRUE(fs::exists(root_ / "learn" / file)) << file;
}

TEST_F(TrainEndToEnd, ResumedRunMatchesUninterruptedRun) {
  TrainConfig whole = config("whole", 3);
  whole.augment = true;  // the augmentation draws must continue where they left off too
  train(whole);
  TrainConfig first = whole, rest = whole;
  first.out_dir = rest.out_dir = (root_ / "resumed").string();
  first.epochs = 2;
  train(first);
  rest.resume = true;
  train(rest);
  expect_same_tensors((root_ / "whole" / "last.safetensors").string(),
                      (root_ / "resumed" / "last.safetensors").string());
  expect_same_history((root_ / "whole" / "history.csv").string(), (root_ / "resumed" / "history.csv").string());
  // Resuming with the other augmentation render is refused, and says how to resume.
  TrainConfig other = rest;
  other.epochs = 4;
  other.resize_first = false;
  try {
    train(other);
    ADD_FAILURE() << "a resume with --single-resample was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resume it without --single-resample"), std::string::npos) << e.what();
  }
}

TEST_F(TrainEndToEnd, DivergingRunStopsWithoutWritingACheckpoint) {
  TrainConfig c = config("diverge", 3);
  c.lr = 1e30f;
  TrainResult result = train(c);
  EXPECT_TRUE(result.stopped_on_nan);
  EXPECT_FALSE(fs::exists(root_ / "diverge" / "last.safetensors"));
}

TEST_F(TrainEndToEnd, BadArgumentsAreRefused) {
  TrainConfig c = config("bad", 1);
  c.split = "0.9/0.9/0.9";
  expect_error([&] { train(c); }, {"0.9/0.9/0.9"});
  c = config("bad", 1);
  c.model = "no-such-model";
  expect_error([&] { train(c); }, {"no-such-model"});
  c = config("bad", 1);
  c.data_dir = (root_ / "nowhere").string();
  expect_error([&] { train(c); }, {(root_ / "nowhere").string()});
  c = config("bad", 1);
  c.batch = 0;
  expect_error([&] { train(c); }, {"--batch", "must be positive"});
  // A batch whose layer outputs would not fit the activation limit is refused before it is allocated.
  c = config("bad", 1);
  ::setenv("NEBULA_MAX_ACTIVATION_BYTES", "1000000", 1);
  expect_error([&] { train(c); }, {"a batch of 20 needs", "over the limit of 1000000", "NEBULA_MAX_ACTIVATION_BYTES"});
  ::unsetenv("NEBULA_MAX_ACTIVATION_BYTES");
  // The GPU flags: a backend that does not exist, and a device that is not there.
  c = config("bad", 1);
  c.backend = "tpu";
  expect_error([&] { train(c); }, {"--backend", "tpu"});
  c = config("bad", 1);
  c.device = "gpu0";
  expect_error([&] { train(c); }, {"--device", "gpu0"});
  if (!cuda_available()) {
    c = config("bad", 1);
    c.device = "cuda";  // asked for by name, so no quiet fall back to the CPU
    expect_error([&] { train(c); }, {"cuda"});
  }
}

// A resumed run checks the checkpoint's metadata before it trains: each field a
// damaged or hand-edited file could hold is refused, naming the file and field.
TEST_F(TrainEndToEnd, ResumeRefusesDamagedMetadata) {
  TrainConfig c = config("tampered", 2);
  train(c);
  const std::string last = c.out_dir + "/last.safetensors";
  const SafetensorsFile original = read_safetensors(last);
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const SafetensorsEntry& entry : original.entries()) tensors.emplace_back(entry.name, entry.tensor);
  const std::pair<const char*, const char*> edits[] = {
      {"epoch", "2147483647"}, {"epoch", "-5"},         {"epoch", "2x"}, {"best_val_rmse", "nan"},
      {"crop", "abc"},         {"input_size", "16abc"}, {"epoch", "3"}};
  c.resume = true;
  for (const auto& [key, value] : edits) {
    std::map<std::string, std::string> metadata = original.metadata();
    metadata[key] = value;
    write_safetensors(last, tensors, metadata);
    const std::string expected = std::string(key) == "epoch" && std::string(value) == "3"
                                     ? "beyond --epochs 2"
                                     : std::string("metadata ") + key + " = '" + value + "'";
    expect_error([&] { train(c); }, {last, expected});
  }
  std::map<std::string, std::string> metadata = original.metadata();
  metadata.erase("epoch");
  write_safetensors(last, tensors, metadata);
  expect_error([&] { train(c); }, {last, "no 'epoch'"});
}

TEST_F(TrainEndToEnd, ASecondRunOnTheSameFolderIsRefused) {
  TrainConfig c = config("locked", 1);
  RunDirectory held(c.out_dir);  // as a first run holds it
  expect_error([&] { train(c); }, {c.out_dir, "another run is writing here (PID"});
}

// Ctrl-C inside an epoch: the step finishes, the run's place is saved, and
// --resume continues with the next batch, giving the uninterrupted run's
// figures. Stopped inside the first epoch (before any validation), resumed,
// stopped again inside the second, resumed again.
TEST_F(TrainEndToEnd, AStoppedRunResumesWithItsNextBatch) {
  TrainConfig whole = config("uninterrupted", 3);
  whole.augment = true;
  whole.batch = 5;  // 18 steps an epoch
  train(whole);
  TrainConfig stopped = whole;
  stopped.out_dir = (root_ / "stopped").string();
  TrainResult first = train_and_interrupt(stopped, 1, 3);
  ASSERT_TRUE(first.stopped_by_signal);
  std::map<std::string, std::string> saved = read_safetensors(stopped.out_dir + "/last.safetensors").metadata();
  EXPECT_EQ(saved["interrupted_batches"], "4");
  EXPECT_EQ(saved["epoch"], "0");
  EXPECT_EQ(saved["best_val_rmse"], "none");
  stopped.resume = true;
  TrainResult second = train_and_interrupt(stopped, 2, 10);
  ASSERT_TRUE(second.stopped_by_signal);
  saved = read_safetensors(stopped.out_dir + "/last.safetensors").metadata();
  EXPECT_EQ(saved["interrupted_batches"], "11");
  EXPECT_EQ(saved["epoch"], "1");
  TrainResult resumed = train(stopped);
  EXPECT_FALSE(resumed.stopped_by_signal);
  EXPECT_EQ(resumed.epochs_run, 3);
  expect_same_history(whole.out_dir + "/history.csv", stopped.out_dir + "/history.csv");
  expect_same_tensors(whole.out_dir + "/last.safetensors", stopped.out_dir + "/last.safetensors");
}

// A model with the decision-tree output trains, and its predictions, written
// by predict, obey the Galaxy Zoo tree (to the CSV's 6 decimals).
TEST_F(TrainEndToEnd, ATreeOutputModelTrainsAndPredictsWithinTheTree) {
  std::string model = kSmallModel;
  model.replace(model.find("dense outputs sigmoid"), std::string("dense outputs sigmoid").size(),
                "dense outputs galaxytree");
  write_file_atomic((root_ / "tree.model").string(), model);
  TrainConfig c = config("tree", 2);
  c.model = (root_ / "tree.model").string();
  TrainResult result = train(c);
  EXPECT_EQ(result.epochs_run, 2);
  EXPECT_GT(result.test_rmse, 0);
  PredictConfig p;
  p.checkpoints = {c.out_dir + "/best.safetensors"};
  p.images = c.data_dir + "/images_training_rev1";
  p.out = c.out_dir + "/submission.csv";
  predict_submission(p);
  data::LabelTable submission = data::read_labels(p.out);
  data::TreeReport report = data::check_label_tree(submission, 2e-5);
  EXPECT_EQ(report.questions_checked.size(), 11u);
  EXPECT_EQ(report.rows_off, 0u) << (report.rows_off ? data::describe(report, p.out).front() : "");
}

// A tiny rotation-invariant model (Dieleman's 16 views, a shared stack, the
// views concatenated, maxout, the tree output) trains, resumes bit for bit and
// predicts with test-time views, within the tree.
const char* kMultiViewModel = R"(
input 3 24 24
crop 250
views dieleman size=16
conv 8 3 relu
maxpool 2
conv 8 3 relu
maxpool 2
flatten
merge concat
dropout 0.5
dense 16 maxout=2 relu
dense outputs galaxytree
)";

TEST_F(TrainEndToEnd, AMultiViewTreeModelTrainsResumesAndPredicts) {
  write_file_atomic((root_ / "views.model").string(), kMultiViewModel);
  TrainConfig whole = config("views_whole", 3);
  whole.model = (root_ / "views.model").string();
  whole.augment = true;
  TrainResult result = train(whole);
  EXPECT_EQ(result.epochs_run, 3);
  TrainConfig first = whole, rest = whole;
  first.out_dir = rest.out_dir = (root_ / "views_resumed").string();
  first.epochs = 2;
  train(first);
  rest.resume = true;
  train(rest);
  expect_same_tensors(whole.out_dir + "/last.safetensors", rest.out_dir + "/last.safetensors");
  expect_same_history(whole.out_dir + "/history.csv", rest.out_dir + "/history.csv");

  PredictConfig p;
  p.checkpoints = {whole.out_dir + "/best.safetensors"};
  p.images = whole.data_dir + "/images_training_rev1";
  p.out = whole.out_dir + "/views.csv";
  p.tta = 8;
  predict_submission(p);
  data::LabelTable submission = data::read_labels(p.out);
  EXPECT_EQ(submission.rows(), 150u);
  data::TreeReport report = data::check_label_tree(submission, 2e-5);
  EXPECT_EQ(report.questions_checked.size(), 11u);
  EXPECT_EQ(report.rows_off, 0u) << (report.rows_off ? data::describe(report, p.out).front() : "");
}

// The submission's values, by GalaxyID.
std::map<int64_t, std::vector<float>> read_submission(const std::string& path) {
  data::LabelTable t = data::read_labels(path);
  std::map<int64_t, std::vector<float>> out;
  for (size_t r = 0; r < t.rows(); ++r) out[t.ids[r]].assign(t.row(r), t.row(r) + t.num_columns());
  return out;
}

// predict's ensembles, test-time views and scoring: an ensemble of one model
// twice is that model, of two models their mean; the eight views change the
// answers and repeat exactly; a label file of the test rows scores the test
// RMSE train reported; an ensemble of models with other columns is refused.
TEST_F(TrainEndToEnd, PredictAveragesEnsemblesAndViewsAndScores) {
  TrainConfig c = config("ensemble", 2);
  TrainResult trained = train(c);
  const std::string best = c.out_dir + "/best.safetensors", last = c.out_dir + "/last.safetensors";
  auto predict = [&](std::vector<std::string> checkpoints, int tta, const std::string& name) {
    PredictConfig p;
    p.checkpoints = std::move(checkpoints);
    p.images = c.data_dir + "/images_training_rev1";
    p.out = c.out_dir + "/" + name + ".csv";
    p.tta = tta;
    predict_submission(p);
    return read_submission(p.out);
  };
  const auto one = predict({best}, 1, "one"), twice = predict({best, best}, 1, "twice");
  EXPECT_EQ(one, twice);
  const auto other = predict({last}, 1, "other"), both = predict({best, last}, 1, "both");
  for (const auto& [id, values] : both)
    for (size_t k = 0; k < values.size(); ++k)
      ASSERT_NEAR(values[k], (one.at(id)[k] + other.at(id)[k]) / 2, 1.5e-6) << id;  // the CSV's 6 decimals
  const auto views = predict({best}, 8, "views");
  EXPECT_NE(views, one);
  EXPECT_EQ(views, predict({best}, 8, "views_again"));
  EXPECT_EQ(predict({best}, 10, "draws"), predict({best}, 10, "draws_again"));  // fixed augmentation draws

  // Scored on a label file of the test rows alone: the test RMSE train reported.
  data::LabelTable truth = data::read_labels(c.data_dir + "/training_solutions_rev1.csv");
  std::vector<int64_t> ids = test_ids(c.out_dir + "/split.csv");
  std::vector<float> values;
  for (int64_t id : ids)
    for (size_t r = 0; r < truth.rows(); ++r)
      if (truth.ids[r] == id) values.insert(values.end(), truth.row(r), truth.row(r) + truth.num_columns());
  data::write_labels(c.out_dir + "/test_labels.csv", truth.columns, ids, values);
  PredictConfig p;
  p.checkpoints = {best};
  p.images = c.data_dir + "/images_training_rev1";
  p.out = c.out_dir + "/scored.csv";
  p.labels = c.out_dir + "/test_labels.csv";
  PredictResult scored = predict_submission(p);
  ASSERT_TRUE(scored.scored);
  EXPECT_EQ(scored.score.galaxies, ids.size());
  EXPECT_NEAR(scored.score.rmse, trained.test_rmse, 1e-5);  // the label file keeps about 7 digits
  EXPECT_EQ(scored.score.per_question.size(), 11u);
  // A label file with other columns, or a number of views out of range, is refused by name.
  data::write_labels(c.out_dir + "/q1_labels.csv", {"Class1.1", "Class1.2", "Class1.3"}, {ids[0]}, {0.2f, 0.3f, 0.5f});
  p.labels = c.out_dir + "/q1_labels.csv";
  expect_error([&] { predict_submission(p); }, {p.labels, "its columns are not the 37 the model predicts"});
  p.labels.clear();
  for (int tta : {0, 65}) {
    p.tta = tta;
    expect_error([&] { predict_submission(p); }, {"--tta must be from 1 to 64 views, got " + std::to_string(tta)});
  }
  p.tta = 1;

  // A model predicting other columns (the same count, in another order) cannot join the ensemble.
  SafetensorsFile file = read_safetensors(last);
  std::map<std::string, std::string> metadata = file.metadata();
  std::string& columns = metadata["columns"];
  columns = columns.substr(columns.find(',') + 1) + "," + columns.substr(0, columns.find(','));
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const SafetensorsEntry& e : file.entries()) tensors.emplace_back(e.name, e.tensor);
  write_safetensors(c.out_dir + "/shuffled.safetensors", tensors, metadata);
  p.labels.clear();
  p.checkpoints = {best, c.out_dir + "/shuffled.safetensors"};
  expect_error([&] { predict_submission(p); }, {"shuffled.safetensors: predicts other columns than"});
}

// train, then predict_submission on every image, then the submission scored on
// the test rows of split.csv: the test RMSE train reported, so predict builds
// the same model, preprocesses the same way and writes each value under its column.
TEST_F(TrainEndToEnd, APredictedSubmissionScoresTheReportedTestRmse) {
  TrainConfig c = config("predicted", 2);
  TrainResult result = train(c);
  ASSERT_GT(result.test_rmse, 0);
  PredictConfig p;
  p.checkpoints = {c.out_dir + "/best.safetensors"};
  p.images = c.data_dir + "/images_training_rev1";
  p.out = c.out_dir + "/submission.csv";
  PredictResult predicted = predict_submission(p);
  data::LabelTable truth = data::read_labels(c.data_dir + "/training_solutions_rev1.csv");
  EXPECT_EQ(predicted.predictions, truth.ids.size());
  EXPECT_EQ(predicted.columns, 37u);
  data::LabelTable submission = data::read_labels(p.out);
  ASSERT_EQ(submission.columns, truth.columns);
  std::map<int64_t, size_t> row_of;
  for (size_t r = 0; r < submission.ids.size(); ++r) row_of[submission.ids[r]] = r;
  std::map<int64_t, size_t> truth_row;
  for (size_t r = 0; r < truth.ids.size(); ++r) truth_row[truth.ids[r]] = r;
  double sum = 0;
  size_t values = 0;
  for (int64_t id : test_ids(c.out_dir + "/split.csv")) {
    ASSERT_TRUE(row_of.count(id)) << id;
    for (size_t k = 0; k < truth.columns.size(); ++k) {
      double e = double(submission.row(row_of[id])[k]) - truth.row(truth_row[id])[k];
      sum += e * e;
      ++values;
    }
  }
  ASSERT_GT(values, 0u);
  EXPECT_NEAR(std::sqrt(sum / values), result.test_rmse, 2e-6);  // the CSV keeps 6 decimals
  p.batch = -1;
  expect_error([&] { predict_submission(p); }, {"--batch must be positive, got -1"});
}

}  // namespace
}  // namespace nebula
