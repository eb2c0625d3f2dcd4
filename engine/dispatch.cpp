#include "engine/dispatch.h"

#include <initializer_list>

#include "engine/error.h"
#include "kernels/activation.h"
#include "kernels/add.h"
#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/global_avg_pool.h"
#include "kernels/mse.h"

namespace nebula {

namespace {
Backend current_backend = Backend::Native;

// Every operand must be defined and on the CPU. Tensors on the GPU would go to
// the CUDA backend, which this build does not have yet: say so plainly.
void require_cpu(const char* op, std::initializer_list<const Tensor*> tensors) {
  Device device = (*tensors.begin())->device();
  for (const Tensor* t : tensors) {
    NEBULA_CHECK(t->defined(), op, ": an operand is undefined");
    NEBULA_CHECK(t->device() == device, op, ": operands on different devices");
  }
  NEBULA_CHECK(device == Device::CPU, op, ": no CUDA implementation in this build (", backend_name(current_backend),
               " backend)");
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
  NEBULA_CHECK(x.rank() >= 1 && x.numel() % p.in_features == 0 && x.dim(0) * p.in_features == x.numel(), op,
               ": input ", to_string(x.shape()), " does not fit weight ", to_string(w.shape()));
  p.batch = static_cast<int>(x.dim(0));
  return p;
}

int64_t conv_in(const Conv2dParams& p) { return int64_t(p.batch) * p.in_channels * p.in_h * p.in_w; }
int64_t conv_out(const Conv2dParams& p) { return int64_t(p.batch) * p.out_channels * p.out_h * p.out_w; }
int64_t conv_weight(const Conv2dParams& p) {
  return int64_t(p.out_channels) * p.in_channels * p.kernel_h * p.kernel_w;
}
int64_t pool_in(const Pool2dParams& p) { return int64_t(p.batch) * p.channels * p.in_h * p.in_w; }
int64_t pool_out(const Pool2dParams& p) { return int64_t(p.batch) * p.channels * p.out_h * p.out_w; }
int64_t bn_size(const BatchNormParams& p) { return int64_t(p.batch) * p.channels * p.spatial; }

}  // namespace

void set_backend(Backend backend) { current_backend = backend; }
Backend backend() { return current_backend; }
const char* backend_name(Backend backend) { return backend == Backend::Native ? "native" : "cudnn"; }
bool cuda_backend_built() { return false; }

namespace dispatch {

void conv2d_forward(const Conv2dParams& p, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  const char* op = "conv2d forward";
  require_cpu(op, {&x, &w, &y});
  expect_numel(op, "input", x, conv_in(p));
  expect_numel(op, "weight", w, conv_weight(p));
  expect_numel(op, "output", y, conv_out(p));
  if (bias) expect_numel(op, "bias", *bias, p.out_channels);
  cpu::conv2d_forward(p, x.data(), w.data(), bias ? bias->data() : nullptr, y.data());
}

void conv2d_backward_data(const Conv2dParams& p, const Tensor& dy, const Tensor& w, Tensor& dx) {
  const char* op = "conv2d backward data";
  require_cpu(op, {&dy, &w, &dx});
  expect_numel(op, "output gradient", dy, conv_out(p));
  expect_numel(op, "weight", w, conv_weight(p));
  expect_numel(op, "input gradient", dx, conv_in(p));
  cpu::conv2d_backward_data(p, dy.data(), w.data(), dx.data());
}

void conv2d_backward_filter(const Conv2dParams& p, const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* dbias) {
  const char* op = "conv2d backward filter";
  require_cpu(op, {&x, &dy, &dw});
  expect_numel(op, "input", x, conv_in(p));
  expect_numel(op, "output gradient", dy, conv_out(p));
  expect_numel(op, "weight gradient", dw, conv_weight(p));
  if (dbias) expect_numel(op, "bias gradient", *dbias, p.out_channels);
  cpu::conv2d_backward_filter(p, x.data(), dy.data(), dw.data(), dbias ? dbias->data() : nullptr);
}

void dense_forward(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  const char* op = "dense forward";
  require_cpu(op, {&x, &w, &y});
  DenseParams p = dense_params(op, x, w);
  expect_numel(op, "output", y, int64_t(p.batch) * p.out_features);
  if (bias) expect_numel(op, "bias", *bias, p.out_features);
  cpu::dense_forward(p, x.data(), w.data(), bias ? bias->data() : nullptr, y.data());
}

void dense_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx) {
  const char* op = "dense backward data";
  require_cpu(op, {&dy, &w, &dx});
  DenseParams p = dense_params(op, dx, w);
  expect_numel(op, "output gradient", dy, int64_t(p.batch) * p.out_features);
  cpu::dense_backward_data(p, dy.data(), w.data(), dx.data());
}

void dense_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* dbias) {
  const char* op = "dense backward weight";
  require_cpu(op, {&x, &dy, &dw});
  DenseParams p = dense_params(op, x, dw);
  expect_numel(op, "output gradient", dy, int64_t(p.batch) * p.out_features);
  if (dbias) expect_numel(op, "bias gradient", *dbias, p.out_features);
  cpu::dense_backward_weight(p, x.data(), dy.data(), dw.data(), dbias ? dbias->data() : nullptr);
}

void maxpool2d_forward(const Pool2dParams& p, const Tensor& x, Tensor& y) {
  const char* op = "maxpool2d forward";
  require_cpu(op, {&x, &y});
  expect_numel(op, "input", x, pool_in(p));
  expect_numel(op, "output", y, pool_out(p));
  ref::maxpool2d_forward(p, x.data(), y.data());
}

void maxpool2d_backward(const Pool2dParams& p, const Tensor& x, const Tensor& dy, Tensor& dx) {
  const char* op = "maxpool2d backward";
  require_cpu(op, {&x, &dy, &dx});
  expect_numel(op, "input", x, pool_in(p));
  expect_numel(op, "output gradient", dy, pool_out(p));
  expect_numel(op, "input gradient", dx, pool_in(p));
  ref::maxpool2d_backward(p, x.data(), dy.data(), dx.data());
}

void relu_forward(const Tensor& x, Tensor& y) {
  require_cpu("relu forward", {&x, &y});
  expect_same_numel("relu forward", x, y);
  ref::relu_forward(x.numel(), x.data(), y.data());
}

void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  require_cpu("relu backward", {&y, &dy, &dx});
  expect_same_numel("relu backward", y, dy);
  expect_same_numel("relu backward", y, dx);
  ref::relu_backward(y.numel(), y.data(), dy.data(), dx.data());
}

void sigmoid_forward(const Tensor& x, Tensor& y) {
  require_cpu("sigmoid forward", {&x, &y});
  expect_same_numel("sigmoid forward", x, y);
  ref::sigmoid_forward(x.numel(), x.data(), y.data());
}

void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx) {
  require_cpu("sigmoid backward", {&y, &dy, &dx});
  expect_same_numel("sigmoid backward", y, dy);
  expect_same_numel("sigmoid backward", y, dx);
  ref::sigmoid_backward(y.numel(), y.data(), dy.data(), dx.data());
}

void dropout_forward(float rate, uint64_t seed, uint64_t offset, const Tensor& x, Tensor& y) {
  require_cpu("dropout forward", {&x, &y});
  expect_same_numel("dropout forward", x, y);
  NEBULA_CHECK(rate >= 0.0f && rate < 1.0f, "dropout: rate must be in [0, 1), got ", rate);
  ref::dropout_forward(x.numel(), rate, seed, offset, x.data(), y.data());
}

void dropout_backward(float rate, uint64_t seed, uint64_t offset, const Tensor& dy, Tensor& dx) {
  require_cpu("dropout backward", {&dy, &dx});
  expect_same_numel("dropout backward", dy, dx);
  ref::dropout_backward(dy.numel(), rate, seed, offset, dy.data(), dx.data());
}

void batchnorm2d_forward_train(const BatchNormParams& p, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                               Tensor& y, Tensor& save_mean, Tensor& save_invstd, Tensor& running_mean,
                               Tensor& running_var) {
  const char* op = "batchnorm2d forward (train)";
  require_cpu(op, {&x, &gamma, &beta, &y, &save_mean, &save_invstd, &running_mean, &running_var});
  expect_numel(op, "input", x, bn_size(p));
  expect_numel(op, "output", y, bn_size(p));
  for (const Tensor* t : std::initializer_list<const Tensor*>{&gamma, &beta, &save_mean, &save_invstd, &running_mean, &running_var})
    expect_numel(op, "a per-channel tensor", *t, p.channels);
  ref::batchnorm2d_forward_train(p, x.data(), gamma.data(), beta.data(), y.data(), save_mean.data(),
                                 save_invstd.data(), running_mean.data(), running_var.data());
}

void batchnorm2d_forward_eval(const BatchNormParams& p, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                              const Tensor& running_mean, const Tensor& running_var, Tensor& y) {
  const char* op = "batchnorm2d forward (eval)";
  require_cpu(op, {&x, &gamma, &beta, &running_mean, &running_var, &y});
  expect_numel(op, "input", x, bn_size(p));
  expect_numel(op, "output", y, bn_size(p));
  for (const Tensor* t : std::initializer_list<const Tensor*>{&gamma, &beta, &running_mean, &running_var})
    expect_numel(op, "a per-channel tensor", *t, p.channels);
  ref::batchnorm2d_forward_eval(p, x.data(), gamma.data(), beta.data(), running_mean.data(), running_var.data(),
                                y.data());
}

void batchnorm2d_backward(const BatchNormParams& p, bool training, const Tensor& x, const Tensor& dy,
                          const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd, Tensor& dx,
                          Tensor& dgamma, Tensor& dbeta) {
  const char* op = "batchnorm2d backward";
  require_cpu(op, {&x, &dy, &gamma, &save_mean, &save_invstd, &dx, &dgamma, &dbeta});
  for (const Tensor* t : std::initializer_list<const Tensor*>{&x, &dy, &dx}) expect_numel(op, "an activation", *t, bn_size(p));
  for (const Tensor* t : std::initializer_list<const Tensor*>{&gamma, &save_mean, &save_invstd, &dgamma, &dbeta})
    expect_numel(op, "a per-channel tensor", *t, p.channels);
  ref::batchnorm2d_backward(p, training, x.data(), dy.data(), gamma.data(), save_mean.data(), save_invstd.data(),
                            dx.data(), dgamma.data(), dbeta.data());
}

void global_avg_pool_forward(const Tensor& x, Tensor& y) {
  const char* op = "global average pool forward";
  require_cpu(op, {&x, &y});
  NEBULA_CHECK(x.rank() == 4, op, ": input must be [N, C, H, W], got ", to_string(x.shape()));
  expect_numel(op, "output", y, x.dim(0) * x.dim(1));
  ref::global_avg_pool_forward(static_cast<int>(x.dim(0) * x.dim(1)), static_cast<int>(x.dim(2) * x.dim(3)),
                               x.data(), y.data());
}

void global_avg_pool_backward(const Tensor& dy, Tensor& dx) {
  const char* op = "global average pool backward";
  require_cpu(op, {&dy, &dx});
  NEBULA_CHECK(dx.rank() == 4, op, ": input gradient must be [N, C, H, W], got ", to_string(dx.shape()));
  expect_numel(op, "output gradient", dy, dx.dim(0) * dx.dim(1));
  ref::global_avg_pool_backward(static_cast<int>(dx.dim(0) * dx.dim(1)), static_cast<int>(dx.dim(2) * dx.dim(3)),
                                dy.data(), dx.data());
}

void add_forward(const Tensor& a, const Tensor& b, Tensor& y) {
  require_cpu("add", {&a, &b, &y});
  NEBULA_CHECK(a.shape() == b.shape(), "add: shapes ", to_string(a.shape()), " and ", to_string(b.shape()),
               " differ");
  expect_same_numel("add", a, y);
  ref::add_forward(a.numel(), a.data(), b.data(), y.data());
}

void accumulate(const Tensor& x, Tensor& y) {
  require_cpu("accumulate", {&x, &y});
  expect_same_numel("accumulate", x, y);
  ref::accumulate(x.numel(), x.data(), y.data());
}

float mse_forward(const Tensor& p, const Tensor& t) {
  require_cpu("mse loss", {&p, &t});
  expect_same_numel("mse loss", p, t);
  return ref::mse_forward(p.numel(), p.data(), t.data());
}

void mse_backward(const Tensor& p, const Tensor& t, float dloss, Tensor& dp) {
  require_cpu("mse loss backward", {&p, &t, &dp});
  expect_same_numel("mse loss backward", p, t);
  expect_same_numel("mse loss backward", p, dp);
  ref::mse_backward(p.numel(), p.data(), t.data(), dloss, dp.data());
}

double sum_squared_error(const Tensor& p, const Tensor& t) {
  require_cpu("sum of squared errors", {&p, &t});
  expect_same_numel("sum of squared errors", p, t);
  return ref::sum_squared_error(p.numel(), p.data(), t.data());
}

void adamax_update(const AdamaxParams& p, int64_t step, Tensor& w, const Tensor& g, Tensor& m, Tensor& u) {
  require_cpu("adamax update", {&w, &g, &m, &u});
  for (const Tensor* t : std::initializer_list<const Tensor*>{&g, &m, &u}) expect_same_numel("adamax update", w, *t);
  ref::adamax_update(p, step, w.numel(), w.data(), g.data(), m.data(), u.data());
}

void adam_update(const AdamParams& p, int64_t step, Tensor& w, const Tensor& g, Tensor& m, Tensor& v) {
  require_cpu("adam update", {&w, &g, &m, &v});
  for (const Tensor* t : std::initializer_list<const Tensor*>{&g, &m, &v}) expect_same_numel("adam update", w, *t);
  ref::adam_update(p, step, w.numel(), w.data(), g.data(), m.data(), v.data());
}

void sgd_update(const SgdParams& p, Tensor& w, const Tensor& g, Tensor& velocity) {
  require_cpu("sgd update", {&w, &g, &velocity});
  expect_same_numel("sgd update", w, g);
  expect_same_numel("sgd update", w, velocity);
  ref::sgd_update(p, w.numel(), w.data(), g.data(), velocity.data());
}

}  // namespace dispatch
}  // namespace nebula
