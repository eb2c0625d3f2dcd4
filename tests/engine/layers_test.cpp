// Layer behaviour beyond gradients: shape inference and its errors, train/eval
// switches, initialisation, and naming.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "base/random.h"
#include "engine/layers.h"
#include "engine/ops.h"
#include "engine/optimizer.h"
#include "engine/sequential.h"

namespace nebula {
namespace {

TEST(Layers, ShapeErrorsNameTheLayerAndShapes) {
  Conv2d conv(Conv2dOptions{3, 8, 3});
  try {
    conv(Variable(Tensor::zeros({1, 4, 9, 9})));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("Conv2d"), std::string::npos) << message;
    EXPECT_NE(message.find("[1, 4, 9, 9]"), std::string::npos) << message;
  }
  Dense dense(10, 2);
  EXPECT_THROW(dense(Variable(Tensor::zeros({2, 3, 4}))), Error);
  EXPECT_THROW(MaxPool2d(5).output_shape({1, 1, 3, 3}), Error);
}

// The GalaxyTree layer is the kernel behind the tape: its output and, through
// the MSE loss, its input gradient are the kernel's, and a wrong width is
// refused naming the layer.
TEST(Layers, GalaxyTreeRunsTheKernelForwardAndBackward) {
  GalaxyTreeLayout t;  // Q1 (3 answers), Q2 (2 answers, led to by the second answer of Q1)
  t.columns = 5;
  t.questions = 2;
  const int8_t question_of[5] = {0, 0, 0, 1, 1};
  for (int j = 0; j < 5; ++j) t.question_of[j] = question_of[j];
  t.parent[0] = -1;
  t.parent[1] = 1;
  GalaxyTree tree(t);
  const std::vector<float> xs = {0.5f, 1.5f, -1.0f, 2.0f, 1.0f, 0.25f, 0.25f, 0.5f, -1.0f, 3.0f};
  Variable x(Tensor::from_vector({2, 5}, xs), true);
  Variable target(Tensor::zeros({2, 5}));
  Variable y = tree(x);
  std::vector<float> expected(10), dy(10), dx(10);
  ref::galaxy_tree_forward<float>(t, 2, xs.data(), expected.data());
  EXPECT_EQ(y.value().to_vector(), expected);
  Variable loss = mse_loss(y, target);
  backward(loss);
  for (int i = 0; i < 10; ++i) dy[i] = 2.0f * expected[i] / 10.0f;
  ref::galaxy_tree_backward<float>(t, 2, xs.data(), expected.data(), dy.data(), dx.data());
  const std::vector<float> grad = x.grad().to_vector();
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(grad[i], dx[i], 1e-7f) << i;
  try {
    tree(Variable(Tensor::zeros({2, 4})));
    FAIL() << "a 4-column input was accepted by a 5-column tree";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("GalaxyTree"), std::string::npos) << e.what();
  }
}

// Sequential runs a Conv2d followed by a ReLU as one fused op: the output and
// every gradient must be exactly those of the two layers run one by one.
TEST(Layers, FusedConvReluMatchesConvThenRelu) {
  manual_seed(3);
  Sequential net;
  Conv2d& conv = net.emplace<Conv2d>(Conv2dOptions{3, 4, 3, 2, Padding::Same});
  net.emplace<ReLU>();
  Generator g(8);
  std::vector<float> values(2 * 3 * 9 * 7);
  for (float& v : values) v = g.uniform(-1.0f, 1.0f);
  Variable x1(Tensor::from_vector({2, 3, 9, 7}, values), true), x2(x1.value().clone(), true);

  Variable fused = net(x1);
  Variable loss1 = mse_loss(fused, Variable(Tensor::full(fused.shape(), 0.25f)));
  backward(loss1);
  std::vector<float> dw_fused = conv.weight.grad().to_vector(), db_fused = conv.bias.grad().to_vector();
  conv.weight.zero_grad();
  conv.bias.zero_grad();

  Variable separate = relu(conv(x2));
  Variable loss2 = mse_loss(separate, Variable(Tensor::full(separate.shape(), 0.25f)));
  backward(loss2);
  std::vector<float> y = fused.value().to_vector();
  EXPECT_EQ(y, separate.value().to_vector());
  EXPECT_GT(std::count(y.begin(), y.end(), 0.0f), 0) << "the ReLU never clipped: the test would not see it";
  EXPECT_EQ(x1.grad().to_vector(), x2.grad().to_vector());
  EXPECT_EQ(dw_fused, conv.weight.grad().to_vector());
  EXPECT_EQ(db_fused, conv.bias.grad().to_vector());
}

TEST(Layers, SamePaddingKeepsCeilOfInputOverStride) {
  Conv2d same1(Conv2dOptions{1, 1, 3, 1, Padding::Same});
  EXPECT_EQ(same1.output_shape({1, 1, 7, 8}), (Shape{1, 1, 7, 8}));
  Conv2d same2(Conv2dOptions{1, 1, 3, 2, Padding::Same});
  EXPECT_EQ(same2.output_shape({1, 1, 7, 8}), (Shape{1, 1, 4, 4}));
  Conv2d valid(Conv2dOptions{1, 1, 3, 2, Padding::Valid});
  EXPECT_EQ(valid.output_shape({1, 1, 7, 8}), (Shape{1, 1, 3, 3}));
  Conv2d torch_style(Conv2dOptions{1, 1, 7, 2, Padding::Valid, 3});
  EXPECT_EQ(torch_style.output_shape({1, 1, 224, 224}), (Shape{1, 1, 112, 112}));
}

TEST(Layers, DropoutIsIdentityInEvalAndScalesInTraining) {
  manual_seed(1);
  Dropout dropout(0.5f);
  Variable x(Tensor::full({1, 10000}, 1.0f));
  dropout.eval();
  EXPECT_EQ(dropout(x).value().to_vector(), x.value().to_vector());
  dropout.train();
  std::vector<float> y = dropout(x).value().to_vector();
  int kept = 0;
  for (float v : y) {
    EXPECT_TRUE(v == 0.0f || v == 2.0f) << v;
    kept += v != 0.0f;
  }
  EXPECT_NEAR(kept / 10000.0, 0.5, 0.03);
  // The next call draws a fresh mask.
  EXPECT_NE(dropout(x).value().to_vector(), y);
}

TEST(Layers, BatchNormEvalUsesRunningStatistics) {
  BatchNorm2d bn(2);
  bn.running_mean.copy_from(Tensor::from_vector({2}, {1.0f, -1.0f}));
  bn.running_var.copy_from(Tensor::from_vector({2}, {4.0f, 0.25f}));
  bn.eval();
  Variable x(Tensor::from_vector({1, 2, 1, 2}, {3.0f, 1.0f, 0.0f, -1.5f}));
  std::vector<float> y = bn(x).value().to_vector();
  EXPECT_NEAR(y[0], 2.0f / std::sqrt(4.0f + 1e-5f), 1e-6);
  EXPECT_NEAR(y[1], 0.0f, 1e-6);
  EXPECT_NEAR(y[2], 1.0f / std::sqrt(0.25f + 1e-5f), 1e-5);
  EXPECT_NEAR(y[3], -0.5f / std::sqrt(0.25f + 1e-5f), 1e-5);
  // Eval leaves the statistics alone; training moves them by momentum 0.1.
  EXPECT_EQ(bn.running_mean.to_vector(), (std::vector<float>{1.0f, -1.0f}));
  bn.train();
  bn(x);
  EXPECT_NEAR(bn.running_mean.to_vector()[0], 0.9f * 1.0f + 0.1f * 2.0f, 1e-6);
}

TEST(Layers, GlorotUniformStaysInsideItsLimitAndBiasesAreZero) {
  manual_seed(5);
  Conv2d conv(Conv2dOptions{16, 32, 3});
  float limit = std::sqrt(6.0f / (16 * 9 + 32 * 9));
  std::vector<float> w = conv.weight.value().to_vector();
  float largest = 0.0f;
  double mean = 0.0;
  for (float v : w) {
    largest = std::max(largest, std::fabs(v));
    mean += v;
  }
  EXPECT_LE(largest, limit);
  EXPECT_GT(largest, 0.95f * limit);
  EXPECT_NEAR(mean / w.size(), 0.0, 0.05 * limit);
  for (float b : conv.bias.value().to_vector()) EXPECT_EQ(b, 0.0f);
}

TEST(Layers, OneSeedGivesTheSameWeights) {
  manual_seed(42);
  Dense a(20, 10);
  manual_seed(42);
  Dense b(20, 10);
  EXPECT_EQ(a.weight.value().to_vector(), b.weight.value().to_vector());
  Dense c(20, 10);
  EXPECT_NE(a.weight.value().to_vector(), c.weight.value().to_vector());
}

TEST(Layers, ParametersAndBuffersUsePyTorchNames) {
  Sequential net;
  net.emplace<Conv2d>(Conv2dOptions{3, 4, 3});
  net.emplace<BatchNorm2d>(4);
  auto body = std::make_unique<Sequential>();
  body->add(std::make_unique<Conv2d>(Conv2dOptions{4, 4, 3, 1, Padding::Same, -1, false}), "conv1");
  auto shortcut = std::make_unique<Sequential>();
  shortcut->emplace<Conv2d>(Conv2dOptions{4, 4, 1, 1, Padding::Valid, -1, false});
  net.add(std::make_unique<Residual>(std::move(body), std::move(shortcut)), "block");
  std::vector<std::string> names;
  for (auto& p : net.parameters()) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "block.conv1.weight",
                                             "block.downsample.0.weight"}));
  std::vector<std::string> buffers;
  for (auto& b : net.buffers()) buffers.push_back(b.name);
  EXPECT_EQ(buffers, (std::vector<std::string>{"1.running_mean", "1.running_var"}));
}

TEST(Optimizers, FrozenParametersStayPut) {
  manual_seed(2);
  Dense a(3, 2), b(2, 1);
  b.weight.set_requires_grad(false);
  std::vector<float> frozen = b.weight.value().to_vector();
  std::vector<ParameterGroup> groups = {{a.parameters(), 0.0f}, {b.parameters(), 0.5f}};
  Adamax optimizer(groups);
  Variable x(Tensor::full({4, 3}, 0.5f));
  Variable loss = mse_loss(b(a(x)), Variable(Tensor::full({4, 1}, 3.0f)));
  std::vector<float> before = a.weight.value().to_vector();
  backward(loss);
  optimizer.step();
  EXPECT_EQ(b.weight.value().to_vector(), frozen);
  EXPECT_NE(a.weight.value().to_vector(), before);
  EXPECT_EQ(optimizer.steps(), 1);
}

}  // namespace
}  // namespace nebula
