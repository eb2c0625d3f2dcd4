// The CUDA and cuDNN kernels' entry points, for the fuzz build only. The real
// ones are compiled by nvcc or link cuDNN; the readers never reach them (every
// tensor they make is on the CPU), but engine/dispatch.cpp names them. Reaching
// one means a reader put data on the GPU: that aborts, so it is a finding.
#include <cstdio>
#include <cstdlib>

#include "kernels/activation.h"
#include "kernels/add.h"
#include "kernels/batchnorm2d.h"
#include "kernels/conv2d.h"
#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/galaxy_tree_output.h"
#include "kernels/global_avg_pool.h"
#include "kernels/maxout.h"
#include "kernels/maxpool2d.h"
#include "kernels/mse.h"
#include "kernels/optimizer_update.h"
#include "kernels/precision.h"
#include "kernels/view_merge.h"
#include "kernels/views.h"

namespace {
[[noreturn]] void reached(const char* kernel) {
  std::fprintf(stderr, "fuzz build: %s reached, but no GPU kernel is linked\n", kernel);
  std::abort();
}
}  // namespace

#define NO_GPU(ns, name, ...) \
  void nebula::ns::name(__VA_ARGS__) { reached(#ns "::" #name); }

using nebula::BatchNormParams;
using nebula::Conv2dParams;
using nebula::DenseParams;
using nebula::GalaxyTreeLayout;
using nebula::Pool2dParams;
using nebula::ViewMergeParams;
using nebula::ViewTableArrays;
using F = float*;
using C = const float*;

NO_GPU(cuda, relu_forward, int64_t, C, F)
NO_GPU(cuda, relu_backward, int64_t, C, C, F)
NO_GPU(cuda, sigmoid_forward, int64_t, C, F)
NO_GPU(cuda, sigmoid_backward, int64_t, C, C, F)
NO_GPU(cuda, add_forward, int64_t, C, C, F)
NO_GPU(cuda, accumulate, int64_t, C, F)
NO_GPU(cuda, fill, int64_t, float, F)
NO_GPU(cuda, batchnorm2d_forward_train, const BatchNormParams&, C, C, C, F, F, F, F, F)
NO_GPU(cuda, batchnorm2d_forward_eval, const BatchNormParams&, C, C, C, C, C, F)
NO_GPU(cuda, batchnorm2d_backward, const BatchNormParams&, bool, C, C, C, C, C, F, F, F)
NO_GPU(cuda, conv2d_forward, const Conv2dParams&, C, C, C, F, bool)
NO_GPU(cuda, conv2d_backward_data, const Conv2dParams&, C, C, F)
NO_GPU(cuda, conv2d_backward_filter, const Conv2dParams&, C, C, F, F)
NO_GPU(cuda, dense_forward, const DenseParams&, C, C, C, F)
NO_GPU(cuda, dense_backward_data, const DenseParams&, C, C, F)
NO_GPU(cuda, dense_backward_weight, const DenseParams&, C, C, F, F)
NO_GPU(cuda, dropout_forward, int64_t, float, uint64_t, uint64_t, const uint64_t*, C, F)
NO_GPU(cuda, dropout_backward, int64_t, float, uint64_t, uint64_t, const uint64_t*, C, F)
NO_GPU(cuda, galaxy_tree_forward, const GalaxyTreeLayout&, int64_t, C, F)
NO_GPU(cuda, galaxy_tree_backward, const GalaxyTreeLayout&, int64_t, C, C, C, F)
NO_GPU(cuda, global_avg_pool_forward, int, int, C, F)
NO_GPU(cuda, global_avg_pool_backward, int, int, C, F)
NO_GPU(cuda, maxout_forward, int64_t, int, C, F)
NO_GPU(cuda, maxout_backward, int64_t, int, C, C, F)
NO_GPU(cuda, maxpool2d_forward, const Pool2dParams&, C, F)
NO_GPU(cuda, maxpool2d_backward, const Pool2dParams&, C, C, F)
NO_GPU(cuda, mse_forward, int64_t, C, C, F)
NO_GPU(cuda, mse_backward, int64_t, C, C, C, F)
NO_GPU(cuda, column_squared_error, int, int, C, C, F)
NO_GPU(cuda, adamax_update, const nebula::AdamaxParams&, int64_t, nebula::DeviceStepValues,
       const nebula::ParameterSlots*, int)
NO_GPU(cuda, adam_update, const nebula::AdamParams&, int64_t, nebula::DeviceStepValues, const nebula::ParameterSlots*,
       int)
NO_GPU(cuda, sgd_update, const nebula::SgdParams&, nebula::DeviceStepValues, const nebula::ParameterSlots*, int)

NO_GPU(cuda, views_forward, const ViewTableArrays&, int64_t, int64_t, C, F)
NO_GPU(cuda, views_backward, const ViewTableArrays&, int64_t, int64_t, C, F)
NO_GPU(cuda, view_merge_forward, const ViewMergeParams&, C, F)
NO_GPU(cuda, view_merge_backward, const ViewMergeParams&, C, F)

NO_GPU(cudnn, relu_forward, int64_t, C, F)
NO_GPU(cudnn, relu_backward, int64_t, C, C, F)
NO_GPU(cudnn, sigmoid_forward, int64_t, C, F)
NO_GPU(cudnn, sigmoid_backward, int64_t, C, C, F)
NO_GPU(cudnn, batchnorm2d_forward_train, const BatchNormParams&, C, C, C, F, F, F, F, F)
NO_GPU(cudnn, batchnorm2d_forward_eval, const BatchNormParams&, C, C, C, C, C, F)
NO_GPU(cudnn, batchnorm2d_backward_train, const BatchNormParams&, C, C, C, C, C, F, F, F)
NO_GPU(cudnn, conv2d_forward, const Conv2dParams&, C, C, C, F, bool)
NO_GPU(cudnn, conv2d_backward_data, const Conv2dParams&, C, C, F)
NO_GPU(cudnn, conv2d_backward_filter, const Conv2dParams&, C, C, F, F)
NO_GPU(cudnn, dense_forward, const DenseParams&, C, C, C, F)
NO_GPU(cudnn, dense_backward_data, const DenseParams&, C, C, F)
NO_GPU(cudnn, dense_backward_weight, const DenseParams&, C, C, F, F)
NO_GPU(cudnn, maxpool2d_forward, const Pool2dParams&, C, F)
NO_GPU(cudnn, maxpool2d_backward, const Pool2dParams&, C, C, F)

// A setting, not a kernel: set_precision() passes it on whatever the device.
void nebula::cudnn::set_tf32_math(bool) {}
