// Differentiable ops on Variables: each computes its forward through dispatch and,
// when an input wants a gradient, records its backward on the tape (autograd.h).
// The math of each op is stated in its kernels/<op>.h.
#pragma once
#include <cstdint>

#include <memory>

#include "engine/autograd.h"
#include "engine/view_tables.h"
#include "kernels/batchnorm2d.h"
#include "kernels/conv2d.h"
#include "kernels/galaxy_tree_output.h"
#include "kernels/maxpool2d.h"
#include "kernels/view_merge.h"

namespace nebula {

// x [N, C, H, W], w [K, C, R, S], bias [K] or undefined. With relu, the result
// is max(conv, 0) in one op (the native kernel applies it in its epilogue).
Variable conv2d(const Variable& x, const Variable& w, const Variable& bias, int stride, Padding padding,
                bool relu = false);
Variable conv2d(const Variable& x, const Variable& w, const Variable& bias, int stride, int pad, bool relu = false);
Variable maxpool2d(const Variable& x, int kernel, int stride, int pad);
// x [N, in] (or any shape whose first dimension is N), w [out, in], bias [out] or undefined.
Variable dense(const Variable& x, const Variable& w, const Variable& bias);
Variable relu(const Variable& x);
Variable sigmoid(const Variable& x);
// The Galaxy Zoo decision-tree output over the last dimension (kernels/galaxy_tree_output.h).
Variable galaxy_tree(const Variable& x, const GalaxyTreeLayout& layout);
// Inverted dropout with the mask drawn from (seed, offset); identity when rate is 0.
Variable dropout(const Variable& x, float rate, uint64_t seed, uint64_t offset);
// Training mode updates running_mean/running_var in place.
Variable batchnorm2d(const Variable& x, const Variable& gamma, const Variable& beta, Tensor& running_mean,
                     Tensor& running_var, bool training, float momentum, float eps);
Variable global_avg_pool(const Variable& x);
// Square images [N, C, S, S] cut into views [V N, C, s, s] (kernels/views.h).
Variable views(const Variable& x, const std::shared_ptr<ViewTables>& tables);
// The views' features [V N, ...] joined per image: [N, V F] (concat) or [N, F] (mean).
Variable merge_views(const Variable& x, int views, ViewMerge merge);
// [N, F K] -> [N, F]: the largest of each K consecutive values.
Variable maxout(const Variable& x, int pieces);
Variable add(const Variable& a, const Variable& b);
// Keeps the first dimension, joins the rest: [N, ...] -> [N, prod(...)].
Variable flatten(const Variable& x);
// Mean squared error over all elements; returns a scalar of shape [1].
Variable mse_loss(const Variable& prediction, const Variable& target);

}  // namespace nebula
