// Model files: the built-ins parse into the study's architectures, and a bad
// file gets an error naming its line.
#include <gtest/gtest.h>

#include "base/error.h"
#include "models/model_file.h"

namespace nebula {
namespace {

TEST(ModelFile, Cnn1MatchesTheStudy) {
  Model model = load_model("cnn1", 37);
  EXPECT_EQ(model.spec.height, 100);
  EXPECT_EQ(model.spec.crop, 0);
  EXPECT_EQ(model.network->output_shape(model.input_shape(100)), (Shape{100, 37}));
  // Keras's model.summary() for this network: 1,308,901 trainable parameters.
  EXPECT_EQ(model.network->parameter_count(), 1308901);
}

TEST(ModelFile, Cnn2AndCnn3CropAndShrink) {
  Model cnn2 = load_model("cnn2", 37);
  EXPECT_EQ(cnn2.spec.crop, 250);
  EXPECT_EQ(cnn2.spec.height, 70);
  // 70 -> 68 -> 34 -> 32 -> 16 -> 14 -> 7 -> 5 -> 2: flatten gives 128 * 2 * 2.
  EXPECT_EQ(cnn2.network->parameter_count(), 896 + 18496 + 73856 + 147584 + (512 * 512 + 512) + (512 * 37 + 37));
  Model cnn3 = load_model("cnn3", 18);
  EXPECT_EQ(cnn3.network->output_shape(cnn3.input_shape(4)), (Shape{4, 18}));
  EXPECT_EQ(cnn3.network->parameter_count(),
            896 + (32 * 96 * 9 + 96) + (96 * 128 * 9 + 128) + 147584 + (512 * 96 + 96) + (96 * 64 + 64) + (64 * 18 + 18));
}

TEST(ModelFile, InputSizeOverride) {
  Model model = load_model("cnn1", 5, 64, 64);
  EXPECT_EQ(model.network->output_shape(model.input_shape(1)), (Shape{1, 5}));
}

void expect_error(const std::string& text, const std::string& fragment) {
  try {
    parse_model(text, "my.model", 37);
    FAIL() << "expected an error containing '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ModelFile, BadFilesAreRefusedWithTheLine) {
  expect_error("conv 3 3\n", "must start with 'input");
  expect_error("input 3 32 32\nconv 8 three\n", "my.model:2: conv");
  expect_error("input 3 32 32\nconv 8 3 rleu\n", "unknown option 'rleu'");
  expect_error("input 3 32 32\nwibble 3\n", "my.model:2: wibble: unknown layer");
  expect_error("input 3 32 32\ndense 10\n", "needs a flat input");
  expect_error("input 3 8 8\nconv 8 3\nmaxpool 2\nmaxpool 2\nmaxpool 2\n", "my.model:5");
  expect_error("input 3 8 8\ndropout 1.5\n", "rate must be in [0, 1)");
  EXPECT_THROW(load_model("no-such-model", 37), Error);
}

TEST(ModelFile, StageAndNameErrorsNameTheLine) {
  expect_error("input 3 32 32\nstage wide 64\n", "my.model:2: stage: block type must be 'basic' or 'bottleneck'");
  expect_error("input 3 32 32\nstage\n", "my.model:2: stage: missing block type");
  expect_error("input 3 32 32\nstage basic 8 blocks=0\n", "blocks must be at least 1");
  expect_error("input 3 32 32\nstage basic 8 strides=2\n", "unknown option 'strides=2'");
  expect_error("input 3 32 32\ngap\nstage basic 8\n", "needs an image input");
  expect_error("input 3 32 32\nconv 8 3 name=a\nconv 8 3 name=a\n", "my.model:3: conv: name 'a' is already used");
  expect_error("input 3 32 32\nconv 8 3 name=a.b\n", "may hold only letters");
  expect_error("input 3 32 32\nconv 8 3 name=7\n", "must not be a bare number");
  expect_error("input 3 32 32\nhead\nhead\ngap\n", "only one head line");
  expect_error("input 3 32 32\ngap\nhead\n", "the head line has no layers after it");
}

TEST(ModelFile, UserModelWithEveryKeyword) {
  Model model = parse_model(
      "# mine\ninput 3 33 33\ncrop 200\nconv 8 3 stride=2 same nobias\nbatchnorm relu\n"
      "conv 8 3 pad=1 relu\nmaxpool 3 stride=2 pad=1\ngap\ndropout 0.2\ndense 16 relu\ndense outputs sigmoid\n",
      "mine.model", 4);
  EXPECT_EQ(model.spec.crop, 200);
  EXPECT_EQ(model.network->output_shape(model.input_shape(2)), (Shape{2, 4}));
}

}  // namespace
}  // namespace nebula
