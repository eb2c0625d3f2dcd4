// The apps end to end, run as a user would: make_galaxies writes a set
// check_data accepts, check_data refuses a malformed label file with one clear
// line and a non-zero exit, preview writes a PNG, train_cnn survives Ctrl-C and
// resumes a scheduled run exactly, and predict refuses bad arguments.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "data/image_io.h"
#include "tests/app_path.h"
#include "tests/data/data_test_util.h"

namespace nebula::data {
namespace {

struct Outcome {
  int status;
  std::string output;  // stdout and stderr
};

Outcome run(const std::string& command) {
  std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(DataApps, MakeCheckAndPreview) {
  test::TempDir dir;
  Outcome made = run(nebula::test::app_path(MAKE_GALAXIES) + " --out " + dir.path() + " --count 12 --seed 3");
  ASSERT_EQ(made.status, 0) << made.output;
  EXPECT_NE(made.output.find("wrote 12 galaxies"), std::string::npos) << made.output;

  Outcome checked = run(nebula::test::app_path(CHECK_DATA) + " --data " + dir.path());
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("37 columns"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("12 decoded, 0 broken"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("result: usable"), std::string::npos) << checked.output;

  // A broken image is named, and the set is still usable.
  const std::string image = dir.path() + "/images_training_rev1/100004.jpg";
  write_file_atomic(image, "not a jpeg");
  checked = run(nebula::test::app_path(CHECK_DATA) + " --data " + dir.path());
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("broken: GalaxyID 100004 (" + image + "): not a JPEG or PNG file"), std::string::npos)
      << checked.output;

  Outcome previewed = run(nebula::test::app_path(PREVIEW) + " --data " + dir.path() +
                          " --crop 250 --count 2 --augmented 3 --out " + dir.file("preview.png"));
  ASSERT_EQ(previewed.status, 0) << previewed.output;
  std::vector<uint8_t> png;
  std::string error;
  ASSERT_TRUE(read_file(dir.file("preview.png"), &png, &error)) << error;
  ImageDecoder decoder;
  Image picture;
  ASSERT_TRUE(decoder.decode(png.data(), png.size(), 1, &picture, &error)) << error;
  EXPECT_EQ(picture.width, 5 * 140 + 6 * 4);
  EXPECT_EQ(picture.height, 2 * 140 + 3 * 4);

  // A malformed label file: one line naming file, line and column; exit 1.
  std::string csv = read_text_file(dir.file("training_solutions_rev1.csv"));
  csv.replace(csv.find("Class1.2"), 8, "Class1.1");
  write_file_atomic(dir.file("training_solutions_rev1.csv"), csv);
  checked = run(nebula::test::app_path(CHECK_DATA) + " --data " + dir.path());
  EXPECT_EQ(checked.status, 1) << checked.output;
  EXPECT_EQ(checked.output, "check_data: error: " + dir.file("training_solutions_rev1.csv") +
                                ":1: column 3: duplicate column 'Class1.1' (also column 2)\n");
}

TEST(DataApps, BadArgumentsFailClearly) {
  Outcome missing = run(nebula::test::app_path(MAKE_GALAXIES) + " --count 3");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("--out is required"), std::string::npos) << missing.output;
  Outcome nowhere = run(nebula::test::app_path(CHECK_DATA) + " --data /nonexistent/galaxies");
  EXPECT_EQ(nowhere.status, 1);
  EXPECT_NE(nowhere.output.find("check_data: error: /nonexistent/galaxies: data folder not found"), std::string::npos)
      << nowhere.output;
}

// Ctrl-C during training: train_cnn finishes the step, saves its place, says how
// to resume and exits 130; the same command with --resume then completes the run.
TEST(TrainApps, CtrlCSavesTheRunAndExits130) {
  test::TempDir dir;
  ASSERT_EQ(run(nebula::test::app_path(MAKE_GALAXIES) + " --out " + dir.path() + " --count 60 --seed 4").status, 0);
  const std::string out = dir.file("run");
  const std::string command = nebula::test::app_path(TRAIN_CNN) + " --data " + dir.path() +
                              " --model cnn1 --input-size 48 --batch 4 --workers 1 --out " + out;
  pid_t child = ::fork();
  if (child == 0) {
    std::freopen(dir.file("log.txt").c_str(), "w", stdout);
    ::dup2(::fileno(stdout), 2);
    ::execl("/bin/sh", "sh", "-c", ("exec " + command + " --epochs 50").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(child, 0);
  for (int i = 0; i < 2000 && !is_file(out + "/split.csv"); ++i) ::usleep(10000);
  ::usleep(300000);
  ::kill(child, SIGINT);
  int status = 0;
  ::waitpid(child, &status, 0);
  const std::string log = read_text_file(dir.file("log.txt"));
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 130) << log;
  EXPECT_NE(log.find("stopped by SIGINT"), std::string::npos) << log;
  EXPECT_NE(log.find("with --resume to continue"), std::string::npos) << log;
  ASSERT_TRUE(is_file(out + "/last.safetensors")) << log;
  // Resumed up to the epoch it stopped in, the run completes.
  Outcome resumed;
  for (int epochs = 1; epochs <= 50; ++epochs) {  // the refusal names the epoch it stopped in
    resumed = run(command + " --resume --epochs " + std::to_string(epochs));
    if (resumed.output.find("beyond --epochs") == std::string::npos) break;
  }
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming " + out + "/last.safetensors"), std::string::npos) << resumed.output;
  EXPECT_TRUE(is_file(out + "/summary.json")) << resumed.output;
}

// The history's losses and RMSEs (every column but the timings).
std::vector<std::string> figures(const std::string& history_csv) {
  std::vector<std::string> rows;
  std::istringstream in(read_text_file(history_csv));
  for (std::string line; std::getline(in, line);) {
    size_t comma = 0;
    for (int k = 0; k < 5 && comma != std::string::npos; ++k) comma = line.find(',', comma + 1);
    rows.push_back(line.substr(0, comma));
  }
  return rows;
}

// The training options from the command line: SGD with Nesterov momentum, a
// warm-up and a step schedule, run for 2 epochs and resumed to 3, equals the
// 3-epoch run; the options are in summary.json; a cosine run cannot be
// resumed with other --epochs; bad options are refused in one line.
TEST(TrainApps, ScheduledRunResumesToTheUninterruptedRun) {
  test::TempDir dir;
  ASSERT_EQ(run(nebula::test::app_path(MAKE_GALAXIES) + " --out " + dir.path() + " --count 60 --seed 4").status, 0);
  const std::string base = nebula::test::app_path(TRAIN_CNN) + " --data " + dir.path() +
                           " --model cnn1 --input-size 48 --batch 8 --workers 1 --seed 2 --optimizer sgd --lr 0.05"
                           " --nesterov --warmup-epochs 1";
  const std::string step = base + " --lr-schedule step --lr-step-epochs 1 --lr-gamma 0.5";
  Outcome whole = run(step + " --epochs 3 --out " + dir.file("whole"));
  ASSERT_EQ(whole.status, 0) << whole.output;
  Outcome first = run(step + " --epochs 2 --out " + dir.file("resumed"));
  ASSERT_EQ(first.status, 0) << first.output;
  Outcome rest = run(step + " --epochs 3 --resume --out " + dir.file("resumed"));
  ASSERT_EQ(rest.status, 0) << rest.output;
  EXPECT_EQ(figures(dir.file("whole/history.csv")), figures(dir.file("resumed/history.csv")));
  EXPECT_EQ(figures(dir.file("whole/history.csv")).size(), 4u);
  const std::string summary = read_text_file(dir.file("resumed/summary.json"));
  for (const char* field : {"\"optimizer\": \"sgd\"", "\"nesterov\": true", "\"lr_schedule\": \"step\"",
                            "\"warmup_epochs\": 1", "\"lr_gamma\": 0.5", "\"stopped_early\": false"})
    EXPECT_NE(summary.find(field), std::string::npos) << field << " in " << summary;

  const std::string cosine = base + " --lr-schedule cosine --out " + dir.file("cosine");
  ASSERT_EQ(run(cosine + " --epochs 2").status, 0);
  Outcome longer = run(cosine + " --epochs 3 --resume");
  EXPECT_EQ(longer.status, 1);
  EXPECT_NE(longer.output.find("was written by a run with --epochs 2, not 3"), std::string::npos) << longer.output;

  const std::pair<const char*, const char*> bad[] = {
      {" --optimizer rmsprop", "train_cnn: --optimizer: 'rmsprop' is not adamax, adam, adamw or sgd\n"},
      {" --weight-decay -1", "train_cnn: --weight-decay must be 0 or more, got -1\n"},
      {" --optimizer adam --momentum 0.5", "train_cnn: --momentum applies to --optimizer sgd alone, not adam\n"},
      {" --warmup-epochs 4 --epochs 3",
       "train_cnn: --warmup-epochs 4 leaves no epoch after it in --epochs 3; give "
       "fewer warm-up epochs or more epochs\n"}};
  for (const auto& [options, message] : bad) {
    Outcome refused =
        run(nebula::test::app_path(TRAIN_CNN) + " --data " + dir.path() + " --out " + dir.file("bad") + options);
    EXPECT_EQ(refused.status, 1) << options;
    EXPECT_EQ(refused.output, message) << options;
  }
}

TEST(TrainApps, PredictRefusesABatchThatIsNotPositive) {
  Outcome refused = run(nebula::test::app_path(PREDICT) + " --checkpoint none.safetensors --images . --batch -1");
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.output.find("predict: --batch must be positive, got -1"), std::string::npos) << refused.output;
}

}  // namespace
}  // namespace nebula::data
