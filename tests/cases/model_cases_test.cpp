// The case tables' model layers are the models' layers: each shape is valid,
// and in cnn1 each convolution feeds the pooling after it, which feeds the
// next convolution, and the last pooling the dense layers; the elementwise
// ops, batch norms, sums and heads sit on those layers' outputs (a typo in one
// table would break the chain).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/cases/activation_cases.h"
#include "tests/cases/add_cases.h"
#include "tests/cases/batchnorm2d_cases.h"
#include "tests/cases/conv2d_cases.h"
#include "tests/cases/dense_cases.h"
#include "tests/cases/dropout_cases.h"
#include "tests/cases/galaxy_tree_output_cases.h"
#include "tests/cases/global_avg_pool_cases.h"
#include "tests/cases/maxpool2d_cases.h"
#include "tests/cases/mse_cases.h"

namespace nebula::cases {
namespace {

// The case of that name in a table; a missing name fails the test.
template <typename Case>
Case named(const std::vector<Case>& table, const std::string& name) {
  for (const Case& c : table)
    if (c.name == name) return c;
  ADD_FAILURE() << "no case named " << name;
  return table.front();
}

Shape conv_output(const Conv2dParams& p) { return {p.batch, p.out_channels, p.out_h, p.out_w}; }
Shape pool_output(const Pool2dParams& p) { return {p.batch, p.channels, p.out_h, p.out_w}; }

TEST(ModelCases, Cnn1ConvolutionsAndPoolsChain) {
  for (int batch : {2, 100}) {
    const std::vector<Conv2dCase> convs = conv2d_model_cases(batch);
    const std::vector<MaxPool2dCase> pools = maxpool2d_model_cases(batch);
    for (int i = 0; i < 4; ++i) {
      const Conv2dParams& conv = convs[size_t(i)].p;
      const Pool2dParams& pool = pools[size_t(i)].p;
      EXPECT_EQ(conv.batch, batch);
      EXPECT_EQ(pool.in_h, conv.out_h) << convs[size_t(i)].name << " -> " << pools[size_t(i)].name;
      EXPECT_EQ(pool.in_w, conv.out_w);
      EXPECT_EQ(pool.channels, conv.out_channels);
      if (i < 3) {
        const Conv2dParams& next = convs[size_t(i) + 1].p;
        EXPECT_EQ(next.in_h, pool.out_h) << pools[size_t(i)].name << " -> " << convs[size_t(i) + 1].name;
        EXPECT_EQ(next.in_channels, pool.channels);
      }
    }
    // cnn1 flattens 128 x 4 x 4 = 2048 features into its first dense layer, which feeds the second.
    const std::vector<DenseCase> dense = dense_model_cases(batch);
    EXPECT_EQ(dense[0].name, "cnn1_fc1");
    EXPECT_EQ(pools[3].p.channels * pools[3].p.out_h * pools[3].p.out_w, dense[0].in());
    EXPECT_EQ(dense[1].in(), dense[0].out);
    EXPECT_EQ(dense[1].batch(), batch);
  }
}

TEST(ModelCases, ResNetStemFeedsItsPool) {
  const Conv2dCase stem = conv2d_model_cases(2)[4];
  const MaxPool2dCase pool = maxpool2d_model_cases(2)[4];
  EXPECT_EQ(stem.name, "rn50_conv1");
  EXPECT_EQ(stem.p.out_h, 35);
  EXPECT_EQ(pool.p.in_h, stem.p.out_h);
  EXPECT_EQ(pool.p.channels, stem.p.out_channels);
  EXPECT_EQ(pool.p.out_h, 18);  // layer1's input size in the table
  EXPECT_EQ(conv2d_model_cases(2)[5].p.in_h, pool.p.out_h);
}

// cnn1's ReLUs on its convolutions' and first dense layer's outputs, its
// dropout on the flattened features, the sigmoid, loss and tree on its 37 outputs.
TEST(ModelCases, Cnn1ElementwiseOpsAndHeadSitOnItsLayers) {
  const int n = 2;
  for (const std::string layer : {"cnn1_conv1", "cnn1_conv4"})
    EXPECT_EQ(named(relu_model_cases(n), layer).x, conv_output(named(conv2d_model_cases(n), layer).p)) << layer;
  const DenseCase fc1 = named(dense_model_cases(n), "cnn1_fc1"), fc2 = named(dense_model_cases(n), "cnn1_fc2");
  EXPECT_EQ(named(relu_model_cases(n), "cnn1_fc1").x, (Shape{n, fc1.out}));
  EXPECT_EQ(named(dropout_model_cases(n), "cnn1_flatten").x, (Shape{n, fc1.in()}));
  const Shape outputs = {n, fc2.out};
  EXPECT_EQ(named(sigmoid_model_cases(n), "cnn1_head").x, outputs);
  EXPECT_EQ(mse_model_cases(n).front().x, outputs);
  EXPECT_EQ(galaxy_tree_output_model_cases(n).front().x(), outputs);
}

// cnn2 is cnn1 at 70x70: valid 3x3 convolutions and 2x2 pools take 70 to 68,
// then 34 -> 32, 16 -> 14, 7 -> 5, and 2x2 x 128 = 512 flattened features.
TEST(ModelCases, Cnn2ShapesFollowFromItsInput) {
  const int n = 2;
  EXPECT_EQ(named(relu_model_cases(n), "cnn2_conv1").x, (Shape{n, 32, 70 - 2, 70 - 2}));
  int side = 70;
  for (int conv = 0; conv < 4; ++conv) side = (side - 2) / 2;
  EXPECT_EQ(named(relu_model_cases(n), "cnn2_conv4").x, (Shape{n, 128, 2 * side + 1, 2 * side + 1}));
  EXPECT_EQ(named(dropout_model_cases(n), "cnn2_flatten").x, (Shape{n, 128 * side * side}));
}

// ResNet-18 at 70x70: the stem's batch norm on conv1's output, each stage's
// batch norms, sums and ReLUs on one shape, which halves from stage to stage
// after the stem's pool, and the average pool on the last stage, feeding the head.
TEST(ModelCases, ResNet18StagesChain) {
  const int n = 2;
  const Shape stem = conv_output(named(conv2d_model_cases(n), "rn50_conv1").p);
  EXPECT_EQ(named(batchnorm2d_model_cases(n), "rn50_bn1").x, stem);
  EXPECT_EQ(named(relu_model_cases(n), "rn18_bn1").x, stem);
  Shape stage = pool_output(named(maxpool2d_model_cases(n), "rn50_maxpool").p);
  stage[1] = 64;
  for (int i = 1; i <= 4; ++i) {
    const std::string name = "rn18_layer" + std::to_string(i);
    EXPECT_EQ(named(batchnorm2d_model_cases(n), name).x, stage) << name;
    EXPECT_EQ(named(add_model_cases(n), name).x, stage) << name;
    EXPECT_EQ(named(relu_model_cases(n), name).x, stage) << name;
    stage = {n, 2 * stage[1], (stage[2] + 1) / 2, (stage[3] + 1) / 2};  // 3x3/2 pad 1
  }
  const GlobalAvgPoolCase gap = named(global_avg_pool_model_cases(n), "rn18_avgpool");
  EXPECT_EQ(gap.x, named(add_model_cases(n), "rn18_layer4").x);
  EXPECT_EQ(gap.y(), (Shape{n, named(dense_model_cases(n), "resnet_head").in()}));
  EXPECT_EQ(named(dropout_model_cases(n), "rn18_head").x, gap.y());
}

}  // namespace
}  // namespace nebula::cases
