// Weight import into a small ResNet-shaped model: keys matched by name, every
// shape checked, missing backbone keys and shape mismatches refused (naming the
// file, and leaving the model untouched), head keys and unexpected keys
// reported, num_batches_tracked optional, the backbone frozen on request.
#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "engine/safetensors.h"
#include "models/import_weights.h"

namespace nebula {
namespace {

const char* kSmall =
    "input 3 16 16\n"
    "conv 8 3 pad=1 nobias name=conv1\n"
    "batchnorm relu name=bn1\n"
    "stage basic 16 blocks=1 stride=2 name=layer1\n"
    "gap name=avgpool\n"
    "head\n"
    "dense 6 relu name=fc1\n"
    "dense outputs sigmoid name=fc2\n";

Model small_model() { return parse_model(kSmall, "small", 3); }

// A file's worth of tensors: the model's backbone with distinct values, plus
// what a torchvision file would add.
std::vector<WeightTensor> backbone_tensors(Model& model, bool with_counters) {
  std::vector<WeightTensor> out;
  float base = 1.0f;
  auto add = [&](const std::string& name, const Shape& shape) {
    std::vector<float> v(numel(shape));
    for (size_t i = 0; i < v.size(); ++i) v[i] = base + 0.001f * i;
    base += 1.0f;
    out.push_back({name, "F32", Tensor::from_vector(shape, v)});
  };
  for (const NamedParameter& p : model.network->parameters())
    if (!in_head(model, p.name)) add(p.name, p.variable.shape());
  for (const NamedBuffer& b : model.network->buffers()) {
    add(b.name, b.tensor.shape());
    if (with_counters && b.name.find("running_var") != std::string::npos) {
      std::string counter = b.name.substr(0, b.name.size() - std::string("running_var").size()) + "num_batches_tracked";
      out.push_back({counter, "I64", Tensor::from_vector({}, {5.0f})});
    }
  }
  return out;
}

const WeightTensor& find(const std::vector<WeightTensor>& tensors, const std::string& name) {
  for (const WeightTensor& t : tensors)
    if (t.name == name) return t;
  throw Error("no tensor " + name);
}

std::string error_of(const std::vector<WeightTensor>& tensors, Model& model) {
  try {
    import_weights(tensors, "weights.pth", model);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ImportWeights, LoadsTheBackboneAndReportsHeadAndUnexpectedKeys) {
  Model model = small_model();
  std::vector<WeightTensor> file = backbone_tensors(model, true);
  file.push_back({"fc.weight", "F32", Tensor::zeros({1000, 16})});
  file.push_back({"fc.bias", "F32", Tensor::zeros({1000})});
  auto fc2_weight = [&] {
    for (const NamedParameter& p : model.network->parameters())
      if (p.name == "fc2.weight") return p.variable.value().to_vector();
    return std::vector<float>();
  };
  std::vector<float> head_before = fc2_weight();

  ImportReport report = import_weights(file, "weights.pth", model);
  EXPECT_EQ(report.unexpected, (std::vector<std::string>{"fc.bias", "fc.weight"}));
  EXPECT_EQ(report.head_missing, (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(report.ignored_num_batches_tracked, 4);
  EXPECT_EQ(report.loaded.size(), file.size() - 2 - 4);
  for (const NamedParameter& p : model.network->parameters()) {
    if (in_head(model, p.name)) continue;
    EXPECT_EQ(p.variable.value().to_vector(), find(file, p.name).tensor.to_vector()) << p.name;
  }
  for (const NamedBuffer& b : model.network->buffers())
    EXPECT_EQ(b.tensor.to_vector(), find(file, b.name).tensor.to_vector()) << b.name;
  EXPECT_EQ(fc2_weight(), head_before);
  // The backbone's names, for its own learning-rate group.
  EXPECT_EQ(report.backbone_parameters.size(), backbone_parameters(model).size());
  EXPECT_EQ(report.backbone_parameters.front(), "conv1.weight");
  EXPECT_EQ(report.backbone_parameters.back(), "layer1.0.downsample.1.bias");
  std::vector<std::string> notes = report.notes();
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_NE(notes[2].find("fc.bias, fc.weight"), std::string::npos) << notes[2];
  // Trainable unless frozen.
  for (const NamedParameter& p : model.network->parameters()) EXPECT_TRUE(p.variable.requires_grad()) << p.name;
}

TEST(ImportWeights, NumBatchesTrackedMayBeAbsent) {
  Model model = small_model();
  ImportReport report = import_weights(backbone_tensors(model, false), "weights.safetensors", model);
  EXPECT_EQ(report.ignored_num_batches_tracked, 0);
  EXPECT_TRUE(report.unexpected.empty());
}

TEST(ImportWeights, HeadKeysInTheFileAreLoaded) {
  Model source = small_model();
  std::vector<WeightTensor> file;
  for (const NamedParameter& p : source.network->parameters())
    file.push_back({p.name, "F32", p.variable.value().clone()});
  for (const NamedBuffer& b : source.network->buffers()) file.push_back({b.name, "F32", b.tensor.clone()});
  Model model = small_model();
  ImportReport report = import_weights(file, "whole.safetensors", model);
  EXPECT_TRUE(report.head_missing.empty());
  size_t fc2 = model.network->parameters().size() - 2;  // fc2.weight: Glorot-random, unlike the zero biases
  EXPECT_EQ(model.network->parameters()[fc2].variable.value().to_vector(),
            source.network->parameters()[fc2].variable.value().to_vector());
}

TEST(ImportWeights, MissingBackboneKeysAreAnErrorListingThem) {
  Model model = small_model();
  std::vector<WeightTensor> file = backbone_tensors(model, true);
  std::vector<WeightTensor> partial;
  for (const WeightTensor& t : file)
    if (t.name != "layer1.0.conv2.weight" && t.name != "bn1.running_mean") partial.push_back(t);
  std::vector<float> before = model.network->parameters().front().variable.value().to_vector();
  std::string error = error_of(partial, model);
  EXPECT_NE(error.find("weights.pth"), std::string::npos) << error;
  EXPECT_NE(error.find("missing 2 backbone keys"), std::string::npos) << error;
  EXPECT_NE(error.find("layer1.0.conv2.weight"), std::string::npos) << error;
  EXPECT_NE(error.find("bn1.running_mean"), std::string::npos) << error;
  // Nothing was written.
  EXPECT_EQ(model.network->parameters().front().variable.value().to_vector(), before);
}

TEST(ImportWeights, NonFiniteWeightsAreRefusedByName) {
  Model model = small_model();
  std::vector<WeightTensor> file = backbone_tensors(model, true);
  for (WeightTensor& t : file)
    if (t.name == "layer1.0.conv1.weight") {
      t.tensor = t.tensor.clone();
      t.tensor.data()[7] = INFINITY;
    }
  std::vector<float> before = model.network->parameters().front().variable.value().to_vector();
  std::string error = error_of(file, model);
  EXPECT_NE(error.find("weights.pth: does not fit model 'small'"), std::string::npos) << error;
  EXPECT_NE(error.find("not finite in layer1.0.conv1.weight (element 7 is inf)"), std::string::npos) << error;
  EXPECT_EQ(model.network->parameters().front().variable.value().to_vector(), before);
}

TEST(ImportWeights, ShapeMismatchIsAnErrorNamingTheKeyAndShapes) {
  Model model = small_model();
  std::vector<WeightTensor> file = backbone_tensors(model, true);
  for (WeightTensor& t : file)
    if (t.name == "layer1.0.conv1.weight") t.tensor = Tensor::zeros({16, 8, 1, 1});
  std::vector<float> before = model.network->parameters().front().variable.value().to_vector();
  std::string error = error_of(file, model);
  EXPECT_NE(error.find("weights.pth: does not fit model 'small'"), std::string::npos) << error;
  EXPECT_NE(error.find("layer1.0.conv1.weight is [16, 8, 1, 1] in the file, [16, 8, 3, 3] in the model"),
            std::string::npos)
      << error;
  EXPECT_EQ(model.network->parameters().front().variable.value().to_vector(), before);
}

TEST(ImportWeights, WrongArchitectureListsEverything) {
  // A resnet18 file into a resnet50: missing keys, mismatches, and what the file has that the model lacks.
  Model r18 = load_model("resnet18-imagenet", 0);
  std::vector<WeightTensor> file;
  for (const NamedParameter& p : r18.network->parameters()) file.push_back({p.name, "F32", p.variable.value()});
  Model r50 = load_model("resnet50-imagenet", 0);
  std::string error = error_of(file, r50);
  EXPECT_NE(error.find("missing"), std::string::npos) << error;
  EXPECT_NE(error.find("shape mismatches"), std::string::npos) << error;
}

TEST(ImportWeights, FreezeBackboneLeavesTheHeadTrainable) {
  Model model = small_model();
  ImportOptions options;
  options.freeze_backbone = true;
  import_weights(backbone_tensors(model, true), "weights.pth", model, options);
  for (const NamedParameter& p : model.network->parameters())
    EXPECT_EQ(p.variable.requires_grad(), in_head(model, p.name)) << p.name;
}

TEST(ImportWeights, DataParallelModulePrefixIsRemoved) {
  Model model = small_model();
  std::vector<WeightTensor> file = backbone_tensors(model, true);
  for (WeightTensor& t : file) t.name = "module." + t.name;
  EXPECT_NO_THROW(import_weights(file, "dp.pth", model));
}

TEST(ImportWeights, SafetensorsFileRoundTrip) {
  Model source = small_model();
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const NamedParameter& p : source.network->parameters())
    if (!in_head(source, p.name)) tensors.emplace_back(p.name, p.variable.value());
  for (const NamedBuffer& b : source.network->buffers()) tensors.emplace_back(b.name, b.tensor);
  std::string path = ::testing::TempDir() + "nebula_import_small.safetensors";
  write_safetensors(path, tensors);
  Model model = small_model();
  ImportReport report = import_weights(path, model);
  EXPECT_EQ(report.format, "safetensors");
  EXPECT_EQ(report.path, path);
  EXPECT_EQ(model.network->parameters().front().variable.value().to_vector(),
            source.network->parameters().front().variable.value().to_vector());
}

TEST(ImportWeights, DuplicateKeysAreRefused) {
  Model model = small_model();
  std::vector<WeightTensor> file = backbone_tensors(model, false);
  file.push_back(file.front());
  EXPECT_NE(error_of(file, model).find("appears twice"), std::string::npos);
}

}  // namespace
}  // namespace nebula
