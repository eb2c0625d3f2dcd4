// The end-to-end training tests' shared parts: a small CNN, a fixture that
// renders synthetic galaxies once per process and gives a fast TrainConfig,
// and checks that two runs trained alike (history and tensors bit for bit).
#pragma once
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/file_io.h"
#include "data/synth.h"
#include "engine/safetensors.h"
#include "train/history.h"
#include "train/trainer.h"

namespace nebula {
namespace train_test {

namespace fs = std::filesystem;

inline const char* const kSmallModel = R"(
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

inline fs::path TrainEndToEnd::root_;

// Runs f, which must throw nebula::Error with every fragment in its one-line message.
inline void expect_error(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one with '" << fragments.front() << "'";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    for (const std::string& fragment : fragments) EXPECT_NE(what.find(fragment), std::string::npos) << what;
  }
}

// Trains, sending itself SIGINT right after the step (epoch, batch): the real
// handler runs, as for a Ctrl-C there. SIGINT is ignored around the run, so a
// signal after the run would change nothing.
inline TrainResult train_and_interrupt(TrainConfig c, int epoch, size_t batch) {
  struct sigaction ignore = {}, before = {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ignore, &before);
  c.after_step = [epoch, batch](int e, size_t b) {
    if (e == epoch && b == batch) ::raise(SIGINT);
  };
  TrainResult result;
  try {
    result = train(c);
  } catch (...) {
    sigaction(SIGINT, &before, nullptr);
    throw;
  }
  sigaction(SIGINT, &before, nullptr);
  return result;
}

inline void expect_same_history(const std::string& a_path, const std::string& b_path) {
  std::vector<EpochRecord> a = parse_history_csv(read_text_file(a_path), a_path);
  std::vector<EpochRecord> b = parse_history_csv(read_text_file(b_path), b_path);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {  // every loss and RMSE (their timings differ, of course)
    EXPECT_EQ(a[i].epoch, b[i].epoch);
    EXPECT_EQ(a[i].train_loss, b[i].train_loss) << "epoch " << a[i].epoch;
    EXPECT_EQ(a[i].train_rmse, b[i].train_rmse) << "epoch " << a[i].epoch;
    EXPECT_EQ(a[i].val_loss, b[i].val_loss) << "epoch " << a[i].epoch;
    EXPECT_EQ(a[i].val_rmse, b[i].val_rmse) << "epoch " << a[i].epoch;
  }
}

inline void expect_same_tensors(const std::string& a_path, const std::string& b_path) {
  SafetensorsFile a = read_safetensors(a_path);
  SafetensorsFile b = read_safetensors(b_path);
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (const SafetensorsEntry& entry : a.entries())
    EXPECT_EQ(entry.tensor.to_vector(), b.at(entry.name).to_vector()) << entry.name;
}

}  // namespace train_test
}  // namespace nebula
