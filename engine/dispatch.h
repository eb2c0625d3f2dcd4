// The one place that decides which implementation of an op runs: the CPU fast
// path or reference (kernels/cpu), or, for tensors on the GPU, the native CUDA
// kernels or cuDNN/cuBLAS (kernels/cuda, kernels/cudnn). Nothing else in the
// engine branches on the device. Each function checks its shapes and names the
// op in its errors; outputs are written, never accumulated, except accumulate().
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"
#include "kernels/batchnorm2d.h"
#include "kernels/conv2d.h"
#include "kernels/galaxy_tree_output.h"
#include "kernels/maxpool2d.h"
#include "kernels/optimizer_update.h"
#include "kernels/view_merge.h"

namespace nebula {

class ViewTables;

// Which GPU implementation runs when tensors are on the GPU.
enum class Backend { Native, Cudnn };
void set_backend(Backend backend);
Backend backend();
const char* backend_name(Backend backend);
// Parses "native" or "cudnn"; throws naming the flag otherwise.
Backend parse_backend(const std::string& name);

namespace dispatch {

// While set, GPU dropout adds the device value *counter to its offset: a step
// captured as a CUDA graph then draws fresh masks on every replay.
void set_dropout_offset_counter(const uint64_t* counter);

// relu: apply max(., 0) to the result (fused into the native kernel's epilogue).
void conv2d_forward(const Conv2dParams& p, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y,
                    bool relu = false);
void conv2d_backward_data(const Conv2dParams& p, const Tensor& dy, const Tensor& w, Tensor& dx);
void conv2d_backward_filter(const Conv2dParams& p, const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* dbias);

void dense_forward(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y);
void dense_backward_data(const Tensor& dy, const Tensor& w, Tensor& dx);
void dense_backward_weight(const Tensor& x, const Tensor& dy, Tensor& dw, Tensor* dbias);

void maxpool2d_forward(const Pool2dParams& p, const Tensor& x, Tensor& y);
void maxpool2d_backward(const Pool2dParams& p, const Tensor& x, const Tensor& dy, Tensor& dx);

void relu_forward(const Tensor& x, Tensor& y);
void relu_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
void sigmoid_forward(const Tensor& x, Tensor& y);
void sigmoid_backward(const Tensor& y, const Tensor& dy, Tensor& dx);
// x, y: [rows, layout.columns]. Backward takes the input and the output.
void galaxy_tree_forward(const GalaxyTreeLayout& layout, const Tensor& x, Tensor& y);
void galaxy_tree_backward(const GalaxyTreeLayout& layout, const Tensor& x, const Tensor& y, const Tensor& dy,
                          Tensor& dx);

void dropout_forward(float rate, uint64_t seed, uint64_t offset, const Tensor& x, Tensor& y);
void dropout_backward(float rate, uint64_t seed, uint64_t offset, const Tensor& dy, Tensor& dx);

void batchnorm2d_forward_train(const BatchNormParams& p, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                               Tensor& y, Tensor& save_mean, Tensor& save_invstd, Tensor& running_mean,
                               Tensor& running_var);
void batchnorm2d_forward_eval(const BatchNormParams& p, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                              const Tensor& running_mean, const Tensor& running_var, Tensor& y);
void batchnorm2d_backward(const BatchNormParams& p, bool training, const Tensor& x, const Tensor& dy,
                          const Tensor& gamma, const Tensor& save_mean, const Tensor& save_invstd, Tensor& dx,
                          Tensor& dgamma, Tensor& dbeta);

// x [N, C, S, S] -> y [V N, C, s, s] through the layer's table (kernels/views.h).
void views_forward(ViewTables& tables, const Tensor& x, Tensor& y);
void views_backward(ViewTables& tables, const Tensor& dy, Tensor& dx);
// x [V N, F] -> y [N, V F] or [N, F] (kernels/view_merge.h).
void view_merge_forward(const ViewMergeParams& p, const Tensor& x, Tensor& y);
void view_merge_backward(const ViewMergeParams& p, const Tensor& dy, Tensor& dx);
// x [N, F K] -> y [N, F], K = pieces (kernels/maxout.h).
void maxout_forward(int pieces, const Tensor& x, Tensor& y);
void maxout_backward(int pieces, const Tensor& x, const Tensor& dy, Tensor& dx);

void global_avg_pool_forward(const Tensor& x, Tensor& y);
void global_avg_pool_backward(const Tensor& dy, Tensor& dx);

void add_forward(const Tensor& a, const Tensor& b, Tensor& y);
void accumulate(const Tensor& x, Tensor& y);  // y += x
void fill(Tensor& y, float value);

// The loss and its upstream gradient are 1-value tensors on the predictions'
// device, so a GPU step never waits for the host.
void mse_forward(const Tensor& p, const Tensor& t, Tensor& loss);
void mse_backward(const Tensor& p, const Tensor& t, const Tensor& dloss, Tensor& dp);
// sums[c] = sum over rows of (p - t)^2 for p, t [rows, columns].
void column_squared_error(const Tensor& p, const Tensor& t, Tensor& sums);
// The RMSE meter's accumulation: on the CPU, adds each column's squared error
// into host_sums (double, row order); on the GPU, queues the batch's sums as a
// device tensor in `pending`, so metering a batch costs no synchronisation.
void add_column_squared_error(const Tensor& p, const Tensor& t, std::vector<double>& host_sums,
                              std::vector<Tensor>& pending);

// Optimizer updates over every parameter of a group at once (one launch on the
// GPU). On the GPU, values that change between steps may live in device memory
// (kernels/optimizer_update.h, DeviceStepValues), each a 1-value tensor there:
// step_counter holds t and replaces `step`, lr holds the learning rate and
// replaces p.lr. Undefined tensors leave the host values (always on the CPU).
struct UpdateTensors {
  Tensor* w;
  const Tensor* g;
  Tensor* slot0;
  Tensor* slot1;  // null for SGD
};
struct StepValues {
  Tensor step_counter;
  Tensor lr;
};
void adamax_update(const AdamaxParams& p, int64_t step, const StepValues& on_device,
                   const std::vector<UpdateTensors>& tensors);
void adam_update(const AdamParams& p, int64_t step, const StepValues& on_device,
                 const std::vector<UpdateTensors>& tensors);
void sgd_update(const SgdParams& p, const StepValues& on_device, const std::vector<UpdateTensors>& tensors);

}  // namespace dispatch
}  // namespace nebula
