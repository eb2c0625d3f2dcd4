#include "engine/ops.h"

#include <algorithm>
#include <cmath>

#include "base/error.h"
#include "engine/dispatch.h"

namespace nebula {

namespace {

Tensor like(const Tensor& t) { return Tensor(t.shape(), t.device()); }

// Checks what conv2d_params cannot see: ranks, channel agreement, a square kernel.
void check_conv_operands(const Variable& x, const Variable& w, const char* what) {
  NEBULA_CHECK(x.value().rank() == 4, "conv2d: input must be [N, C, H, W], got ", to_string(x.shape()));
  NEBULA_CHECK(w.value().rank() == 4, "conv2d: weight must be [K, C, R, S], got ", to_string(w.shape()));
  NEBULA_CHECK(w.value().dim(1) == x.value().dim(1), "conv2d: input ", to_string(x.shape()), " has ", x.value().dim(1),
               " channels but weight ", to_string(w.shape()), " expects ", w.value().dim(1), " (", what, ")");
  NEBULA_CHECK(w.value().dim(2) == w.value().dim(3), "conv2d: only square kernels, got ", to_string(w.shape()));
}

Variable conv2d_impl(const Variable& x, const Variable& w, const Variable& bias, const Conv2dParams& p, bool relu) {
  Tensor y({p.batch, p.out_channels, p.out_h, p.out_w}, x.value().device());
  const Tensor* b = bias.defined() ? &bias.value() : nullptr;
  dispatch::conv2d_forward(p, x.value(), w.value(), b, y, relu);
  Variable out(y, needs_grad({&x, &w, &bias}));
  if (out.requires_grad()) {
    record_backward([x, w, bias, p, relu, out]() {
      if (!out.grad().defined()) return;
      Tensor dy = out.grad();
      if (relu) {
        dy = like(out.grad());
        dispatch::relu_backward(out.value(), out.grad(), dy);
      }
      if (x.requires_grad()) {
        Tensor dx = like(x.value());
        dispatch::conv2d_backward_data(p, dy, w.value(), dx);
        x.accumulate_grad(dx);
      }
      if (w.requires_grad() || bias.requires_grad()) {
        Tensor dw = like(w.value());
        Tensor db = bias.defined() ? like(bias.value()) : Tensor();
        dispatch::conv2d_backward_filter(p, x.value(), dy, dw, bias.defined() ? &db : nullptr);
        if (w.requires_grad()) w.accumulate_grad(dw);
        if (bias.requires_grad()) bias.accumulate_grad(db);
      }
    });
  }
  return out;
}

int dim(const Variable& v, int i) { return static_cast<int>(v.value().dim(i)); }

}  // namespace

Variable conv2d(const Variable& x, const Variable& w, const Variable& bias, int stride, Padding padding, bool relu) {
  check_conv_operands(x, w, padding == Padding::Same ? "same padding" : "valid padding");
  return conv2d_impl(x, w, bias,
                     conv2d_params(dim(x, 0), dim(x, 1), dim(x, 2), dim(x, 3), dim(w, 0), dim(w, 2), stride, padding),
                     relu);
}

Variable conv2d(const Variable& x, const Variable& w, const Variable& bias, int stride, int pad, bool relu) {
  check_conv_operands(x, w, "explicit padding");
  return conv2d_impl(
      x, w, bias, conv2d_params_padded(dim(x, 0), dim(x, 1), dim(x, 2), dim(x, 3), dim(w, 0), dim(w, 2), stride, pad),
      relu);
}

Variable maxpool2d(const Variable& x, int kernel, int stride, int pad) {
  NEBULA_CHECK(x.value().rank() == 4, "maxpool2d: input must be [N, C, H, W], got ", to_string(x.shape()));
  Pool2dParams p = pool2d_params(dim(x, 0), dim(x, 1), dim(x, 2), dim(x, 3), kernel, stride, pad);
  Tensor y({p.batch, p.channels, p.out_h, p.out_w}, x.value().device());
  dispatch::maxpool2d_forward(p, x.value(), y);
  Variable out(y, needs_grad({&x}));
  if (out.requires_grad()) {
    record_backward([x, p, out]() {
      if (!out.grad().defined()) return;
      Tensor dx = like(x.value());
      dispatch::maxpool2d_backward(p, x.value(), out.grad(), dx);
      x.accumulate_grad(dx);
    });
  }
  return out;
}

Variable dense(const Variable& x, const Variable& w, const Variable& bias) {
  Tensor y({x.value().dim(0), w.value().dim(0)}, x.value().device());
  const Tensor* b = bias.defined() ? &bias.value() : nullptr;
  dispatch::dense_forward(x.value(), w.value(), b, y);
  Variable out(y, needs_grad({&x, &w, &bias}));
  if (out.requires_grad()) {
    record_backward([x, w, bias, out]() {
      if (!out.grad().defined()) return;
      if (x.requires_grad()) {
        Tensor dx = like(x.value());
        dispatch::dense_backward_data(out.grad(), w.value(), dx);
        x.accumulate_grad(dx);
      }
      if (w.requires_grad() || bias.requires_grad()) {
        Tensor dw = like(w.value());
        Tensor db = bias.defined() ? like(bias.value()) : Tensor();
        dispatch::dense_backward_weight(x.value(), out.grad(), dw, bias.defined() ? &db : nullptr);
        if (w.requires_grad()) w.accumulate_grad(dw);
        if (bias.requires_grad()) bias.accumulate_grad(db);
      }
    });
  }
  return out;
}

namespace {
// relu and sigmoid share a shape: backward needs only the output.
template <typename Forward, typename Backward>
Variable activation(const Variable& x, Forward forward, Backward backward) {
  Tensor y = like(x.value());
  forward(x.value(), y);
  Variable out(y, needs_grad({&x}));
  if (out.requires_grad()) {
    record_backward([x, out, backward]() {
      if (!out.grad().defined()) return;
      Tensor dx = like(x.value());
      backward(out.value(), out.grad(), dx);
      x.accumulate_grad(dx);
    });
  }
  return out;
}
}  // namespace

Variable relu(const Variable& x) { return activation(x, dispatch::relu_forward, dispatch::relu_backward); }
Variable sigmoid(const Variable& x) { return activation(x, dispatch::sigmoid_forward, dispatch::sigmoid_backward); }

Variable galaxy_tree(const Variable& x, const GalaxyTreeLayout& layout) {
  Tensor y = like(x.value());
  dispatch::galaxy_tree_forward(layout, x.value(), y);
  Variable out(y, needs_grad({&x}));
  if (out.requires_grad()) {
    record_backward([x, out, layout]() {
      if (!out.grad().defined()) return;
      Tensor dx = like(x.value());
      dispatch::galaxy_tree_backward(layout, x.value(), out.value(), out.grad(), dx);
      x.accumulate_grad(dx);
    });
  }
  return out;
}

Variable dropout(const Variable& x, float rate, uint64_t seed, uint64_t offset) {
  if (rate == 0.0f) return x;
  Tensor y = like(x.value());
  dispatch::dropout_forward(rate, seed, offset, x.value(), y);
  Variable out(y, needs_grad({&x}));
  if (out.requires_grad()) {
    record_backward([x, out, rate, seed, offset]() {
      if (!out.grad().defined()) return;
      Tensor dx = like(x.value());
      dispatch::dropout_backward(rate, seed, offset, out.grad(), dx);
      x.accumulate_grad(dx);
    });
  }
  return out;
}

Variable views(const Variable& x, const std::shared_ptr<ViewTables>& tables) {
  const ViewTable& t = tables->table();
  Tensor y({t.views * x.value().dim(0), x.value().dim(1), t.out_size, t.out_size}, x.value().device());
  dispatch::views_forward(*tables, x.value(), y);
  Variable out(y, needs_grad({&x}));
  if (out.requires_grad()) {
    record_backward([x, out, tables]() {
      if (!out.grad().defined()) return;
      Tensor dx = like(x.value());
      dispatch::views_backward(*tables, out.grad(), dx);
      x.accumulate_grad(dx);
    });
  }
  return out;
}

Variable merge_views(const Variable& x, int views, ViewMerge merge) {
  const Tensor& v = x.value();
  NEBULA_CHECK(views >= 1 && v.rank() >= 1 && v.dim(0) % views == 0, "merge: ", to_string(v.shape()),
               " does not hold ", views, " views of each image");
  ViewMergeParams p{merge, views, v.dim(0) / views, v.numel() / std::max<int64_t>(v.dim(0), 1)};
  Tensor y({p.batch, merge == ViewMerge::Concat ? p.views * p.features : p.features}, v.device());
  dispatch::view_merge_forward(p, v, y);
  Variable out(y, needs_grad({&x}));
  if (out.requires_grad()) {
    record_backward([x, out, p]() {
      if (!out.grad().defined()) return;
      Tensor dx = like(x.value());
      dispatch::view_merge_backward(p, out.grad(), dx);
      x.accumulate_grad(dx);
    });
  }
  return out;
}

Variable maxout(const Variable& x, int pieces) {
  const Tensor& v = x.value();
  NEBULA_CHECK(pieces >= 1 && v.rank() == 2 && v.dim(1) % pieces == 0, "maxout: ", to_string(v.shape()),
               " is not [N, F x ", pieces, "]");
  Tensor y({v.dim(0), v.dim(1) / pieces}, v.device());
  dispatch::maxout_forward(pieces, v, y);
  Variable out(y, needs_grad({&x}));
  if (out.requires_grad()) {
    record_backward([x, out, pieces]() {
      if (!out.grad().defined()) return;
      Tensor dx = like(x.value());
      dispatch::maxout_backward(pieces, x.value(), out.grad(), dx);
      x.accumulate_grad(dx);
    });
  }
  return out;
}

Variable batchnorm2d(const Variable& x, const Variable& gamma, const Variable& beta, Tensor& running_mean,
                     Tensor& running_var, bool training, float momentum, float eps) {
  NEBULA_CHECK(x.value().rank() == 4, "batchnorm2d: input must be [N, C, H, W], got ", to_string(x.shape()));
  BatchNormParams p;
  p.batch = dim(x, 0);
  p.channels = dim(x, 1);
  p.spatial = dim(x, 2) * dim(x, 3);
  p.eps = eps;
  p.momentum = momentum;
  Device device = x.value().device();
  Tensor y = like(x.value());
  Tensor save_mean({p.channels}, device), save_invstd({p.channels}, device);
  if (training) {
    NEBULA_CHECK(int64_t(p.batch) * p.spatial > 1, "batchnorm2d: training needs more than one value per channel, got ",
                 to_string(x.shape()));
    dispatch::batchnorm2d_forward_train(p, x.value(), gamma.value(), beta.value(), y, save_mean, save_invstd,
                                        running_mean, running_var);
  } else {
    dispatch::batchnorm2d_forward_eval(p, x.value(), gamma.value(), beta.value(), running_mean, running_var, y);
  }
  Variable out(y, needs_grad({&x, &gamma, &beta}));
  if (out.requires_grad()) {
    if (!training) {
      // Backward in eval mode normalises with the running statistics as they are now.
      std::vector<float> var = running_var.to_vector(), invstd(p.channels);
      for (int c = 0; c < p.channels; ++c) invstd[c] = 1.0f / std::sqrt(var[c] + eps);
      save_mean = running_mean.clone();
      save_invstd = Tensor::from_vector({p.channels}, invstd, device);
    }
    record_backward([x, gamma, beta, out, p, training, save_mean, save_invstd]() {
      if (!out.grad().defined()) return;
      Tensor dx = like(x.value()), dgamma = like(gamma.value()), dbeta = like(beta.value());
      dispatch::batchnorm2d_backward(p, training, x.value(), out.grad(), gamma.value(), save_mean, save_invstd, dx,
                                     dgamma, dbeta);
      if (x.requires_grad()) x.accumulate_grad(dx);
      if (gamma.requires_grad()) gamma.accumulate_grad(dgamma);
      if (beta.requires_grad()) beta.accumulate_grad(dbeta);
    });
  }
  return out;
}

Variable global_avg_pool(const Variable& x) {
  Tensor y({x.value().dim(0), x.value().dim(1)}, x.value().device());
  dispatch::global_avg_pool_forward(x.value(), y);
  Variable out(y, needs_grad({&x}));
  if (out.requires_grad()) {
    record_backward([x, out]() {
      if (!out.grad().defined()) return;
      Tensor dx = like(x.value());
      dispatch::global_avg_pool_backward(out.grad(), dx);
      x.accumulate_grad(dx);
    });
  }
  return out;
}

Variable add(const Variable& a, const Variable& b) {
  Tensor y = like(a.value());
  dispatch::add_forward(a.value(), b.value(), y);
  Variable out(y, needs_grad({&a, &b}));
  if (out.requires_grad()) {
    record_backward([a, b, out]() {
      if (!out.grad().defined()) return;
      // Each input gets its own copy: accumulate_grad may keep the tensor it is given.
      if (a.requires_grad()) a.accumulate_grad(out.grad().clone());
      if (b.requires_grad()) b.accumulate_grad(out.grad().clone());
    });
  }
  return out;
}

Variable flatten(const Variable& x) {
  NEBULA_CHECK(x.value().rank() >= 1, "flatten: needs at least one dimension");
  int64_t n = x.value().dim(0);
  Variable out(x.value().reshape({n, n ? x.value().numel() / n : 0}), needs_grad({&x}));
  if (out.requires_grad()) {
    record_backward([x, out]() {
      if (!out.grad().defined()) return;
      x.accumulate_grad(out.grad().clone().reshape(x.shape()));
    });
  }
  return out;
}

Variable mse_loss(const Variable& prediction, const Variable& target) {
  NEBULA_CHECK(prediction.shape() == target.shape(), "mse loss: prediction ", to_string(prediction.shape()),
               " and target ", to_string(target.shape()), " differ");
  NEBULA_CHECK(!target.requires_grad(), "mse loss: gradients with respect to the target are not supported");
  Tensor loss({1}, prediction.value().device());
  dispatch::mse_forward(prediction.value(), target.value(), loss);
  Variable out(loss, needs_grad({&prediction}));
  if (out.requires_grad()) {
    record_backward([prediction, target, out]() {
      if (!out.grad().defined()) return;
      Tensor dp = like(prediction.value());
      dispatch::mse_backward(prediction.value(), target.value(), out.grad(), dp);
      prediction.accumulate_grad(dp);
    });
  }
  return out;
}

}  // namespace nebula
