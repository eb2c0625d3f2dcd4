// PyTorch parity for imported ResNets. tools/make_resnet_fixtures.py writes a
// torchvision resnet18 and resnet50 with random weights and non-trivial
// batch-norm statistics (.pth, and .safetensors for resnet18), inputs, images
// and PyTorch's logits; the files are ~200 MB, so they are generated into the
// build tree (or $NEBULA_RESNET_FIXTURES) on first use (deterministic, seeded)
// rather than committed. Where /usr/bin/python3 (or $NEBULA_PYTHON) cannot
// import torch and torchvision, these tests skip and say so.
//
// Tolerance: |nebula - torch| <= 1e-4 * max|torch| over each logits tensor
// (the measured error is printed).
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "base/file_io.h"
#include "data/image_io.h"
#include "engine/safetensors.h"
#include "models/imagenet_preprocess.h"
#include "models/import_weights.h"
#include "tests/app_path.h"

namespace nebula {
namespace {

constexpr double kRelativeTolerance = 1e-4;

std::string source_dir() {
  const char* env = std::getenv("NEBULA_SOURCE_DIR");
  return env ? env : NEBULA_SOURCE_DIR_DEFAULT;
}
std::string fixtures() {
  const char* env = std::getenv("NEBULA_RESNET_FIXTURES");
  return env ? env : NEBULA_RESNET_FIXTURES;
}
std::string python() {
  const char* env = std::getenv("NEBULA_PYTHON");
  return env ? env : "/usr/bin/python3";
}

double mtime(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<double>(st.st_mtim.tv_sec) + 1e-9 * st.st_mtim.tv_nsec;
}

struct FixtureState {
  bool ready = false;
  std::string skip_reason;  // PyTorch absent
  std::string error;        // PyTorch present but the script failed
};

// Generates the fixtures once (under a file lock, as ctest may run these tests
// in parallel), again whenever the script is newer than them.
const FixtureState& fixture_state() {
  static const FixtureState state = [] {
    FixtureState s;
    std::string dir = fixtures();
    std::string script = source_dir() + "/tools/make_resnet_fixtures.py";
    std::string stamp = dir + "/resnet50_io.safetensors";  // the script's last file
    make_directories(dir);
    int lock = open((dir + "/.lock").c_str(), O_CREAT | O_RDWR, 0644);
    if (lock >= 0) flock(lock, LOCK_EX);
    if (mtime(stamp) >= 0 && mtime(stamp) >= mtime(script)) {
      s.ready = true;
    } else if (std::system((python() + " -c 'import torch, torchvision' >/dev/null 2>&1").c_str()) != 0) {
      s.skip_reason = python() +
                      " cannot import torch and torchvision, so the ResNet parity fixtures (too big to "
                      "commit) cannot be generated; set NEBULA_PYTHON to a Python with PyTorch";
    } else {
      std::string log = dir + "/make_resnet_fixtures.log";
      std::string command = python() + " '" + script + "' '" + dir + "' >'" + log + "' 2>&1";
      if (std::system(command.c_str()) != 0)
        s.error = "fixture generation failed: " + command;
      else
        s.ready = true;
    }
    if (lock >= 0) {
      flock(lock, LOCK_UN);
      close(lock);
    }
    return s;
  }();
  return state;
}

#define REQUIRE_FIXTURES()                                       \
  do {                                                           \
    const FixtureState& fs = fixture_state();                    \
    if (!fs.skip_reason.empty()) GTEST_SKIP() << fs.skip_reason; \
    ASSERT_TRUE(fs.ready) << fs.error;                           \
  } while (0)

// max |a - b| / max |b|
double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  EXPECT_EQ(got.size(), want.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    diff = std::max(diff, std::fabs(double(got[i]) - want[i]));
    scale = std::max(scale, std::fabs(double(want[i])));
  }
  return diff / scale;
}

std::vector<float> forward(Model& model, const Tensor& inputs) {
  model.network->eval();
  NoGradGuard no_grad;
  return (*model.network)(Variable(inputs)).value().to_vector();
}

void expect_logits_match(const std::string& weights, const std::string& model_name, const std::string& io,
                         const std::string& inputs_key, const std::string& logits_key, int size) {
  Model model = load_model(model_name, 0, size, size);
  ImportReport report = import_weights(weights, model);
  EXPECT_TRUE(report.unexpected.empty());
  EXPECT_GT(report.ignored_num_batches_tracked, 0);
  SafetensorsFile file = read_safetensors(io);
  std::vector<float> got = forward(model, file.at(inputs_key));
  double error = relative_error(got, file.at(logits_key).to_vector());
  std::printf("[ measured ] %s on %s: max |nebula - torch| / max |torch| = %.3g\n", model_name.c_str(), weights.c_str(),
              error);
  ::testing::Test::RecordProperty("max_relative_error", std::to_string(error));
  EXPECT_LE(error, kRelativeTolerance);
}

TEST(ResNet18Torch, PthLogitsMatch) {
  REQUIRE_FIXTURES();
  expect_logits_match(fixtures() + "/resnet18.pth", "resnet18-imagenet", fixtures() + "/resnet18_io.safetensors",
                      "inputs", "logits", 224);
}

TEST(ResNet18Torch, SafetensorsLogitsMatch) {
  REQUIRE_FIXTURES();
  expect_logits_match(fixtures() + "/resnet18.safetensors", "resnet18-imagenet",
                      fixtures() + "/resnet18_io.safetensors", "inputs", "logits", 224);
}

TEST(ResNet50Torch, PthLogitsMatchAtSmallSize) {
  REQUIRE_FIXTURES();
  expect_logits_match(fixtures() + "/resnet50.pth", "resnet50-imagenet", fixtures() + "/resnet50_io.safetensors",
                      "inputs", "logits", 64);
}

TEST(ResNet18Torch, GalaxyHeadTakesTheBackboneOnly) {
  REQUIRE_FIXTURES();
  Model model = load_model("resnet18", 37);
  ImportOptions options;
  options.freeze_backbone = true;
  ImportReport report = import_weights(fixtures() + "/resnet18.pth", model, options);
  EXPECT_EQ(report.unexpected, (std::vector<std::string>{"fc.bias", "fc.weight"}));
  EXPECT_EQ(report.head_missing, (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(report.backbone_parameters.size(), 60u);  // torchvision's 62 less fc.weight, fc.bias
  int trainable = 0;
  for (const NamedParameter& p : model.network->parameters()) trainable += p.variable.requires_grad();
  EXPECT_EQ(trainable, 4);
}

const char* kImages[] = {"square224.png", "wide300x260.png", "photo320x240.jpg"};

// The preprocessing (Pillow's resize, the centre crop, the normalisation)
// against torchvision's transforms on the same decoded files.
TEST(ResNet18Torch, PreprocessMatchesTorchvision) {
  REQUIRE_FIXTURES();
  SafetensorsFile io = read_safetensors(fixtures() + "/resnet18_io.safetensors");
  std::vector<float> want = io.at("image_inputs").to_vector();
  const size_t per_image = 3 * 224 * 224;
  data::ImageDecoder decoder;
  for (int i = 0; i < 3; ++i) {
    std::string path = fixtures() + "/images/" + kImages[i];
    std::vector<uint8_t> bytes;
    std::string error;
    ASSERT_TRUE(read_file(path, &bytes, &error)) << error;
    data::Image image;
    ASSERT_TRUE(decoder.decode(bytes.data(), bytes.size(), 1, &image, &error)) << error;
    std::vector<float> got(per_image);
    imagenet_preprocess(image, 224, got.data());
    double worst = 0;
    for (size_t j = 0; j < per_image; ++j) worst = std::max(worst, std::fabs(double(got[j]) - want[i * per_image + j]));
    // One 8-bit level is 1/255/0.225 = 0.0174 after normalisation: anything
    // below that means every pixel agrees.
    EXPECT_LT(worst, 1e-5) << kImages[i];
  }
}

// classify end to end: decoding, preprocessing, import, forward, the CSV.
TEST(ResNet18Torch, ClassifyMatchesTorch) {
  REQUIRE_FIXTURES();
  std::string csv = ::testing::TempDir() + "nebula_classify_logits.csv";
  std::string command = "'" + test::app_path(NEBULA_CLASSIFY) + "' --model resnet18 --weights '" + fixtures() +
                        "/resnet18.pth' --logits '" + csv + "'";
  for (const char* image : kImages) command += " '" + fixtures() + "/images/" + image + "'";
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  ASSERT_EQ(pclose(pipe), 0) << output;
  EXPECT_NE(output.find("square224.png\n"), std::string::npos) << output;
  EXPECT_NE(output.find("%  "), std::string::npos) << output;

  SafetensorsFile io = read_safetensors(fixtures() + "/resnet18_io.safetensors");
  std::vector<float> want = io.at("image_logits").to_vector();
  std::ifstream in(csv);
  std::string line;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(std::getline(in, line)) << "line " << i + 1 << " of " << csv;
    std::istringstream fields(line);
    std::string path, value;
    std::getline(fields, path, ',');
    EXPECT_EQ(path, fixtures() + "/images/" + kImages[i]);
    std::vector<float> got;
    while (std::getline(fields, value, ',')) got.push_back(std::stof(value));
    ASSERT_EQ(got.size(), 1000u);
    double error = relative_error(got, std::vector<float>(want.begin() + i * 1000, want.begin() + (i + 1) * 1000));
    std::printf("[ measured ] classify %s: max |nebula - torch| / max |torch| = %.3g\n", kImages[i], error);
    EXPECT_LE(error, kRelativeTolerance) << kImages[i];
  }
  EXPECT_FALSE(std::getline(in, line));
}

TEST(Classify, BadWeightsGiveOneLineAndExitOne) {
  std::string bogus = ::testing::TempDir() + "nebula_bogus.pth";
  std::ofstream(bogus) << "PK not really a zip";
  std::string command =
      "'" + test::app_path(NEBULA_CLASSIFY) + "' --model resnet18 --weights '" + bogus + "' x.jpg 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  int status = pclose(pipe);
  EXPECT_EQ(WEXITSTATUS(status), 1) << output;
  EXPECT_EQ(output.rfind("classify: " + bogus + ": ", 0), 0u) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
}

}  // namespace
}  // namespace nebula
