// Checkpoints and the safetensors reader/writer: bit-exact round trips, resumed
// training identical to uninterrupted training, and refusal, with the file named,
// of truncated, foreign, mismatched and lying files; a failed save leaves the
// destination as it was.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmath>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "base/error.h"
#include "base/random.h"
#include "engine/checkpoint.h"
#include "engine/layers.h"
#include "engine/ops.h"
#include "engine/safetensors.h"
#include "engine/sequential.h"

namespace nebula {
namespace {

namespace fs = std::filesystem;

class Checkpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "nebula_checkpoint_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir_;
};

// A small model with every kind of state: conv and dense weights, BatchNorm
// buffers, and a Dropout whose call count matters on resume.
std::unique_ptr<Sequential> tiny_model(uint64_t seed, int hidden = 6) {
  manual_seed(seed);
  auto m = std::make_unique<Sequential>();
  m->emplace<Conv2d>(Conv2dOptions{2, 3, 3, 1, Padding::Same});
  m->emplace<BatchNorm2d>(3);
  m->emplace<ReLU>();
  m->emplace<MaxPool2d>(2);
  m->emplace<Flatten>();
  m->emplace<Dropout>(0.3f);
  m->emplace<Dense>(3 * 3 * 3, hidden);
  m->emplace<ReLU>();
  m->emplace<Dense>(hidden, 4);
  m->emplace<Sigmoid>();
  return m;
}

Variable batch_input(int step) {
  Generator g(1000 + step);
  std::vector<float> v(5 * 2 * 6 * 6);
  for (float& x : v) x = g.uniform(-1.0f, 1.0f);
  return Variable(Tensor::from_vector({5, 2, 6, 6}, v));
}

Variable batch_target(int step) {
  Generator g(2000 + step);
  std::vector<float> v(5 * 4);
  for (float& x : v) x = g.uniform(0.0f, 1.0f);
  return Variable(Tensor::from_vector({5, 4}, v));
}

void train_steps(Module& model, Optimizer& optimizer, int first, int count) {
  model.train();
  for (int s = first; s < first + count; ++s) {
    optimizer.zero_grad();
    Variable loss = mse_loss(model(batch_input(s)), batch_target(s));
    backward(loss);
    optimizer.step();
  }
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  std::vector<float> av = a.to_vector(), bv = b.to_vector();
  return std::memcmp(av.data(), bv.data(), av.size() * sizeof(float)) == 0;
}

// Every parameter, buffer and optimizer slot, by name.
std::map<std::string, Tensor> everything(Module& model, Optimizer& optimizer) {
  std::map<std::string, Tensor> out;
  for (NamedParameter& p : model.parameters()) out["p." + p.name] = p.variable.value().clone();
  for (NamedBuffer& b : model.buffers()) out["b." + b.name] = b.tensor.clone();
  for (NamedBuffer& s : optimizer.state()) out["o." + s.name] = s.tensor.clone();
  return out;
}

void expect_same(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(bit_equal(tensor, b.at(name))) << name << " differs";
  }
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// A safetensors image from a header text and data, with the header length given or true.
std::string image(const std::string& header, const std::string& data, int64_t declared = -1) {
  uint64_t n = declared < 0 ? header.size() : uint64_t(declared);
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

// Expects the call to throw nebula::Error whose message names `path` and contains `needle`.
template <typename F>
void expect_error(F&& call, const std::string& path, const std::string& needle) {
  try {
    call();
    ADD_FAILURE() << "expected an error mentioning '" << needle << "'";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << "the error does not name the file: " << message;
    EXPECT_NE(message.find(needle), std::string::npos) << "expected '" << needle << "' in: " << message;
  }
}

// ---- round trips

TEST_F(Checkpoint, RoundTripIsBitExact) {
  auto model = tiny_model(1);
  Adamax optimizer(single_group(*model));
  train_steps(*model, optimizer, 0, 3);
  const auto saved = everything(*model, optimizer);
  const CheckpointMetadata metadata = {{"model", "tiny"}, {"epoch", "3"}, {"config", R"({"lr": 0.001, "name": "é"})"}};
  save_checkpoint(path("a.safetensors"), *model, &optimizer, metadata);

  auto fresh = tiny_model(99);
  Adamax fresh_optimizer(single_group(*fresh));
  const CheckpointMetadata loaded = load_checkpoint(path("a.safetensors"), *fresh, &fresh_optimizer);
  expect_same(everything(*fresh, fresh_optimizer), saved);
  EXPECT_EQ(fresh_optimizer.steps(), 3);
  EXPECT_EQ(loaded, metadata);
  Dropout& dropout = static_cast<Dropout&>(fresh->at(5));
  EXPECT_EQ(dropout.calls, 3u);
  // No temporary file is left behind.
  EXPECT_EQ(files(), std::vector<std::string>{"a.safetensors"});
}

TEST_F(Checkpoint, ResumedTrainingMatchesUninterruptedTraining) {
  auto straight = tiny_model(7);
  Adamax straight_optimizer(single_group(*straight));
  train_steps(*straight, straight_optimizer, 0, 5);

  auto first = tiny_model(7);
  Adamax first_optimizer(single_group(*first));
  train_steps(*first, first_optimizer, 0, 3);
  save_checkpoint(path("resume.safetensors"), *first, &first_optimizer, {{"epoch", "3"}});

  // Same seed, so the Dropout's Philox stream is the same; everything else comes from the file.
  auto resumed = tiny_model(7);
  Adamax resumed_optimizer(single_group(*resumed));
  load_checkpoint(path("resume.safetensors"), *resumed, &resumed_optimizer);
  train_steps(*resumed, resumed_optimizer, 3, 2);

  expect_same(everything(*resumed, resumed_optimizer), everything(*straight, straight_optimizer));
  EXPECT_EQ(resumed_optimizer.steps(), 5);
}

TEST_F(Checkpoint, WeightsOnlyLoadIgnoresOptimizerState) {
  auto model = tiny_model(3);
  Sgd optimizer(single_group(*model), SgdParams{0.1f, 0.9f});
  train_steps(*model, optimizer, 0, 2);
  save_checkpoint(path("w.safetensors"), *model, &optimizer);
  auto fresh = tiny_model(4);
  load_checkpoint(path("w.safetensors"), *fresh, nullptr);
  for (NamedParameter& p : fresh->parameters()) {
    bool found = false;
    for (NamedParameter& q : model->parameters())
      if (q.name == p.name) {
        found = true;
        EXPECT_TRUE(bit_equal(p.variable.value(), q.variable.value())) << p.name;
      }
    EXPECT_TRUE(found) << p.name;
  }
}

TEST_F(Checkpoint, FileOpensAsPlainSafetensorsWithTorchNames) {
  auto model = tiny_model(1);
  Adamax optimizer(single_group(*model));
  save_checkpoint(path("a.safetensors"), *model, &optimizer, {{"epoch", "0"}});
  SafetensorsFile file = read_safetensors(path("a.safetensors"));
  EXPECT_TRUE(file.contains("model.0.weight"));
  EXPECT_TRUE(file.contains("model.1.running_var"));
  EXPECT_TRUE(file.contains("optimizer.6.weight.exp_inf"));
  EXPECT_EQ(file.meta("epoch"), "0");
  EXPECT_EQ(file.meta("nebula.optimizer"), "Adamax");
  for (const SafetensorsEntry& e : file.entries()) EXPECT_EQ(e.dtype, "F32");
  // The data starts 8-byte aligned, as the reference writer lays it out.
  const std::string bytes = read_bytes(path("a.safetensors"));
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ(header_len % 8, 0u);
}

// ---- the safetensors layer

TEST_F(Checkpoint, SafetensorsRoundTripsScalarsEmptyTensorsAndMetadata) {
  Tensor scalar = Tensor::from_vector({}, {3.5f});
  Tensor empty = Tensor::zeros({0, 4});
  Tensor matrix = Tensor::from_vector({2, 3}, {1, -2, 3, 4.25f, -0.0f, 1e-30f});
  write_safetensors(path("t.safetensors"), {{"s", scalar}, {"e", empty}, {"m", matrix}}, {{"k", "v"}});
  SafetensorsFile f = read_safetensors(path("t.safetensors"));
  ASSERT_EQ(f.entries().size(), 3u);
  EXPECT_TRUE(bit_equal(f.at("s"), scalar));
  EXPECT_EQ(f.at("e").shape(), (Shape{0, 4}));
  EXPECT_TRUE(bit_equal(f.at("m"), matrix));
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"k", "v"}}));
  expect_error([&] { f.at("nope"); }, path("t.safetensors"), "no tensor named 'nope'");
}

TEST_F(Checkpoint, SafetensorsReadsOtherDtypesAsFloat) {
  std::string data;
  auto append = [&](const void* p, size_t n) { data.append(static_cast<const char*>(p), n); };
  const double f64[2] = {1.5, -2.25};
  const uint16_t f16[3] = {0x3c00, 0xc000, 0x0001};  // 1, -2, the smallest subnormal 2^-24
  const uint16_t bf16[2] = {0x3f80, 0x4049};         // 1, 3.140625
  const int64_t i64 = 12345;                         // torch's num_batches_tracked
  append(f64, 16);
  append(f16, 6);
  append(bf16, 4);
  append(&i64, 8);
  const std::string header = R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
                             R"("b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},)"
                             R"("c":{"dtype":"BF16","shape":[2],"data_offsets":[22,26]},)"
                             R"("n":{"dtype":"I64","shape":[],"data_offsets":[26,34]}})";
  SafetensorsFile f = parse_safetensors(image(header, data), "mixed");
  EXPECT_EQ(f.at("a").to_vector(), (std::vector<float>{1.5f, -2.25f}));
  EXPECT_EQ(f.at("b").to_vector(), (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24)}));
  EXPECT_EQ(f.at("c").to_vector(), (std::vector<float>{1.0f, 3.140625f}));
  EXPECT_EQ(f.at("n").to_vector(), (std::vector<float>{12345.0f}));
  EXPECT_EQ(f.at("n").shape(), (Shape{}));
}

// ---- refusals

TEST_F(Checkpoint, TruncatedFileIsRefused) {
  auto model = tiny_model(1);
  Adamax optimizer(single_group(*model));
  save_checkpoint(path("full.safetensors"), *model, &optimizer);
  const std::string bytes = read_bytes(path("full.safetensors"));
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data(), 8);
  for (size_t length :
       {size_t(0), size_t(5), size_t(8), size_t(8 + header_len / 2), size_t(8 + header_len), bytes.size() - 1}) {
    SCOPED_TRACE("truncated to " + std::to_string(length));
    const std::string cut = path("cut.safetensors");
    write_bytes(cut, bytes.substr(0, length));
    auto fresh = tiny_model(1);
    Adamax fresh_optimizer(single_group(*fresh));
    const auto before = everything(*fresh, fresh_optimizer);
    expect_error([&] { load_checkpoint(cut, *fresh, &fresh_optimizer); }, cut, "");
    expect_same(everything(*fresh, fresh_optimizer), before);  // nothing was half-loaded
  }
}

TEST_F(Checkpoint, GarbageAndForeignFilesAreRefused) {
  auto model = tiny_model(1);
  std::mt19937 rng(5);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = char(rng());
  write_bytes(path("garbage.bin"), garbage);
  expect_error([&] { load_checkpoint(path("garbage.bin"), *model, nullptr); }, path("garbage.bin"), "safetensors");
  write_bytes(path("text.txt"), "epoch,loss\n1,0.25\n2,0.125\n");
  expect_error([&] { load_checkpoint(path("text.txt"), *model, nullptr); }, path("text.txt"), "header");
  write_bytes(path("empty"), "");
  expect_error([&] { load_checkpoint(path("empty"), *model, nullptr); }, path("empty"), "too short");
  expect_error([&] { load_checkpoint(path("absent"), *model, nullptr); }, path("absent"), "missing file");
  expect_error([&] { load_checkpoint(dir_.string(), *model, nullptr); }, dir_.string(), "not a regular file");
  ASSERT_EQ(::mkfifo(path("fifo.safetensors").c_str(), 0644), 0);  // refused, not waited on for a writer
  expect_error([&] { load_checkpoint(path("fifo.safetensors"), *model, nullptr); }, path("fifo.safetensors"),
               "not a regular file (a FIFO)");
  // A valid safetensors file that is not a Nebula checkpoint (e.g. a torch state_dict).
  write_safetensors(path("torch.safetensors"), {{"0.weight", Tensor::zeros({3, 2, 3, 3})}});
  expect_error([&] { load_checkpoint(path("torch.safetensors"), *model, nullptr); }, path("torch.safetensors"),
               "not a Nebula checkpoint");
}

TEST_F(Checkpoint, NonFiniteWeightsAndAbsurdCountsAreRefusedByName) {
  auto model = tiny_model(1);
  Adamax optimizer(single_group(*model));
  save_checkpoint(path("good.safetensors"), *model, &optimizer);
  SafetensorsFile good = read_safetensors(path("good.safetensors"));
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const SafetensorsEntry& e : good.entries()) {
    Tensor t = e.tensor.clone();
    if (e.name == "model.0.weight") t.fill(INFINITY);  // as predict once turned into -nan everywhere
    if (e.name == "model.1.running_var") t.data()[1] = NAN;
    tensors.emplace_back(e.name, t);
  }
  write_safetensors(path("inf.safetensors"), tensors, good.metadata());
  auto fresh = tiny_model(2);
  const auto before = fresh->parameters().front().variable.value().to_vector();
  expect_error([&] { load_checkpoint(path("inf.safetensors"), *fresh, nullptr); }, path("inf.safetensors"),
               "values that are not finite: model.0.weight (element 0 is inf), model.1.running_var (element 1 is nan)");
  EXPECT_EQ(fresh->parameters().front().variable.value().to_vector(), before);

  std::vector<std::pair<std::string, Tensor>> plain;
  for (const SafetensorsEntry& e : good.entries()) plain.emplace_back(e.name, e.tensor);
  for (const char* calls : {"18446744073709551616", "4294967296", "3x", "-1", "1,,2"}) {
    std::map<std::string, std::string> metadata = good.metadata();
    metadata["nebula.dropout_calls"] = calls;
    write_safetensors(path("calls.safetensors"), plain, metadata);
    expect_error([&] { load_checkpoint(path("calls.safetensors"), *fresh, nullptr); }, path("calls.safetensors"),
                 std::string("nebula.dropout_calls = '") + calls + "' is not a list of counts below 2^32");
  }
  for (const char* steps : {"12abc", "-3", "99999999999999999999"}) {
    std::map<std::string, std::string> metadata = good.metadata();
    metadata["nebula.optimizer_steps"] = steps;
    write_safetensors(path("steps.safetensors"), plain, metadata);
    expect_error([&] { load_checkpoint(path("steps.safetensors"), *fresh, &optimizer); }, path("steps.safetensors"),
                 std::string("nebula.optimizer_steps = '") + steps + "' is not a step count");
  }
}

TEST_F(Checkpoint, WrongShapesAreRefusedAndListed) {
  auto saved = tiny_model(1, 6);
  save_checkpoint(path("a.safetensors"), *saved, nullptr);
  auto other = tiny_model(1, 7);  // the hidden Dense layer is wider
  const auto before = other->parameters()[0].variable.value().clone();
  expect_error([&] { load_checkpoint(path("a.safetensors"), *other, nullptr); }, path("a.safetensors"),
               "wrong shapes: model.6.weight (file [6, 27], model [7, 27]), model.6.bias (file [6], model [7])");
  expect_error([&] { load_checkpoint(path("a.safetensors"), *other, nullptr); }, path("a.safetensors"),
               "model.8.weight (file [4, 6], model [4, 7])");
  EXPECT_TRUE(bit_equal(other->parameters()[0].variable.value(), before)) << "a refused load changed the model";
}

TEST_F(Checkpoint, MissingAndUnexpectedKeysAreListed) {
  auto small = tiny_model(1);
  Adamax small_optimizer(single_group(*small));
  save_checkpoint(path("small.safetensors"), *small, &small_optimizer);

  auto bigger = tiny_model(1);
  bigger->emplace<Dense>(4, 2);
  Adamax bigger_optimizer(single_group(*bigger));
  expect_error([&] { load_checkpoint(path("small.safetensors"), *bigger, &bigger_optimizer); },
               path("small.safetensors"), "missing keys: model.10.weight, model.10.bias, optimizer.10.weight.exp_avg");

  save_checkpoint(path("bigger.safetensors"), *bigger, &bigger_optimizer);
  expect_error([&] { load_checkpoint(path("bigger.safetensors"), *small, &small_optimizer); },
               path("bigger.safetensors"), "unexpected keys: model.10.weight, model.10.bias");

  // A checkpoint without optimizer state cannot restore an optimizer.
  save_checkpoint(path("weights.safetensors"), *small, nullptr);
  expect_error([&] { load_checkpoint(path("weights.safetensors"), *small, &small_optimizer); },
               path("weights.safetensors"), "holds no optimizer state");
  // Nor can another optimizer's state.
  Sgd sgd(single_group(*small));
  expect_error([&] { load_checkpoint(path("small.safetensors"), *small, &sgd); }, path("small.safetensors"),
               "holds Adamax state, not SGD");
}

TEST_F(Checkpoint, HeaderLyingAboutSizesIsRefused) {
  const std::string data(24, '\0');  // room for six floats
  struct Case {
    const char* what;
    std::string bytes;
    const char* needle;
  };
  const std::string ok = R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";
  const std::vector<Case> cases = {
      {"control", image(ok, data), ""},
      {"header length past the end", image(ok, data, int64_t(ok.size() + data.size() + 1)), "truncated"},
      {"header length absurd", image(ok, data, int64_t(1) << 40), "not a plausible"},
      {"header length cuts the JSON", image(ok, data, int64_t(ok.size() - 3)), "not valid JSON"},
      {"offsets past the end", image(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,28]}})", data),
       "outside the 24 data bytes"},
      {"shape larger than the offsets", image(R"({"a":{"dtype":"F32","shape":[2,4],"data_offsets":[0,24]}})", data),
       "needs 32 bytes"},
      {"shape smaller than the offsets", image(R"({"a":{"dtype":"F32","shape":[5],"data_offsets":[0,24]}})", data),
       "needs 20 bytes"},
      {"huge shape", image(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,24]}})", data),
       "larger than the file"},
      {"overlap",
       image(
           R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
           data),
       "overlap"},
      {"gap",
       image(
           R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
           data),
       "a gap"},
      {"trailing bytes", image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data), "16 bytes after"},
      {"duplicate name",
       image(
           R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"a":{"dtype":"F32","shape":[3],"data_offsets":[12,24]}})",
           data),
       "names 'a' twice"},
      {"reversed offsets", image(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[24,0]}})", data), "outside"},
      {"negative dimension", image(R"({"a":{"dtype":"F32","shape":[-6],"data_offsets":[0,24]}})", data),
       "not a non-negative integer"},
      {"unknown dtype", image(R"({"a":{"dtype":"Q7","shape":[6],"data_offsets":[0,24]}})", data), "dtype 'Q7'"},
      {"missing offsets", image(R"({"a":{"dtype":"F32","shape":[6]}})", data), "data_offsets"},
      {"not an object", image(R"([1,2,3])", data), "does not start with '{'"},
      {"metadata not strings",
       image(R"({"__metadata__":{"epoch":3},"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}})", data),
       "metadata 'epoch'"},
      // Nested 200,000 deep: refused as it is read, never printed (printing recurses).
      {"deeply nested",
       image(R"({"a":{"dtype":"F32","shape":)" + std::string(200000, '[') + std::string(200000, ']') +
                 R"(,"data_offsets":[0,24]}})",
             data),
       "nested deeper than 8 levels"},
      {"deeply nested metadata",
       image(R"({"__metadata__":{"x":)" + std::string(200000, '[') + std::string(200000, ']') + "}}", data),
       "nested deeper than 8 levels"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string file = path("lying.safetensors");
    write_bytes(file, c.bytes);
    if (std::string(c.what) == "control") {
      EXPECT_NO_THROW(read_safetensors(file));
      continue;
    }
    expect_error([&] { read_safetensors(file); }, file, c.needle);
  }
}

TEST_F(Checkpoint, ReservedMetadataAndDuplicateNamesAreRefusedBeforeWriting) {
  auto model = tiny_model(1);
  expect_error(
      [&] {
        save_checkpoint(path("a.safetensors"), *model, nullptr, {{"nebula.format", "x"}});
      },
      path("a.safetensors"), "reserved");
  expect_error(
      [&] {
        write_safetensors(path("b.safetensors"), {{"x", Tensor::zeros({1})}, {"x", Tensor::zeros({1})}});
      },
      path("b.safetensors"), "used twice");
  EXPECT_TRUE(files().empty());
}

// ---- a failed save leaves no partial file

TEST_F(Checkpoint, FailedSaveLeavesNoPartialFile) {
  auto model = tiny_model(1);
  Adamax optimizer(single_group(*model));

  // No such directory: nothing is created anywhere.
  expect_error([&] { save_checkpoint(path("missing/dir/a.safetensors"), *model, &optimizer); },
               path("missing/dir/a.safetensors"), "cannot be written");
  EXPECT_TRUE(files().empty());

  // A write that fails half way (the file size limit stops it after 1 KiB): the
  // old checkpoint at the destination survives intact, and no temporary file is left.
  const std::string destination = path("model.safetensors");
  save_checkpoint(destination, *model, &optimizer, {{"epoch", "1"}});
  const std::string old_bytes = read_bytes(destination);
  ASSERT_GT(old_bytes.size(), 4096u);
  train_steps(*model, optimizer, 0, 1);
  rlimit saved_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved_limit), 0);
  auto saved_handler = ::signal(SIGXFSZ, SIG_IGN);  // EFBIG from write() instead of a signal
  rlimit small = saved_limit;
  small.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool threw = false;
  std::string message;
  try {
    save_checkpoint(destination, *model, &optimizer, {{"epoch", "2"}});
  } catch (const Error& e) {
    threw = true;
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved_limit);
  ::signal(SIGXFSZ, saved_handler);
  EXPECT_TRUE(threw);
  EXPECT_NE(message.find(destination), std::string::npos) << message;
  EXPECT_EQ(read_bytes(destination), old_bytes) << "the old checkpoint was damaged";
  EXPECT_EQ(files(), std::vector<std::string>{"model.safetensors"});

  // The rename itself fails (the destination is a directory): the temporary file goes.
  fs::create_directory(path("occupied"));
  expect_error([&] { save_checkpoint(path("occupied"), *model, &optimizer); }, path("occupied"), "renaming");
  EXPECT_EQ(files(), (std::vector<std::string>{"model.safetensors", "occupied"}));
}

}  // namespace
}  // namespace nebula
