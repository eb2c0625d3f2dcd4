// Model files: the built-ins parse into the study's architectures, and a bad
// or hostile file is refused with one line naming the file, the line and the
// problem, before it can allocate anything (models/model_limits.h).
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "base/error.h"
#include "base/random.h"
#include "data/galaxy_tree.h"
#include "engine/autograd.h"
#include "models/model_file.h"
#include "models/model_limits.h"

namespace nebula {
namespace {

TEST(ModelFile, Cnn1MatchesTheStudy) {
  Model model = load_model("cnn1", 37);
  EXPECT_EQ(model.spec.height, 100);
  EXPECT_EQ(model.spec.crop, 0);
  EXPECT_EQ(model.network->output_shape(model.input_shape(100)), (Shape{100, 37}));
  // Keras's model.summary() for this network: 1,308,901 trainable parameters.
  EXPECT_EQ(model.network->parameter_count(), 1308901);
  EXPECT_EQ(model.spec.parameters, 1308901);
}

TEST(ModelFile, Cnn2AndCnn3CropAndShrink) {
  Model cnn2 = load_model("cnn2", 37);
  EXPECT_EQ(cnn2.spec.crop, 250);
  EXPECT_EQ(cnn2.spec.height, 70);
  // 70 -> 68 -> 34 -> 32 -> 16 -> 14 -> 7 -> 5 -> 2: flatten gives 128 * 2 * 2.
  EXPECT_EQ(cnn2.network->parameter_count(), 896 + 18496 + 73856 + 147584 + (512 * 512 + 512) + (512 * 37 + 37));
  Model cnn3 = load_model("cnn3", 18);
  EXPECT_EQ(cnn3.network->output_shape(cnn3.input_shape(4)), (Shape{4, 18}));
  EXPECT_EQ(cnn3.network->parameter_count(), 896 + (32 * 96 * 9 + 96) + (96 * 128 * 9 + 128) + 147584 +
                                                 (512 * 96 + 96) + (96 * 64 + 64) + (64 * 18 + 18));
}

TEST(ModelFile, InputSizeOverride) {
  Model model = load_model("cnn1", 5, 64, 64);
  EXPECT_EQ(model.network->output_shape(model.input_shape(1)), (Shape{1, 5}));
}

// The error parsing `text` gives, or "" when it parses.
std::string error_of(const std::string& text, int outputs = 37) {
  try {
    parse_model(text, "my.model", outputs);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// `expected` names the file, the line and the problem: "my.model:LINE: keyword: problem".
void expect_error(const std::string& text, const std::string& expected) {
  std::string message = error_of(text);
  EXPECT_NE(message.find(expected), std::string::npos) << "expected '" << expected << "', got '" << message << "'";
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
}

TEST(ModelFile, BadFilesAreRefusedWithTheLine) {
  expect_error("", "my.model: the model file has no layers (it must start with 'input C H W')");
  expect_error("# only a comment\nconv 3 3\n", "my.model:2: a model file must start with 'input C H W', found 'conv'");
  expect_error("input 3 32 32\nconv 8 three\n",
               "my.model:2: conv: kernel size must be an integer of at least 1, got 'three'");
  expect_error("input 3 32 32\nconv 8\n", "my.model:2: conv: missing kernel size (conv FILTERS KERNEL");
  expect_error("input 3 32 32\nconv 8 3 rleu\n", "my.model:2: conv: unknown option 'rleu'");
  expect_error("input 3 32 32\nconv 8 3 same pad=1\n", "my.model:2: conv: give at most one of same, valid and pad=P");
  expect_error("input 3 32 32\nwibble 3\n", "my.model:2: wibble: unknown layer (known: input crop conv");
  expect_error("input 3 32 32\ndense 10\n", "my.model:2: dense: needs a flat input [N, features], got [1, 3, 32, 32]");
  expect_error("input 3 8 8\nconv 8 3\nmaxpool 2\nmaxpool 2\nmaxpool 2\n",
               "my.model:5: maxpool: the window 2x2 is larger than the input [1, 8, 1, 1] (no padding)");
  expect_error("input 3 8 8\nmaxpool 3 pad=2\n",
               "my.model:2: maxpool: padding 2 must be at most half the kernel size 3");
  expect_error("input 3 8 8\ndropout 1.5\n", "my.model:2: dropout: rate must be in [0, 1), got 1.5");
  expect_error("input 3 8 8\ninput 3 8 8\n", "my.model:2: input: only one input line is allowed");
  EXPECT_EQ(error_of("input 3 8 8\ngap\ndense outputs\n"), "");  // 37 outputs given
  EXPECT_NE(
      error_of("input 3 8 8\ngap\ndense outputs\n", 0).find("my.model:3: dense: 'dense outputs' needs the number"),
      std::string::npos);
  try {
    load_model("no-such-model", 37);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model 'no-such-model': no such built-in model (cnn1"), std::string::npos)
        << e.what();
  }
}

TEST(ModelFile, StageAndNameErrorsNameTheLine) {
  expect_error("input 3 32 32\nstage wide 64\n", "my.model:2: stage: block type must be 'basic' or 'bottleneck'");
  expect_error("input 3 32 32\nstage\n", "my.model:2: stage: missing block type");
  expect_error("input 3 32 32\nstage basic 8 blocks=0\n",
               "my.model:2: stage: blocks must be an integer of at least 1, got '0'");
  expect_error("input 3 32 32\nstage basic 8 strides=2\n", "my.model:2: stage: unknown option 'strides=2'");
  expect_error("input 3 32 32\ngap\nstage basic 8\n",
               "my.model:3: stage: stage needs an image input [N, C, H, W], got [1, 3]");
  expect_error("input 3 32 32\nconv 8 3 name=a\nconv 8 3 name=a\n", "my.model:3: conv: name 'a' is already used");
  expect_error("input 3 32 32\nconv 8 3 name=a.b\n", "my.model:2: conv: name 'a.b' may hold only letters");
  expect_error("input 3 32 32\nconv 8 3 name=7\n", "my.model:2: conv: name '7' must not be a bare number");
  expect_error("input 3 32 32\nhead\nhead\ngap\n", "my.model:3: head: only one head line");
  expect_error("input 3 32 32\ngap\nhead\n", "my.model: the head line has no layers after it");
}

// 'init kaiming' redraws every weight torchvision's way (its law against
// torchvision's own: tests/torch/resnet_init_torch_test.cpp); without the line,
// or with 'init glorot', the weights are Keras's, drawn as they always were.
TEST(ModelFile, InitLineChoosesTheInitialisation) {
  const std::string body = "conv 8 3 nobias\nbatchnorm relu\nflatten\ndense 4\n";
  auto weights = [](const std::string& text) {
    manual_seed(3);
    Model m = parse_model(text, "my.model", 37);
    std::vector<std::vector<float>> out;
    for (NamedParameter& p : m.network->parameters()) out.push_back(p.variable.value().to_vector());
    return std::make_pair(m.spec.init, out);
  };
  const auto plain = weights("input 3 8 8\n" + body), glorot = weights("input 3 8 8\ninit glorot\n" + body);
  const auto kaiming = weights("input 3 8 8\ninit kaiming\n" + body);
  EXPECT_EQ(plain.first, "glorot");
  EXPECT_EQ(kaiming.first, "kaiming");
  EXPECT_EQ(plain.second, glorot.second);
  ASSERT_EQ(kaiming.second.size(), 5u);  // conv weight, batch norm weight and bias, dense weight and bias
  EXPECT_NE(kaiming.second[0], plain.second[0]);
  EXPECT_EQ(kaiming.second[1], std::vector<float>(8, 1.0f));
  EXPECT_EQ(kaiming.second[2], std::vector<float>(8, 0.0f));
  // The dense layer: nn.Linear's U(+-1/sqrt(in)), its bias too (Keras's starts at 0).
  const float bound = 1.0f / std::sqrt(8.0f * 6 * 6);
  for (size_t k : {size_t(3), size_t(4)})
    for (float v : kaiming.second[k]) EXPECT_LE(std::abs(v), bound) << k;
  EXPECT_EQ(plain.second[4], std::vector<float>(4, 0.0f));
  EXPECT_NE(kaiming.second[4], plain.second[4]);
  EXPECT_EQ(weights("input 3 8 8\ninit kaiming\n" + body).second, kaiming.second);  // the seed decides
  expect_error("input 3 8 8\ninit he\n" + body, "my.model:2: init: initialisation must be 'glorot' or 'kaiming'");
  expect_error("input 3 8 8\ninit kaiming\ninit glorot\n" + body, "my.model:3: init: only one init line");
  expect_error("input 3 8 8\ninit\n" + body, "my.model:2: init: missing initialisation");
}

// Every number is parsed whole: trailing garbage, signs and exponents are errors naming the field.
TEST(ModelFile, NumbersAreParsedWhole) {
  expect_error("input 3 32 32abc\n", "my.model:1: input: width must be an integer of at least 1, got '32abc'");
  expect_error("input 3 32 32\nconv 8x 3\n", "my.model:2: conv: filters must be an integer of at least 1, got '8x'");
  expect_error("input 3 32 32\nconv 8 3 stride=2abc\n",
               "my.model:2: conv: stride must be an integer of at least 1, got '2abc'");
  expect_error("input 3 32 32\nconv 8 3 stride=+2\n",
               "my.model:2: conv: stride must be an integer of at least 1, got '+2'");
  expect_error("input 3 32 32\nconv 8 3 pad=-1\n", "my.model:2: conv: pad must be an integer of at least 0, got '-1'");
  expect_error("input 3 32 32\nconv 1e3 3\n", "my.model:2: conv: filters must be an integer of at least 1, got '1e3'");
  expect_error("input 3 32 32\nmaxpool 2 stride=\n",
               "my.model:2: maxpool: stride must be an integer of at least 1, got ''");
  expect_error("input 3 32 32\nconv 99999999999 3\n",
               "my.model:2: conv: filters '99999999999' is too large (at most 2147483647)");
  expect_error("input 3 32 32\ncrop 2147483648\n", "my.model:2: crop: crop size '2147483648' is too large");
  expect_error("input 3 32 32\ngap\ndropout 0.5abc\n", "my.model:3: dropout: rate must be a number, got '0.5abc'");
  expect_error("input 3 32 32\ngap\ndense 10 nobias=1\n", "my.model:3: dense: unknown option 'nobias=1'");
}

// Sizes that overflow 32 or 64 bits are errors, never undefined behaviour.
TEST(ModelFile, OverflowingSizesAreRefused) {
  expect_error("input 2147483647 2147483647 2147483647\n",
               "my.model:1: input: the output [1, 2147483647, 2147483647, 2147483647] has more elements than 64 bits");
  // 4 x channels of a bottleneck.
  expect_error("input 3 32 32\nstage bottleneck 1073741824\n",
               "my.model:2: stage: the block output (4 x channels) 4294967296 is larger than the 32-bit sizes");
  // 2 x pad on top of a tall input.
  expect_error("input 1 2000000000 1\nconv 1 1 pad=1000000000\n",
               "my.model:2: conv: the padded size 4000000000 is larger than the 32-bit sizes the layers compute in");
  // Keras 'same' computes in + stride - 1.
  expect_error("input 1 2147483647 1\nconv 1 1 stride=2 same\n",
               "my.model:2: conv: the padded size 2147483648 is larger than the 32-bit sizes");
}

// Strides and padding past the input image only stretch the arithmetic.
TEST(ModelFile, HugeStridesAreRefused) {
  expect_error("input 3 32 32\nconv 8 3 stride=2147483647\n",
               "my.model:2: conv: stride 2147483647 is larger than the input image (32)");
  expect_error("input 3 32 32\nconv 8 3 stride=2147483647 same\n", "my.model:2: conv: stride 2147483647 is larger");
  expect_error("input 3 32 32\nmaxpool 2 stride=2147483647\n", "my.model:2: maxpool: stride 2147483647 is larger");
  expect_error("input 3 32 32\nstage basic 8 stride=2147483647\n", "my.model:2: stage: stride 2147483647 is larger");
  expect_error("input 3 32 32\nconv 8 3 pad=33\n", "my.model:2: conv: padding 33 is larger than the input image (32)");
  // A stride as large as the image is still a model.
  EXPECT_EQ(error_of("input 3 32 32\nconv 8 3 stride=32\nflatten\ndense 2\n"), "");
}

// Parses `text` in a child process whose address space may grow by at most
// `cap` bytes, and returns its error message ("parsed" when it parsed). A
// reader that allocated before it checked would die there in bad_alloc instead.
std::string error_within_memory(const std::string& text, size_t cap = size_t{256} << 20) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    long pages = 0;
    if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
      std::fclose(statm);
    }
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max = static_cast<rlim_t>(pages) * ::sysconf(_SC_PAGESIZE) + cap;
    std::string message = "parsed";
    if (pages == 0 || ::setrlimit(RLIMIT_AS, &limit) != 0)
      message = "could not cap the memory";
    else
      try {
        parse_model(text, "my.model", 37);
      } catch (const std::bad_alloc&) {
        message = "std::bad_alloc";
      } catch (const Error& e) {
        message = e.what();
      }
    ssize_t written = ::write(pipe_fds[1], message.data(), message.size());
    ::_exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0;) message.append(buffer, size_t(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return message;
}

// An environment variable set for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(ModelFile, GiantModelsAreRefusedBeforeAnyAllocation) {
  auto expect_refused = [](const std::string& text, const std::string& expected) {
    std::string message = error_within_memory(text);
    EXPECT_NE(message.find(expected), std::string::npos) << "expected '" << expected << "', got '" << message << "'";
  };
  // 100 million 3x3 filters over 3 channels: 2.8 billion parameters (11 GB).
  expect_refused("input 3 32 32\nconv 100000000 3\n",
                 "my.model:2: conv: the model would have 2800000000 parameters, over the limit of 1000000000 (set "
                 "NEBULA_MAX_PARAMETERS to raise it)");
  // Two billion BasicBlocks, costed without building (or looping over) one of them.
  expect_refused("input 3 32 32\nconv 64 3 pad=1\nstage basic 64 blocks=2147483647\n",
                 "my.model:3: stage: the model would have ");
  expect_refused("input 3 32 32\nconv 64 3 pad=1\nstage basic 64 blocks=2147483647\n",
                 "parameters, over the limit of 1000000000 (set NEBULA_MAX_PARAMETERS to raise it)");
  // A huge input: 3 x 100000 x 100000 floats is 120 GB for one sample.
  expect_refused("input 3 100000 100000\n",
                 "my.model:1: input: one sample's layer outputs would take 30000000000 floats, over the limit of "
                 "68719476736 bytes a batch (set NEBULA_MAX_ACTIVATION_BYTES to raise it)");
  // The cap itself is real: a model within the limits (230 million parameters) but past the cap dies in it.
  EXPECT_EQ(error_within_memory("input 3 32 32\nconv 64 3\nflatten\ndense 4000\n"), "std::bad_alloc");
}

TEST(ModelFile, LimitsAreSetByEnvironmentVariables) {
  {
    // Raising the parameter limit leaves the activation limit to refuse it: 1e8 x 30 x 30 floats.
    ScopedEnv parameters("NEBULA_MAX_PARAMETERS", "3000000000");
    std::string message = error_within_memory("input 3 32 32\nconv 100000000 3\n");
    EXPECT_NE(message.find("my.model:2: conv: one sample's layer outputs would take 90000003072 floats, over the "
                           "limit of 68719476736 bytes a batch (set NEBULA_MAX_ACTIVATION_BYTES"),
              std::string::npos)
        << message;
  }
  {
    ScopedEnv parameters("NEBULA_MAX_PARAMETERS", "1000000");
    expect_error("input 3 100 100\nconv 32 3 relu\nmaxpool 2\nconv 64 3 relu\nflatten\ndense 512\n",
                 "my.model:6: dense: the model would have 72404416 parameters, over the limit of 1000000 (set "
                 "NEBULA_MAX_PARAMETERS to raise it)");
  }
  {
    ScopedEnv bytes("NEBULA_MAX_ACTIVATION_BYTES", "100000");
    expect_error("input 3 100 100\n",
                 "my.model:1: input: one sample's layer outputs would take 30000 floats, over the "
                 "limit of 100000 bytes a batch");
  }
  {
    ScopedEnv bytes("NEBULA_MAX_ACTIVATION_BYTES", "200000");
    expect_error("input 3 100 100\nconv 8 3\n",
                 "my.model:2: conv: one sample's layer outputs would take 106832 floats, "
                 "over the limit of 200000 bytes a batch");
  }
  for (const char* bad : {"abc", "12abc", "-5", "0", "99999999999999999999"}) {
    ScopedEnv parameters("NEBULA_MAX_PARAMETERS", bad);
    EXPECT_NE(error_of("input 3 8 8\ngap\n")
                  .find(std::string("NEBULA_MAX_PARAMETERS: '") + bad + "' is not a positive whole number"),
              std::string::npos)
        << bad;
  }
}

TEST(ModelFile, BatchesAreCheckedAgainstTheActivationLimit) {
  // ResNet-50 at 224 x 224: every layer's output of one sample, as the plan counts them.
  Model resnet50 = load_model("resnet50-imagenet", 0);
  EXPECT_EQ(resnet50.spec.parameters, 25557032);
  EXPECT_GT(resnet50.spec.activation_bytes_per_sample, int64_t{100} << 20);
  EXPECT_LT(resnet50.spec.activation_bytes_per_sample, int64_t{200} << 20);
  EXPECT_NO_THROW(check_batch_fits(resnet50, 100));  // the defaults take batch 100 at least
  ModelLimits small;
  small.activation_bytes = resnet50.spec.activation_bytes_per_sample * 10;
  EXPECT_NO_THROW(check_batch_fits(resnet50, 10, small));
  try {
    check_batch_fits(resnet50, 11, small);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("resnet50-imagenet: a batch of 11 needs "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("(set NEBULA_MAX_ACTIVATION_BYTES to raise it"), std::string::npos)
        << e.what();
  }
  try {
    check_batch_fits(resnet50, INT_MAX);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a batch of 2147483647 needs"), std::string::npos) << e.what();
  }
}

TEST(ModelFile, UserModelWithEveryKeyword) {
  Model model = parse_model(
      "# mine\ninput 3 33 33\ncrop 200\nconv 8 3 stride=2 same nobias\nbatchnorm relu\n"
      "conv 8 3 pad=1 relu\nmaxpool 3 stride=2 pad=1\ngap\ndropout 0.2\ndense 16 relu\ndense outputs sigmoid\n",
      "mine.model", 4);
  EXPECT_EQ(model.spec.crop, 200);
  EXPECT_EQ(model.network->output_shape(model.input_shape(2)), (Shape{2, 4}));
  EXPECT_EQ(model.spec.parameters, model.network->parameter_count());
  // The input, conv, batchnorm, relu, conv, relu (8 x 17 x 17 each), maxpool (8 x 9 x 9), then
  // gap, dropout (8), dense, relu (16), dense, sigmoid (4).
  EXPECT_EQ(model.spec.activation_bytes_per_sample,
            4 * (3 * 33 * 33 + 5 * 8 * 17 * 17 + 8 * 9 * 9 + 2 * 8 + 2 * 16 + 2 * 4));
}

// ---- The decision-tree output: 'dense outputs galaxytree'.

const char* kTreeModel = "input 3 16 16\nconv 4 3 relu\nmaxpool 2\nflatten\ndense 8 relu\ndense outputs galaxytree\n";

const std::vector<std::string> kSampleColumns = {"Class1.1", "Class1.2", "Class1.3", "Class2.1", "Class2.2", "Class6.1",
                                                 "Class6.2", "Class7.1", "Class7.2", "Class7.3", "Class8.1", "Class8.2",
                                                 "Class8.3", "Class8.4", "Class8.5", "Class8.6", "Class8.7"};

// Each question's answers sum to the parent answer (or 1), to 1e-6, in every row.
void expect_tree_holds(const std::vector<std::string>& columns, const std::vector<float>& y, size_t rows) {
  std::vector<int> classes;
  for (const std::string& c : columns) classes.push_back(data::class_index(c));
  for (size_t r = 0; r < rows; ++r) {
    std::vector<data::TreeViolation> off;
    data::check_tree(classes, y.data() + r * columns.size(), 1e-6, &off);
    EXPECT_TRUE(off.empty()) << "row " << r << ": Q" << off[0].question << " sums to " << off[0].sum << ", not "
                             << off[0].expected;
    for (size_t c = 0; c < columns.size(); ++c) EXPECT_GE(y[r * columns.size() + c], 0.0f);
  }
}

TEST(ModelFileTree, TheOutputObeysTheTreeOnTheRealSamplesColumns) {
  manual_seed(2);
  Model model = parse_model(kTreeModel, "tree.model", ModelOutputs(kSampleColumns));
  EXPECT_STREQ(model.network->at(model.network->size() - 1).kind(), "GalaxyTree");
  Generator g(3);
  std::vector<float> x(size_t(numel(model.input_shape(5))));
  for (float& v : x) v = g.uniform();
  NoGradGuard no_grad;
  std::vector<float> y = (*model.network)(Variable(Tensor::from_vector(model.input_shape(5), x))).value().to_vector();
  expect_tree_holds(kSampleColumns, y, 5);
}

TEST(ModelFileTree, ThirtySevenOutputsWithoutNamesAreTheKaggleColumns) {
  manual_seed(2);
  Model model = parse_model(kTreeModel, "tree.model", 37);
  Tensor x = Tensor::full(model.input_shape(2), 0.5f);
  NoGradGuard no_grad;
  expect_tree_holds(data::class_names(), (*model.network)(Variable(x)).value().to_vector(), 2);
}

TEST(ModelFileTree, PartialQuestionsAndMisplacedTreesAreRefusedWithTheLine) {
  std::vector<std::string> no_11_6 = data::class_names();
  no_11_6.pop_back();
  try {
    parse_model(kTreeModel, "tree.model", ModelOutputs(no_11_6));
    ADD_FAILURE() << "a tree over a partial Q11 was built";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tree.model:6: dense: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Q11 (missing Class11.6) has only some of its answers"), std::string::npos)
        << e.what();
  }
  std::vector<std::string> orphan = {"Class7.1", "Class7.2", "Class7.3"};  // Q7 without Class1.1
  try {
    parse_model(kTreeModel, "tree.model", ModelOutputs(orphan));
    ADD_FAILURE() << "a tree without Q7's parent answer was built";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs Q7's parent answer Class1.1"), std::string::npos) << e.what();
  }
  EXPECT_NE(error_of("input 3 8 8\nflatten\ndense outputs galaxytree\n", 5).find("needs the names of the 5"),
            std::string::npos);
  expect_error("input 3 8 8\nflatten\ndense 37 galaxytree\n", "my.model:3: dense: galaxytree goes alone on the");
  expect_error("input 3 8 8\nflatten\ndense outputs sigmoid galaxytree\n", "galaxytree goes alone on the");
  expect_error("input 3 8 8\nconv 4 3 galaxytree\n", "my.model:2: conv:");
}

}  // namespace
}  // namespace nebula
