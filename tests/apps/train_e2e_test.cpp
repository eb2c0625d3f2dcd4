// End to end on the CPU: render a few hundred synthetic galaxies, train a small
// CNN on them through the same job train_cnn runs, and check that it learnt from
// the pixels (beats predicting the training mean), that a resumed run equals an
// uninterrupted one bit for bit, and that a diverging run stops cleanly.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "train/history.h"
#include "train/trainer.h"
#include "base/file_io.h"
#include "data/synth.h"
#include "engine/device.h"
#include "base/error.h"
#include "engine/safetensors.h"

namespace nebula {
namespace {

namespace fs = std::filesystem;

const char* kSmallModel = R"(
input 3 32 32
crop 250
conv 16 3 relu
maxpool 2
conv 32 3 relu
maxpool 2
conv 32 3 relu
maxpool 2
flatten
dense 64 relu
dense outputs sigmoid
)";

class TrainEndToEnd : public ::testing::Test {
 protected:
  // ctest runs each test in its own process, so each renders only the
  // galaxies it needs, into its own folder.
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("nebula_e2e_" + std::to_string(::getpid()));
    fs::create_directories(root_);
    write_file_atomic((root_ / "small.model").string(), kSmallModel);
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  TrainConfig config(const std::string& run, int epochs, size_t galaxies = 150) const {
    std::string dir = (root_ / ("galaxies" + std::to_string(galaxies))).string();
    if (!fs::exists(dir)) data::make_galaxies(dir, galaxies, 1);
    TrainConfig c;
    c.data_dir = dir;
    c.model = (root_ / "small.model").string();
    c.epochs = epochs;
    c.batch = 20;
    c.lr = 3e-3f;
    c.split = galaxies >= 600 ? "400/100/100" : "0.6/0.2/0.2";
    c.augment = false;
    c.out_dir = (root_ / run).string();
    c.quiet = true;
    c.seed = 5;
    return c;
  }

  static fs::path root_;
};

fs::path TrainEndToEnd::root_;

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
  SafetensorsFile a = read_safetensors((root_ / "whole" / "last.safetensors").string());
  SafetensorsFile b = read_safetensors((root_ / "resumed" / "last.safetensors").string());
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (const SafetensorsEntry& entry : a.entries())
    EXPECT_EQ(entry.tensor.to_vector(), b.at(entry.name).to_vector()) << entry.name;
  // The histories agree on every loss and RMSE (their timings differ, of course).
  std::string whole_path = (root_ / "whole" / "history.csv").string();
  std::string resumed_path = (root_ / "resumed" / "history.csv").string();
  std::vector<EpochRecord> h1 = parse_history_csv(read_text_file(whole_path), whole_path);
  std::vector<EpochRecord> h2 = parse_history_csv(read_text_file(resumed_path), resumed_path);
  ASSERT_EQ(h1.size(), 3u);
  ASSERT_EQ(h2.size(), 3u);
  for (size_t i = 0; i < h1.size(); ++i) {
    EXPECT_EQ(h1[i].epoch, h2[i].epoch);
    EXPECT_EQ(h1[i].train_loss, h2[i].train_loss) << "epoch " << h1[i].epoch;
    EXPECT_EQ(h1[i].train_rmse, h2[i].train_rmse) << "epoch " << h1[i].epoch;
    EXPECT_EQ(h1[i].val_loss, h2[i].val_loss) << "epoch " << h1[i].epoch;
    EXPECT_EQ(h1[i].val_rmse, h2[i].val_rmse) << "epoch " << h1[i].epoch;
  }
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
  EXPECT_THROW(train(c), Error);
  c = config("bad", 1);
  c.model = "no-such-model";
  EXPECT_THROW(train(c), Error);
  c = config("bad", 1);
  c.data_dir = (root_ / "nowhere").string();
  EXPECT_THROW(train(c), Error);
  // The GPU flags: a backend that does not exist, and a device that is not there.
  c = config("bad", 1);
  c.backend = "tpu";
  try {
    train(c);
    ADD_FAILURE() << "--backend tpu was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--backend"), std::string::npos) << e.what();
  }
  c = config("bad", 1);
  c.device = "gpu0";
  EXPECT_THROW(train(c), Error);
  if (!cuda_available()) {
    c = config("bad", 1);
    c.device = "cuda";  // asked for by name, so no quiet fall back to the CPU
    EXPECT_THROW(train(c), Error);
  }
}

}  // namespace
}  // namespace nebula
