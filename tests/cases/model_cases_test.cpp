// The case tables' model layers are the models' layers: each shape is valid,
// and in cnn1 each convolution feeds the pooling after it, which feeds the
// next convolution, and the last pooling the dense layers (a typo in one table
// would break the chain).
#include <gtest/gtest.h>

#include "tests/cases/conv2d_cases.h"
#include "tests/cases/dense_cases.h"
#include "tests/cases/maxpool2d_cases.h"

namespace nebula::cases {
namespace {

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

}  // namespace
}  // namespace nebula::cases
