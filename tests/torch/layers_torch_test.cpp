// PyTorch parity of every layer of the study's models and of torchvision's
// ResNets: forward outputs and input/parameter gradients for a random upstream
// gradient, against tests/fixtures/torch_<layer>.safetensors.
#include <gtest/gtest.h>

#include <sstream>

#include "data/galaxy_tree.h"
#include "engine/layers.h"
#include "engine/ops.h"
#include "engine/sequential.h"
#include "engine/view_layers.h"
#include "tests/torch/torch_fixture.h"

namespace nebula {
namespace {

using torch_parity::fixture;
using torch_parity::meta_float;
using torch_parity::meta_int;
using torch_parity::variable;
using torch_parity::weighted_sum;

// Runs module on the case's x, backpropagates the case's dy and checks y and dx.
// Returns the input Variable so callers can check more.
void check_forward_backward(Module& module, const SafetensorsFile& f, const std::string& c) {
  Variable x = variable(f, c + ".x", true);
  Variable y = module(x);
  EXPECT_MATCHES(y.value(), f.at(c + ".y"));
  Variable loss = weighted_sum(y, f.at(c + ".dy"));
  backward(loss);
  EXPECT_MATCHES(x.grad(), f.at(c + ".dx"));
}

// ---- Conv2d

void check_conv(const std::string& c) {
  const SafetensorsFile& f = fixture("torch_conv2d");
  const Tensor& w = f.at(c + ".weight");
  Conv2dOptions options;
  options.out_channels = int(w.dim(0));
  options.in_channels = int(w.dim(1));
  options.kernel = int(w.dim(2));
  options.stride = meta_int(f, c + ".stride");
  options.bias = meta_int(f, c + ".bias") != 0;
  const std::string padding = f.meta(c + ".padding");
  if (padding == "valid")
    options.padding = Padding::Valid;
  else if (padding == "same")
    options.padding = Padding::Same;
  else
    options.pad = std::stoi(padding);
  Conv2d conv(options);
  conv.weight.value().copy_from(w);
  if (options.bias) conv.bias.value().copy_from(f.at(c + ".bias"));
  check_forward_backward(conv, f, c);
  EXPECT_MATCHES(conv.weight.grad(), f.at(c + ".dweight"));
  if (options.bias) {
    EXPECT_MATCHES(conv.bias.grad(), f.at(c + ".dbias"));
  }
}

TEST(Conv2dTorch, Valid) { check_conv("valid"); }
TEST(Conv2dTorch, ValidStride2NoBias) { check_conv("valid_stride2_no_bias"); }
TEST(Conv2dTorch, SamePaddingStride1) { check_conv("same_stride1"); }
TEST(Conv2dTorch, SamePaddingStride1EvenKernel) { check_conv("same_stride1_even_kernel"); }
TEST(Conv2dTorch, SamePaddingStride2) { check_conv("same_stride2"); }
TEST(Conv2dTorch, SamePaddingStride2OddSizes) { check_conv("same_stride2_odd"); }
TEST(Conv2dTorch, TorchPad1Stride2) { check_conv("pad1_stride2"); }
TEST(Conv2dTorch, TorchPad3Stride2Kernel7) { check_conv("pad3_stride2_7x7"); }
TEST(Conv2dTorch, PointwiseStride2) { check_conv("pointwise_stride2"); }

// ---- MaxPool2d

void check_maxpool(const std::string& c) {
  const SafetensorsFile& f = fixture("torch_maxpool2d");
  MaxPool2d pool(meta_int(f, c + ".kernel"), meta_int(f, c + ".stride"), meta_int(f, c + ".pad"));
  check_forward_backward(pool, f, c);
}

TEST(MaxPool2dTorch, Kernel2Stride2) { check_maxpool("k2_s2"); }
TEST(MaxPool2dTorch, Kernel3Stride2Pad1) { check_maxpool("k3_s2_pad1"); }
TEST(MaxPool2dTorch, Kernel3Stride2Pad1EvenInput) { check_maxpool("k3_s2_pad1_even"); }

// ---- Dense

void check_dense(const std::string& c) {
  const SafetensorsFile& f = fixture("torch_dense");
  const Tensor& w = f.at(c + ".weight");
  const bool bias = meta_int(f, c + ".bias") != 0;
  Dense dense(int(w.dim(1)), int(w.dim(0)), bias);
  dense.weight.value().copy_from(w);
  if (bias) dense.bias.value().copy_from(f.at(c + ".bias"));
  check_forward_backward(dense, f, c);
  EXPECT_MATCHES(dense.weight.grad(), f.at(c + ".dweight"));
  if (bias) {
    EXPECT_MATCHES(dense.bias.grad(), f.at(c + ".dbias"));
  }
}

TEST(DenseTorch, WithBias) { check_dense("bias"); }
TEST(DenseTorch, NoBias) { check_dense("no_bias"); }

// ---- Activations, Flatten, GlobalAvgPool

TEST(ReLUTorch, ForwardBackward) {
  ReLU relu;
  check_forward_backward(relu, fixture("torch_relu"), "main");
}

TEST(SigmoidTorch, ForwardBackward) {
  Sigmoid sigmoid;
  check_forward_backward(sigmoid, fixture("torch_sigmoid"), "main");
}

TEST(FlattenTorch, ForwardBackward) {
  Flatten flatten;
  check_forward_backward(flatten, fixture("torch_flatten"), "main");
}

TEST(GlobalAvgPoolTorch, ForwardBackward) {
  GlobalAvgPool pool;
  check_forward_backward(pool, fixture("torch_global_avg_pool"), "main");
}

// ---- The Galaxy Zoo decision-tree output, against Dieleman's formula written in
// PyTorch and differentiated by its autograd: the real sample's 17 columns, the
// 37 Kaggle columns, and the 37 in reverse order.

void check_galaxy_tree(const std::string& c) {
  const SafetensorsFile& f = fixture("torch_galaxy_tree");
  std::vector<std::string> columns;
  std::istringstream names(f.meta(c + ".columns"));
  for (std::string name; std::getline(names, name, ',');) columns.push_back(name);
  GalaxyTree tree(data::tree_layout(columns, "torch_galaxy_tree." + c));
  check_forward_backward(tree, f, c);
}

TEST(GalaxyTreeTorch, TheRealSamplesSeventeenColumns) { check_galaxy_tree("sample17"); }
TEST(GalaxyTreeTorch, TheThirtySevenKaggleColumns) { check_galaxy_tree("kaggle37"); }
TEST(GalaxyTreeTorch, ColumnsInAnotherOrder) { check_galaxy_tree("reversed37"); }

// ---- Views, their merge, maxout

void check_views(const std::string& c) {
  const SafetensorsFile& f = fixture("torch_views");
  const Tensor& x = f.at(c + ".x");
  Views views(parse_view_kind(f.meta(c + ".kind")), int(x.dim(2)), meta_int(f, c + ".size"));
  check_forward_backward(views, f, c);
}

TEST(ViewsTorch, Dihedral) { check_views("dihedral"); }
TEST(ViewsTorch, QuarterTurnsCutToACorner) { check_views("rotations"); }
TEST(ViewsTorch, DielemansSixteenOnAnOddSide) { check_views("dieleman"); }
TEST(ViewsTorch, DielemansSixteenOnAnEvenSide) { check_views("dieleman_even"); }
TEST(ViewsTorch, DielemansSixteenAtHisProportions) { check_views("dieleman_model"); }

void check_view_merge(const std::string& c, ViewMerge merge) {
  const SafetensorsFile& f = fixture("torch_view_merge");
  MergeViews layer(meta_int(f, c + ".views"), merge);
  check_forward_backward(layer, f, c);
}

TEST(ViewMergeTorch, Concat) { check_view_merge("concat", ViewMerge::Concat); }
TEST(ViewMergeTorch, Mean) { check_view_merge("mean", ViewMerge::Mean); }

TEST(MaxoutTorch, ThreePieces) {
  const SafetensorsFile& f = fixture("torch_maxout");
  Maxout layer(meta_int(f, "main.pieces"));
  check_forward_backward(layer, f, "main");
}

// ---- BatchNorm2d

void check_batchnorm(const std::string& c) {
  const SafetensorsFile& f = fixture("torch_batchnorm2d");
  const Tensor& gamma = f.at(c + ".weight");
  BatchNorm2d bn(int(gamma.dim(0)), meta_float(f, c + ".eps"), meta_float(f, c + ".momentum"));
  bn.weight.value().copy_from(gamma);
  bn.bias.value().copy_from(f.at(c + ".bias"));
  bn.running_mean.copy_from(f.at(c + ".running_mean"));
  bn.running_var.copy_from(f.at(c + ".running_var"));
  bn.train(meta_int(f, c + ".training") != 0);
  check_forward_backward(bn, f, c);
  EXPECT_MATCHES(bn.weight.grad(), f.at(c + ".dweight"));
  EXPECT_MATCHES(bn.bias.grad(), f.at(c + ".dbias"));
  EXPECT_MATCHES(bn.running_mean, f.at(c + ".running_mean_after"));
  EXPECT_MATCHES(bn.running_var, f.at(c + ".running_var_after"));
}

TEST(BatchNorm2dTorch, TrainModeGradients) { check_batchnorm("train"); }
TEST(BatchNorm2dTorch, TrainModeMomentum) { check_batchnorm("train_momentum_0.01"); }
TEST(BatchNorm2dTorch, EvalMode) { check_batchnorm("eval"); }

// ---- Add and the residual block

TEST(AddTorch, ForwardBackward) {
  const SafetensorsFile& f = fixture("torch_add");
  Variable a = variable(f, "main.a", true), b = variable(f, "main.b", true);
  Variable y = add(a, b);
  EXPECT_MATCHES(y.value(), f.at("main.y"));
  Variable loss = weighted_sum(y, f.at("main.dy"));
  backward(loss);
  EXPECT_MATCHES(a.grad(), f.at("main.da"));
  EXPECT_MATCHES(b.grad(), f.at("main.db"));
}

// torchvision's BasicBlock (3x3 pad 1 stride 2, BN, ReLU, 3x3, BN; 1x1 stride 2 + BN
// downsample; add; ReLU) in train mode, with torch's parameter names.
TEST(ResidualTorch, BasicBlockWithDownsample) {
  const SafetensorsFile& f = fixture("torch_residual");
  auto conv = [](int in, int out, int kernel, int stride, int pad) {
    Conv2dOptions o;
    o.in_channels = in, o.out_channels = out, o.kernel = kernel, o.stride = stride, o.pad = pad, o.bias = false;
    return std::make_unique<Conv2d>(o);
  };
  auto body = std::make_unique<Sequential>();
  body->add(conv(3, 4, 3, 2, 1), "conv1");
  body->add(std::make_unique<BatchNorm2d>(4), "bn1");
  body->add(std::make_unique<ReLU>(), "relu");
  body->add(conv(4, 4, 3, 1, 1), "conv2");
  body->add(std::make_unique<BatchNorm2d>(4), "bn2");
  auto downsample = std::make_unique<Sequential>();
  downsample->add(conv(3, 4, 1, 2, 0));
  downsample->add(std::make_unique<BatchNorm2d>(4));
  Residual block(std::move(body), std::move(downsample));
  block.train();

  for (NamedParameter& p : block.parameters()) p.variable.value().copy_from(f.at("param." + p.name));
  for (NamedBuffer& b : block.buffers()) b.tensor.copy_from(f.at("param." + b.name));
  int torch_parameters = 0;
  for (const SafetensorsEntry& e : f.entries()) torch_parameters += e.name.rfind("grad.", 0) == 0;
  EXPECT_EQ(int(block.parameters().size()), torch_parameters) << "parameter names differ from torchvision's";

  Variable x = variable(f, "main.x", true);
  Variable y = relu(block(x));
  EXPECT_MATCHES(y.value(), f.at("main.y"));
  Variable loss = weighted_sum(y, f.at("main.dy"));
  backward(loss);
  EXPECT_MATCHES(x.grad(), f.at("main.dx"));
  for (NamedParameter& p : block.parameters()) {
    SCOPED_TRACE(p.name);
    EXPECT_MATCHES(p.variable.grad(), f.at("grad." + p.name));
  }
  for (NamedBuffer& b : block.buffers()) {
    SCOPED_TRACE(b.name);
    EXPECT_MATCHES(b.tensor, f.at("after." + b.name));
  }
}

// ---- MSE loss

TEST(MseLossTorch, LossAndGradient) {
  const SafetensorsFile& f = fixture("torch_mse");
  Variable prediction = variable(f, "main.prediction", true);
  Variable target = variable(f, "main.target");
  Variable loss = mse_loss(prediction, target);
  EXPECT_MATCHES(loss.value(), f.at("main.loss"));
  backward(loss);
  EXPECT_MATCHES(prediction.grad(), f.at("main.dprediction"));
}

}  // namespace
}  // namespace nebula
