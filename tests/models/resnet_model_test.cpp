// The ResNet model files: torchvision's architecture key for key and shape for
// shape (tests/fixtures/torchvision_resnet_keys.txt, written from torchvision by
// tools/make_resnet_fixtures.py --keys), its parameter counts, the stride on the
// Bottleneck's 3x3 (v1.5), the two heads, and the stage keyword's errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "base/error.h"
#include "engine/layers.h"
#include "models/model_file.h"

namespace nebula {
namespace {

std::string source_dir() {
  const char* env = std::getenv("NEBULA_SOURCE_DIR");
  return env ? env : NEBULA_SOURCE_DIR_DEFAULT;
}

// "resnet50" -> key -> shape, in torchvision's state_dict order.
std::vector<std::pair<std::string, Shape>> torchvision_keys(const std::string& model) {
  std::string path = source_dir() + "/tests/fixtures/torchvision_resnet_keys.txt";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::vector<std::pair<std::string, Shape>> out;
  for (std::string name, key, dims; in >> name >> key >> dims;) {
    if (name != model) continue;
    Shape shape;
    std::istringstream d(dims);
    for (std::string part; std::getline(d, part, ',');) shape.push_back(std::stoll(part));
    out.emplace_back(key, shape);
  }
  return out;
}

// The model's parameters and buffers in order, as a state_dict lists them:
// torchvision interleaves them per module, so compare as maps plus the order of
// parameters alone.
std::map<std::string, Shape> model_keys(Model& model) {
  std::map<std::string, Shape> out;
  for (const NamedParameter& p : model.network->parameters()) out[p.name] = p.variable.shape();
  for (const NamedBuffer& b : model.network->buffers()) out[b.name] = b.tensor.shape();
  return out;
}

class ResNetModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ResNetModel, KeysAndShapesMatchTorchvision) {
  Model model = load_model(GetParam() + "-imagenet", 0);
  std::vector<std::pair<std::string, Shape>> expected = torchvision_keys(GetParam());
  ASSERT_FALSE(expected.empty());
  std::map<std::string, Shape> ours = model_keys(model);
  EXPECT_EQ(ours.size(), expected.size());
  for (const auto& [key, shape] : expected) {
    auto it = ours.find(key);
    if (it == ours.end()) {
      ADD_FAILURE() << GetParam() << ": torchvision key " << key << " is missing";
      continue;
    }
    EXPECT_EQ(it->second, shape) << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Torchvision, ResNetModel, ::testing::Values("resnet18", "resnet34", "resnet50"));

TEST(ResNetArchitecture, ParameterCountsMatchTorchvision) {
  EXPECT_EQ(load_model("resnet18-imagenet", 0).network->parameter_count(), 11689512);
  EXPECT_EQ(load_model("resnet34-imagenet", 0).network->parameter_count(), 21797672);
  EXPECT_EQ(load_model("resnet50-imagenet", 0).network->parameter_count(), 25557032);
}

TEST(ResNetArchitecture, GalaxyHeadReplacesFc) {
  Model model = load_model("resnet18", 37);
  EXPECT_EQ(model.spec.height, 70);
  EXPECT_EQ(model.spec.crop, 250);
  EXPECT_EQ(model.network->parameter_count(), 11689512 - (512 * 1000 + 1000) + (512 * 512 + 512) + (512 * 37 + 37));
  std::vector<NamedParameter> head = head_parameters(model);
  ASSERT_EQ(head.size(), 4u);
  EXPECT_EQ(head[0].name, "fc1.weight");
  EXPECT_EQ(head[3].name, "fc2.bias");
  EXPECT_EQ(backbone_parameters(model).size() + head.size(), model.network->parameters().size());
  EXPECT_TRUE(in_head(model, "fc2.weight"));
  EXPECT_FALSE(in_head(model, "layer4.1.bn2.running_var"));
  EXPECT_FALSE(in_head(model, "fc.weight"));
  Model resnet50 = load_model("resnet50", 18);
  EXPECT_EQ(resnet50.network->parameter_count(),
            25557032 - (2048 * 1000 + 1000) + (2048 * 512 + 512) + (512 * 18 + 18));
}

TEST(ResNetArchitecture, OutputShapes) {
  for (const char* name : {"resnet18", "resnet34", "resnet50"}) {
    Model imagenet = load_model(std::string(name) + "-imagenet", 0);
    EXPECT_EQ(imagenet.spec.height, 224);
    EXPECT_EQ(imagenet.network->output_shape(imagenet.input_shape(2)), (Shape{2, 1000})) << name;
    Model galaxy = load_model(name, 37);
    EXPECT_EQ(galaxy.network->output_shape(galaxy.input_shape(2)), (Shape{2, 37})) << name;
  }
  // 70 -> conv1 35 -> maxpool 18 -> layer2 9 -> layer3 5 -> layer4 3.
  Model model = load_model("resnet50", 37);
  Sequential& net = *model.network;
  Shape shape = model.input_shape(1);
  std::map<std::string, Shape> after;
  for (size_t i = 0; i < net.size(); ++i) after[net.name_at(i)] = shape = net.at(i).output_shape(shape);
  EXPECT_EQ(after["maxpool"], (Shape{1, 64, 18, 18}));
  EXPECT_EQ(after["layer1"], (Shape{1, 256, 18, 18}));
  EXPECT_EQ(after["layer4"], (Shape{1, 2048, 3, 3}));
}

// torchvision v1.5: a Bottleneck's stride is on its 3x3 (conv2), and the
// projection shortcut carries it too.
TEST(ResNetArchitecture, BottleneckStrideOnTheThreeByThree) {
  Model model = load_model("resnet50-imagenet", 0);
  std::vector<Conv2d*> convs;
  model.network->visit([&](Module& m) {
    if (auto* c = dynamic_cast<Conv2d*>(&m)) convs.push_back(c);
  });
  std::vector<std::string> names;
  for (const NamedParameter& p : model.network->parameters())
    if (p.variable.shape().size() == 4) names.push_back(p.name);
  ASSERT_EQ(convs.size(), names.size());
  std::map<std::string, Conv2dOptions> by_name;
  for (size_t i = 0; i < convs.size(); ++i) by_name[names[i]] = convs[i]->options();
  EXPECT_EQ(by_name["layer2.0.conv1.weight"].stride, 1);
  EXPECT_EQ(by_name["layer2.0.conv2.weight"].stride, 2);
  EXPECT_EQ(by_name["layer2.0.conv2.weight"].pad, 1);
  EXPECT_EQ(by_name["layer2.0.conv3.weight"].stride, 1);
  EXPECT_EQ(by_name["layer2.0.downsample.0.weight"].stride, 2);
  EXPECT_EQ(by_name["layer2.0.downsample.0.weight"].pad, 0);
  EXPECT_EQ(by_name["layer2.1.conv2.weight"].stride, 1);
  EXPECT_EQ(by_name["conv1.weight"].stride, 2);
  EXPECT_EQ(by_name["conv1.weight"].pad, 3);
  EXPECT_FALSE(by_name["conv1.weight"].bias);
}

TEST(ResNetArchitecture, Resnet50ForwardAtSmallSize) {
  Model model = load_model("resnet50", 37);
  model.network->eval();
  NoGradGuard no_grad;
  Tensor x = Tensor::full(model.input_shape(1), 0.5f);
  std::vector<float> y = (*model.network)(Variable(x)).value().to_vector();
  ASSERT_EQ(y.size(), 37u);
  for (float v : y) EXPECT_TRUE(v > 0.0f && v < 1.0f) << v;
}

TEST(ResNetArchitecture, UserStageModel) {
  // A small ResNet a user might write: a named stem, a bottleneck stage, a head.
  Model model = parse_model(
      "input 3 32 32\nconv 16 3 pad=1 nobias name=stem\nbatchnorm relu name=stem_bn\n"
      "stage bottleneck 8 blocks=2 stride=2 name=blocks\ngap name=pool\nhead\ndense outputs sigmoid name=out\n",
      "small.model", 5);
  EXPECT_EQ(model.network->output_shape(model.input_shape(2)), (Shape{2, 5}));
  std::map<std::string, Shape> keys = model_keys(model);
  EXPECT_EQ(keys.at("blocks.0.conv3.weight"), (Shape{32, 8, 1, 1}));
  EXPECT_EQ(keys.at("blocks.0.downsample.0.weight"), (Shape{32, 16, 1, 1}));
  EXPECT_EQ(keys.at("blocks.0.downsample.1.running_mean"), (Shape{32}));
  EXPECT_EQ(keys.count("blocks.1.downsample.0.weight"), 0u);
  EXPECT_EQ(keys.at("out.weight"), (Shape{5, 32}));
  EXPECT_EQ(model.spec.head_layer, 5);  // stem, stem_bn, its relu, blocks, pool
}

}  // namespace
}  // namespace nebula
