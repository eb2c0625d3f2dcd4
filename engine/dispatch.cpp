#include "engine/dispatch.h"

#include <algorithm>
#include <initializer_list>

#include "base/error.h"
#include "engine/view_tables.h"
#include "kernels/activation.h"
#include "kernels/add.h"
#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/global_avg_pool.h"
#include "kernels/maxout.h"
#include "kernels/mse.h"

namespace nebula {

namespace {
Backend current_backend = Backend::Native;
const uint64_t* dropout_offset_counter = nullptr;

using TensorList = std::initializer_list<const Tensor*>;

// Where an op runs: the CPU, Nebula's own CUDA kernels, or cuDNN/cuBLAS.
enum class Path { Cpu, Native, Library };

// Every operand must be defined and on one device; the device and the backend
// setting pick the path.
Path path_for(const char* op, TensorList tensors) {
  Device device = (*tensors.begin())->device();
  for (const Tensor* t : tensors) {
    NEBULA_CHECK(t->defined(), op, ": an operand is undefined");
    NEBULA_CHECK(t->device() == device, op, ": operands on different devices (", device_name(device), " and ",
                 device_name(t->device()), ")");
  }
  if (device == Device::CPU) return Path::Cpu;
  return current_backend == Backend::Cudnn ? Path::Library : Path::Native;
}

void expect_numel(const char* op, const char* what, const Tensor& t, int64_t n) {
  NEBULA_CHECK(t.numel() == n, op, ": ", what, " has shape ", to_string(t.shape()), " (", t.numel(),
               " values), expected ", n, " values");
}

void expect_same_numel(const char* op, const Tensor& a, const Tensor& b) {
  NEBULA_CHECK(a.numel() == b.numel(), op, ": shapes ", to_string(a.shape()), " and ", to_string(b.shape()),
               " differ in size");
}

DenseParams dense_params(const char* op, const Tensor& x, const Tensor& w) {
  NEBULA_CHECK(w.rank() == 2, op, ": weight must be [out, in], got ", to_string(w.shape()));
  DenseParams p;
  p.out_features = static_cast<int>(w.dim(0));
  p.in_features = static_cast<int>(w.dim(1));
  NEBULA_CHECK(x.rank() >= 1 && x.numel() % p.in_features == 0 && x.dim(0) * p.in_features == x.numel(), op, ": input ",
               to_string(x.shape()), " does not fit weight ", to_string(w.shape()));
  p.batch = static_cast<int>(x.dim(0));
  return p;
}

int64_t conv_in(const Conv2dParams& p) { return int64_t(p.batch) * p.in_channels * p.in_h * p.in_w; }
int64_t conv_out(const Conv2dParams& p) { return int64_t(p.batch) * p.out_channels * p.out_h * p.out_w; }
int64_t conv_weight(const Conv2dParams& p) { return int64_t(p.out_channels) * p.in_channels * p.kernel_h * p.kernel_w; }
int64_t pool_in(const Pool2dParams& p) { return int64_t(p.batch) * p.channels * p.in_h * p.in_w; }
int64_t pool_out(const Pool2dParams& p) { return int64_t(p.batch) * p.channels * p.out_h * p.out_w; }
int64_t bn_size(const BatchNormParams& p) { return int64_t(p.batch) * p.channels * p.spatial; }

const float* data_or_null(const Tensor* t) { return t ? t->data() : nullptr; }
float* data_or_null(Tensor* t) { return t ? t->data() : nullptr; }

}  // namespace

void set_backend(Backend backend) { current_backend = backend; }
Backend backend() { return current_backend; }
const char* backend_name(Backend backend) { return backend == Backend::Native ? "native" : "cudnn"; }

Backend parse_backend(const std::string& name) {
  if (name == "native") return Backend::Native;
  if (name == "cudnn") return Backend::Cudnn;
  NEBULA_FAIL("--backend must be native or cudnn, got '", name, "'");
}

namespace dispatch {

void set_dropout_offset_counter(const uint64_t* counter) { dropout_offset_counter = counter; }

void conv2d_forward(const Conv2dParams& p, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y, bool relu) {
  const char* op = "conv2d forward";
  Path path = path_for(op, {&x, &w, &y});
  expect_numel(op, "input", x, conv_in(p));
  expect_numel(op, "weight", w, conv_weight(p));
  expect_numel(op, "output", y, conv_out(p));
  if (bias) expect_numel(op, "bias", *bias, p.out_channels);
  if (bias) NEBULA_CHECK(bias->device() == x.device(), op, ": bias on another device");
  switch (path) {
    case Path::Cpu:
      cpu::conv2d_forward(p, x.data(), w.data(), data_or_null(bias), y.data());
      if (relu) ref::relu_forward(y.numel(), y.data(), y.data());
      break;
    case Path::Native:
      cuda::conv2d_forward(p, x.data(), w.data(), data_or_null(bias), y.data(), relu);
      break;
    case Path::Library:
      cudnn::conv2d_forward(p, x.data(), w.data(), data_or_null(bias), y.data(), relu);
      break;
  }
}

void conv2d_backward_data(const Conv2dParams& p, const Tensor& dy, const Tensor& w, Tensor& dx) {
  const char* op = "conv2d backward data";
  Path path = path_for(op, {&dy, &w, &dx});
  expect_numel(op, "output gradient", dy, conv_out(p));
  expect_numel(op, "weight", w, conv_weight(p));
  expect_numel(op, "input gradient", dx, conv_in(p));
  switch (path) {
    case Path::Cpu:
      cpu::conv2d_backward_data(p, dy.data(), w.data(), dx.data());
      break;
    case Path::Native:
      cuda::conv2d_backward_data(p, dy.data(), w.data(), dx.data());
      break;
    case Path::Library:
      cudnn::conv2d_backward_data(p, dy.data(), w.data(), dx.data());
      break;
  }
}

void conv2d_backward_filter(const Conv2dParams& p, const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* dbias) {
  const char* op = "conv2d backward filter";
  Path path = path_for(op, {&x, &dy, &dw});
  expect_numel(op, "input", x, conv_in(p));
  expect_numel(op, "output gradient", dy, conv_out(p));
  expect_numel(op, "weight gradient", dw, conv_weight(p));
  if (dbias) expect_numel(op, "bias gradient", *dbias, p.out_channels);
  switch (path) {
    case Path::Cpu:
      cpu::conv2d_backward_filter(p, x.data(), dy.data(), dw.data(), data_or_null(dbias));
      break;
    case Path::Native:
      cuda::conv2d_backward_filter(p, x.data(), dy.data(), dw.data(), data_or_null(dbias));
      break;
    case Path::Library:
      cudnn::conv2d_backward_filter(p, x.data(), dy.data(), dw.data(), data_or_null(dbias));
      break;
  }
}

void dense_forward(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  const char* op = "dense forward";
  Path path = path_for(op, {&x, &w, &y});
  DenseParams p = dense_params(op, x, w);
  expect_numel(op, "output", y, int64_t(p.batch) * p.out_features);
  if (bias) expect_numel(op, "bias", *bias, p.out_features);
  switch (path) {
    case Path::Cpu:
      cpu::dense_forward(p, x.data(), w.data(), data_or_null(bias), y.data());
      break;
    case Path::Native:
      cuda::dense_forward(p, x.data(), w.data(), data_or_null(bias), y.data());
      break;
    case Path::Library:
      cudnn::dense_forward(p, x.data(), w.data(), data_or_null(bias), y.data());
      break;
  }
}

void dense_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx) {
  const char* op = "dense backward data";
  Path path = path_for(op, {&dy, &w, &dx});
  DenseParams p = dense_params(op, dx, w);
  expect_numel(op, "output gradient", dy, int64_t(p.batch) * p.out_features);
  switch (path) {
    case Path::Cpu:
      cpu::dense_backward_data(p, dy.data(), w.data(), dx.data());
      break;
    case Path::Native:
      cuda::dense_backward_data(p, dy.data(), w.data(), dx.data());
      break;
    case Path::Library:
      cudnn::dense_backward_data(p, dy.data(), w.data(), dx.data());
      break;
  }
}

void dense_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* dbias) {
  const char* op = "dense backward weight";
  Path path = path_for(op, {&x, &dy, &dw});
  DenseParams p = dense_params(op, x, dw);
  expect_numel(op, "output gradient", dy, int64_t(p.batch) * p.out_features);
  if (dbias) expect_numel(op, "bias gradient", *dbias, p.out_features);
  switch (path) {
    case Path::Cpu:
      cpu::dense_backward_weight(p, x.data(), dy.data(), dw.data(), data_or_null(dbias));
      break;
    case Path::Native:
      cuda::dense_backward_weight(p, x.data(), dy.data(), dw.data(), data_or_null(dbias));
      break;
    case Path::Library:
      cudnn::dense_backward_weight(p, x.data(), dy.data(), dw.data(), data_or_null(dbias));
      break;
  }
}

void maxpool2d_forward(const Pool2dParams& p, const Tensor& x, Tensor& y) {
  const char* op = "maxpool2d forward";
  Path path = path_for(op, {&x, &y});
  expect_numel(op, "input", x, pool_in(p));
  expect_numel(op, "output", y, pool_out(p));
  switch (path) {
    case Path::Cpu:
      ref::maxpool2d_forward(p, x.data(), y.data());
      break;
    case Path::Native:
      cuda::maxpool2d_forward(p, x.data(), y.data());
      break;
    case Path::Library:
      cudnn::maxpool2d_forward(p, x.data(), y.data());
      break;
  }
}

void maxpool2d_backward(const Pool2dParams& p, const Tensor& x, const Tensor& dy, Tensor& dx) {
  const char* op = "maxpool2d backward";
  Path path = path_for(op, {&x, &dy, &dx});
  expect_numel(op, "input", x, pool_in(p));
  expect_numel(op, "output gradient", dy, pool_out(p));
  expect_numel(op, "input gradient", dx, pool_in(p));
  switch (path) {
    case Path::Cpu:
      ref::maxpool2d_backward(p, x.data(), dy.data(), dx.data());
      break;
    case Path::Native:
      cuda::maxpool2d_backward(p, x.data(), dy.data(), dx.data());
      break;
    case Path::Library:
      cudnn::maxpool2d_backward(p, x.data(), dy.data(), dx.data());
      break;
  }
}

namespace {
// relu and sigmoid share their checks and their three paths.
using ActivationForward = void (*)(int64_t, const float*, float*);
using ActivationBackward = void (*)(int64_t, const float*, const float*, float*);

void activation_forward(const char* op, const Tensor& x, Tensor& y, ActivationForward cpu_fn,
                        ActivationForward native_fn, ActivationForward library_fn) {
  Path path = path_for(op, {&x, &y});
  expect_same_numel(op, x, y);
  ActivationForward fn = path == Path::Cpu ? cpu_fn : path == Path::Native ? native_fn : library_fn;
  fn(x.numel(), x.data(), y.data());
}

void activation_backward(const char* op, const Tensor& y, const Tensor& dy, Tensor& dx, ActivationBackward cpu_fn,
                         ActivationBackward native_fn, ActivationBackward library_fn) {
  Path path = path_for(op, {&y, &dy, &dx});
  expect_same_numel(op, y, dy);
  expect_same_numel(op, y, dx);
  ActivationBackward fn = path == Path::Cpu ? cpu_fn : path == Path::Native ? native_fn : library_fn;
  fn(y.numel(), y.data(), dy.data(), dx.data());
}
}  // namespace

void relu_forward(const Tensor& x, Tensor& y) {
  activation_forward("relu forward", x, y, ref::relu_forward<float>, cuda::relu_forward, cudnn::relu_forward);
}

void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  activation_backward("relu backward", y, dy, dx, ref::relu_backward<float>, cuda::relu_backward, cudnn::relu_backward);
}

void sigmoid_forward(const Tensor& x, Tensor& y) {
  activation_forward("sigmoid forward", x, y, ref::sigmoid_forward<float>, cuda::sigmoid_forward,
                     cudnn::sigmoid_forward);
}

void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  activation_backward("sigmoid backward", y, dy, dx, ref::sigmoid_backward<float>, cuda::sigmoid_backward,
                      cudnn::sigmoid_backward);
}

// Dropout, global average pooling, add, the galaxy tree, the views, their
// merge, maxout, the loss and the optimizers have no library peer: both GPU settings run the native kernels.

namespace {
int64_t galaxy_tree_rows(const char* op, const GalaxyTreeLayout& layout, const Tensor& x) {
  NEBULA_CHECK(x.numel() % layout.columns == 0 && x.shape().back() == layout.columns, op, ": input ",
               to_string(x.shape()), " does not end in the tree's ", layout.columns, " columns");
  return x.numel() / layout.columns;
}
}  // namespace

void galaxy_tree_forward(const GalaxyTreeLayout& layout, const Tensor& x, Tensor& y) {
  const char* op = "galaxy tree forward";
  Path path = path_for(op, {&x, &y});
  expect_same_numel(op, x, y);
  const int64_t rows = galaxy_tree_rows(op, layout, x);
  if (path == Path::Cpu)
    ref::galaxy_tree_forward(layout, rows, x.data(), y.data());
  else
    cuda::galaxy_tree_forward(layout, rows, x.data(), y.data());
}

void galaxy_tree_backward(const GalaxyTreeLayout& layout, const Tensor& x, const Tensor& y, const Tensor& dy,
                          Tensor& dx) {
  const char* op = "galaxy tree backward";
  Path path = path_for(op, {&x, &y, &dy, &dx});
  expect_same_numel(op, x, y);
  expect_same_numel(op, x, dy);
  expect_same_numel(op, x, dx);
  const int64_t rows = galaxy_tree_rows(op, layout, x);
  if (path == Path::Cpu)
    ref::galaxy_tree_backward(layout, rows, x.data(), y.data(), dy.data(), dx.data());
  else
    cuda::galaxy_tree_backward(layout, rows, x.data(), y.data(), dy.data(), dx.data());
}

namespace {
// The images' batch and channels, checked against the views' table.
void views_sizes(const char* op, const ViewTable& t, const Tensor& images, const Tensor& views, int64_t* batch,
                 int64_t* channels) {
  NEBULA_CHECK(images.rank() == 4 && images.dim(2) == t.in_size && images.dim(3) == t.in_size, op, ": images ",
               to_string(images.shape()), " are not [N, C, ", t.in_size, ", ", t.in_size, "]");
  *batch = images.dim(0);
  *channels = images.dim(1);
  expect_numel(op, "the views", views, t.views * *batch * *channels * t.out_pixels());
}
}  // namespace

void views_forward(ViewTables& tables, const Tensor& x, Tensor& y) {
  const char* op = "views forward";
  Path path = path_for(op, {&x, &y});
  int64_t batch = 0, channels = 0;
  views_sizes(op, tables.table(), x, y, &batch, &channels);
  if (path == Path::Cpu)
    ref::views_forward(tables.arrays(Device::CPU), batch, channels, x.data(), y.data());
  else
    cuda::views_forward(tables.arrays(Device::CUDA), batch, channels, x.data(), y.data());
}

void views_backward(ViewTables& tables, const Tensor& dy, Tensor& dx) {
  const char* op = "views backward";
  Path path = path_for(op, {&dy, &dx});
  int64_t batch = 0, channels = 0;
  views_sizes(op, tables.table(), dx, dy, &batch, &channels);
  if (path == Path::Cpu)
    ref::views_backward(tables.arrays(Device::CPU), batch, channels, dy.data(), dx.data());
  else
    cuda::views_backward(tables.arrays(Device::CUDA), batch, channels, dy.data(), dx.data());
}

namespace {
int64_t merged_features(const ViewMergeParams& p) {
  return p.merge == ViewMerge::Concat ? p.views * p.features : p.features;
}
}  // namespace

void view_merge_forward(const ViewMergeParams& p, const Tensor& x, Tensor& y) {
  const char* op = "view merge forward";
  Path path = path_for(op, {&x, &y});
  expect_numel(op, "input", x, p.views * p.batch * p.features);
  expect_numel(op, "output", y, p.batch * merged_features(p));
  if (path == Path::Cpu)
    ref::view_merge_forward(p, x.data(), y.data());
  else
    cuda::view_merge_forward(p, x.data(), y.data());
}

void view_merge_backward(const ViewMergeParams& p, const Tensor& dy, Tensor& dx) {
  const char* op = "view merge backward";
  Path path = path_for(op, {&dy, &dx});
  expect_numel(op, "gradient", dy, p.batch * merged_features(p));
  expect_numel(op, "input gradient", dx, p.views * p.batch * p.features);
  if (path == Path::Cpu)
    ref::view_merge_backward(p, dy.data(), dx.data());
  else
    cuda::view_merge_backward(p, dy.data(), dx.data());
}

void maxout_forward(int pieces, const Tensor& x, Tensor& y) {
  const char* op = "maxout forward";
  Path path = path_for(op, {&x, &y});
  NEBULA_CHECK(pieces >= 1, op, ": pieces must be at least 1, got ", pieces);
  expect_numel(op, "input", x, y.numel() * pieces);
  if (path == Path::Cpu)
    ref::maxout_forward(y.numel(), pieces, x.data(), y.data());
  else
    cuda::maxout_forward(y.numel(), pieces, x.data(), y.data());
}

void maxout_backward(int pieces, const Tensor& x, const Tensor& dy, Tensor& dx) {
  const char* op = "maxout backward";
  Path path = path_for(op, {&x, &dy, &dx});
  NEBULA_CHECK(pieces >= 1, op, ": pieces must be at least 1, got ", pieces);
  expect_numel(op, "input", x, dy.numel() * pieces);
  expect_same_numel(op, x, dx);
  if (path == Path::Cpu)
    ref::maxout_backward(dy.numel(), pieces, x.data(), dy.data(), dx.data());
  else
    cuda::maxout_backward(dy.numel(), pieces, x.data(), dy.data(), dx.data());
}

void dropout_forward(float rate, uint64_t seed, uint64_t offset, const Tensor& x, Tensor& y) {
  Path path = path_for("dropout forward", {&x, &y});
  expect_same_numel("dropout forward", x, y);
  NEBULA_CHECK(rate >= 0.0f && rate < 1.0f, "dropout: rate must be in [0, 1), got ", rate);
  if (path == Path::Cpu)
    ref::dropout_forward(x.numel(), rate, seed, offset, x.data(), y.data());
  else
    cuda::dropout_forward(x.numel(), rate, seed, offset, dropout_offset_counter, x.data(), y.data());
}

void dropout_backward(float rate, uint64_t seed, uint64_t offset, const Tensor& dy, Tensor& dx) {
  Path path = path_for("dropout backward", {&dy, &dx});
  expect_same_numel("dropout backward", dy, dx);
  if (path == Path::Cpu)
    ref::dropout_backward(dy.numel(), rate, seed, offset, dy.data(), dx.data());
  else
    cuda::dropout_backward(dy.numel(), rate, seed, offset, dropout_offset_counter, dy.data(), dx.data());
}

void batchnorm2d_forward_train(const BatchNormParams& p, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                               Tensor& y, Tensor& save_mean, Tensor& save_invstd, Tensor& running_mean,
                               Tensor& running_var) {
  const char* op = "batchnorm2d forward (train)";
  Path path = path_for(op, {&x, &gamma, &beta, &y, &save_mean, &save_invstd, &running_mean, &running_var});
  expect_numel(op, "input", x, bn_size(p));
  expect_numel(op, "output", y, bn_size(p));
  for (const Tensor* t : TensorList{&gamma, &beta, &save_mean, &save_invstd, &running_mean, &running_var})
    expect_numel(op, "a per-channel tensor", *t, p.channels);
  auto fn = path == Path::Cpu      ? ref::batchnorm2d_forward_train<float>
            : path == Path::Native ? cuda::batchnorm2d_forward_train
                                   : cudnn::batchnorm2d_forward_train;
  fn(p, x.data(), gamma.data(), beta.data(), y.data(), save_mean.data(), save_invstd.data(), running_mean.data(),
     running_var.data());
}

void batchnorm2d_forward_eval(const BatchNormParams& p, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                              const Tensor& running_mean, const Tensor& running_var, Tensor& y) {
  const char* op = "batchnorm2d forward (eval)";
  Path path = path_for(op, {&x, &gamma, &beta, &running_mean, &running_var, &y});
  expect_numel(op, "input", x, bn_size(p));
  expect_numel(op, "output", y, bn_size(p));
  for (const Tensor* t : TensorList{&gamma, &beta, &running_mean, &running_var})
    expect_numel(op, "a per-channel tensor", *t, p.channels);
  auto fn = path == Path::Cpu      ? ref::batchnorm2d_forward_eval<float>
            : path == Path::Native ? cuda::batchnorm2d_forward_eval
                                   : cudnn::batchnorm2d_forward_eval;
  fn(p, x.data(), gamma.data(), beta.data(), running_mean.data(), running_var.data(), y.data());
}

void batchnorm2d_backward(const BatchNormParams& p, bool training, const Tensor& x, const Tensor& dy,
                          const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd, Tensor& dx,
                          Tensor& dgamma, Tensor& dbeta) {
  const char* op = "batchnorm2d backward";
  Path path = path_for(op, {&x, &dy, &gamma, &save_mean, &save_invstd, &dx, &dgamma, &dbeta});
  for (const Tensor* t : TensorList{&x, &dy, &dx}) expect_numel(op, "an activation", *t, bn_size(p));
  for (const Tensor* t : TensorList{&gamma, &save_mean, &save_invstd, &dgamma, &dbeta})
    expect_numel(op, "a per-channel tensor", *t, p.channels);
  switch (path) {
    case Path::Cpu:
      ref::batchnorm2d_backward(p, training, x.data(), dy.data(), gamma.data(), save_mean.data(), save_invstd.data(),
                                dx.data(), dgamma.data(), dbeta.data());
      break;
    case Path::Library:
      if (training) {  // cuDNN has no eval-mode backward: that case runs natively
        cudnn::batchnorm2d_backward_train(p, x.data(), dy.data(), gamma.data(), save_mean.data(), save_invstd.data(),
                                          dx.data(), dgamma.data(), dbeta.data());
        break;
      }
      [[fallthrough]];
    case Path::Native:
      cuda::batchnorm2d_backward(p, training, x.data(), dy.data(), gamma.data(), save_mean.data(), save_invstd.data(),
                                 dx.data(), dgamma.data(), dbeta.data());
      break;
  }
}

void global_avg_pool_forward(const Tensor& x, Tensor& y) {
  const char* op = "global average pool forward";
  Path path = path_for(op, {&x, &y});
  NEBULA_CHECK(x.rank() == 4, op, ": input must be [N, C, H, W], got ", to_string(x.shape()));
  expect_numel(op, "output", y, x.dim(0) * x.dim(1));
  int planes = static_cast<int>(x.dim(0) * x.dim(1)), spatial = static_cast<int>(x.dim(2) * x.dim(3));
  if (path == Path::Cpu)
    ref::global_avg_pool_forward(planes, spatial, x.data(), y.data());
  else
    cuda::global_avg_pool_forward(planes, spatial, x.data(), y.data());
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  const char* op = "global average pool backward";
  Path path = path_for(op, {&dy, &dx});
  NEBULA_CHECK(dx.rank() == 4, op, ": input gradient must be [N, C, H, W], got ", to_string(dx.shape()));
  expect_numel(op, "output gradient", dy, dx.dim(0) * dx.dim(1));
  int planes = static_cast<int>(dx.dim(0) * dx.dim(1)), spatial = static_cast<int>(dx.dim(2) * dx.dim(3));
  if (path == Path::Cpu)
    ref::global_avg_pool_backward(planes, spatial, dy.data(), dx.data());
  else
    cuda::global_avg_pool_backward(planes, spatial, dy.data(), dx.data());
}

void add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  Path path = path_for("add", {&a, &b, &y});
  NEBULA_CHECK(a.shape() == b.shape(), "add: shapes ", to_string(a.shape()), " and ", to_string(b.shape()), " differ");
  expect_same_numel("add", a, y);
  if (path == Path::Cpu)
    ref::add_forward(a.numel(), a.data(), b.data(), y.data());
  else
    cuda::add_forward(a.numel(), a.data(), b.data(), y.data());
}

void accumulate(const Tensor& x, Tensor& y) {
  Path path = path_for("accumulate", {&x, &y});
  expect_same_numel("accumulate", x, y);
  if (path == Path::Cpu)
    ref::accumulate(x.numel(), x.data(), y.data());
  else
    cuda::accumulate(x.numel(), x.data(), y.data());
}

void fill(Tensor& y, float value) {
  if (path_for("fill", {&y}) == Path::Cpu)
    std::fill(y.data(), y.data() + y.numel(), value);
  else
    cuda::fill(y.numel(), value, y.data());
}

void mse_forward(const Tensor& p, const Tensor& t, Tensor& loss) {
  Path path = path_for("mse loss", {&p, &t, &loss});
  expect_same_numel("mse loss", p, t);
  expect_numel("mse loss", "loss", loss, 1);
  if (path == Path::Cpu)
    loss.data()[0] = ref::mse_forward(p.numel(), p.data(), t.data());
  else
    cuda::mse_forward(p.numel(), p.data(), t.data(), loss.data());
}

void mse_backward(const Tensor& p, const Tensor& t, const Tensor& dloss, Tensor& dp) {
  Path path = path_for("mse loss backward", {&p, &t, &dloss, &dp});
  expect_same_numel("mse loss backward", p, t);
  expect_same_numel("mse loss backward", p, dp);
  expect_numel("mse loss backward", "loss gradient", dloss, 1);
  if (path == Path::Cpu)
    ref::mse_backward(p.numel(), p.data(), t.data(), dloss.data()[0], dp.data());
  else
    cuda::mse_backward(p.numel(), p.data(), t.data(), dloss.data(), dp.data());
}

void column_squared_error(const Tensor& p, const Tensor& t, Tensor& sums) {
  const char* op = "column squared error";
  Path path = path_for(op, {&p, &t, &sums});
  NEBULA_CHECK(p.rank() == 2 && p.shape() == t.shape(), op, ": prediction ", to_string(p.shape()), " and target ",
               to_string(t.shape()), " must be the same [N, columns]");
  int rows = static_cast<int>(p.dim(0)), columns = static_cast<int>(p.dim(1));
  expect_numel(op, "sums", sums, columns);
  if (path != Path::Cpu) return cuda::column_squared_error(rows, columns, p.data(), t.data(), sums.data());
  std::vector<double> totals(size_t(columns), 0.0);
  ref::add_column_squared_error(rows, columns, p.data(), t.data(), totals.data());
  for (int c = 0; c < columns; ++c) sums.data()[c] = static_cast<float>(totals[size_t(c)]);
}

void add_column_squared_error(const Tensor& p, const Tensor& t, std::vector<double>& host_sums,
                              std::vector<Tensor>& pending) {
  NEBULA_CHECK(p.rank() == 2 && p.shape() == t.shape(), "RMSE: prediction ", to_string(p.shape()), " and target ",
               to_string(t.shape()), " must be the same [N, columns]");
  const int64_t columns = p.dim(1);
  NEBULA_CHECK(int64_t(host_sums.size()) == columns, "RMSE: ", columns, " columns after batches of ", host_sums.size());
  if (path_for("RMSE", {&p, &t}) != Path::Cpu) {  // left on the GPU: read once, when the meter is asked
    Tensor sums({columns}, Device::CUDA);
    column_squared_error(p, t, sums);
    pending.push_back(sums);
    return;
  }
  ref::add_column_squared_error(p.dim(0), columns, p.data(), t.data(), host_sums.data());
}

namespace {
// Checks an optimizer's tensor list and says whether it runs on the CPU; the
// GPU path gets the device pointers.
bool update_on_cpu(const char* op, const std::vector<UpdateTensors>& tensors, std::vector<ParameterSlots>* slots) {
  Device device = tensors.empty() ? Device::CPU : tensors[0].w->device();
  for (const UpdateTensors& u : tensors) {
    if (u.slot1)
      path_for(op, {u.w, u.g, u.slot0, u.slot1});
    else
      path_for(op, {u.w, u.g, u.slot0});
    NEBULA_CHECK(u.w->device() == device, op, ": parameters on different devices");
    expect_same_numel(op, *u.w, *u.g);
    expect_same_numel(op, *u.w, *u.slot0);
    if (u.slot1) expect_same_numel(op, *u.w, *u.slot1);
    slots->push_back({u.w->data(), u.g->data(), u.slot0->data(), data_or_null(u.slot1), u.w->numel()});
  }
  return device == Device::CPU;
}

const float* device_value(const char* op, const char* what, const Tensor& value) {
  if (!value.defined()) return nullptr;
  NEBULA_CHECK(value.device() == Device::CUDA && value.numel() == 1, op, ": the ", what,
               " must be one value on the GPU");
  return value.data();
}

DeviceStepValues device_values(const char* op, const StepValues& on_device) {
  return {device_value(op, "step counter", on_device.step_counter), device_value(op, "learning rate", on_device.lr)};
}
}  // namespace

void adamax_update(const AdamaxParams& p, int64_t step, const StepValues& on_device,
                   const std::vector<UpdateTensors>& tensors) {
  std::vector<ParameterSlots> slots;
  if (update_on_cpu("adamax update", tensors, &slots)) {
    for (const ParameterSlots& s : slots) ref::adamax_update(p, step, s.n, s.w, s.g, s.slot0, s.slot1);
  } else if (!slots.empty()) {
    cuda::adamax_update(p, step, device_values("adamax update", on_device), slots.data(),
                        static_cast<int>(slots.size()));
  }
}

void adam_update(const AdamParams& p, int64_t step, const StepValues& on_device,
                 const std::vector<UpdateTensors>& tensors) {
  std::vector<ParameterSlots> slots;
  if (update_on_cpu("adam update", tensors, &slots)) {
    for (const ParameterSlots& s : slots) ref::adam_update(p, step, s.n, s.w, s.g, s.slot0, s.slot1);
  } else if (!slots.empty()) {
    cuda::adam_update(p, step, device_values("adam update", on_device), slots.data(), static_cast<int>(slots.size()));
  }
}

void sgd_update(const SgdParams& p, const StepValues& on_device, const std::vector<UpdateTensors>& tensors) {
  std::vector<ParameterSlots> slots;
  if (update_on_cpu("sgd update", tensors, &slots)) {
    for (const ParameterSlots& s : slots) ref::sgd_update(p, s.n, s.w, s.g, s.slot0);
  } else if (!slots.empty()) {
    cuda::sgd_update(p, device_values("sgd update", on_device), slots.data(), static_cast<int>(slots.size()));
  }
}

}  // namespace dispatch
}  // namespace nebula
