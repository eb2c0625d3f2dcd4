// Conv2d through cuDNN's convolution API, the library peer of the hand-written
// kernels (math in kernels/conv2d.h).
//
// Padding. cuDNN pads both sides of a dimension alike and sizes the output from
// that: out = (in + 2 pad - kernel) / stride + 1. With pad = pad_top this gives
// the right output for 'valid', for PyTorch-style padding and for 'same' with an
// even padding total; rows it leaves out at the bottom are rows no window
// reaches, as in the reference. Keras 'same' with an odd total puts the extra
// pixel at the bottom or right, which symmetric padding cannot express: then x
// is copied into a zeroed buffer [N, C, Hp, Wp], Hp = (out_h - 1) stride +
// kernel_h, at offset (pad_top, pad_left), and that is convolved unpadded.
// Backward data computes the gradient of the buffer and crops it back into dx;
// backward filter convolves the same buffer. The copy is cudnnSetTensor (zero)
// then cudnnTransformTensor into a strided window of the buffer, so no kernel
// of our own is needed.
//
// Algorithms are chosen once per shape, with the descriptors, from the ranking of
// cudnnGet*Algorithm_v7 (heuristics only: the Find calls would run kernels and
// allocate): the fastest that runs in FMA math (TF32 would break the 1e-4 parity
// with the CPU; under --precision tf32, tensor-op math too, never a conversion to FP16), fits kMaxWorkspace, and is GEMM-based. FFT and Winograd
// algorithms are skipped: their transforms round differently from the plain sum
// of products, and the error relative to small outputs can exceed the parity
// bound. Backward passes take a deterministic algorithm when one qualifies, so a
// rerun is bit-identical (cuDNN's atomic-based ones are not), and fall back to
// the others rather than fail.
#include "kernels/conv2d.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernels/cudnn/handles.h"

namespace nebula {
namespace cudnn {

namespace {

constexpr size_t kMaxWorkspace = size_t(512) << 20;

std::string shape(const Conv2dParams& p) {
  return detail::concat("x [", p.batch, ", ", p.in_channels, ", ", p.in_h, ", ", p.in_w, "], w [", p.out_channels, ", ",
                        p.in_channels, ", ", p.kernel_h, ", ", p.kernel_w, "], stride ", p.stride, ", padding top ",
                        p.pad_top, " left ", p.pad_left, ", y [", p.batch, ", ", p.out_channels, ", ", p.out_h, ", ",
                        p.out_w, "]");
}

// Whether padding both sides by pad gives exactly out positions in cuDNN's sizing.
bool symmetric_fits(int in, int pad, int kernel, int stride, int out) {
  const int span = in + 2 * pad - kernel;
  return span >= 0 && span / stride + 1 == out;
}

bool transform_based(cudnnConvolutionFwdAlgo_t algo) {
  return algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT || algo == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
         algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD || algo == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
}
bool transform_based(cudnnConvolutionBwdDataAlgo_t algo) {
  return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT || algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
         algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD || algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
}
bool transform_based(cudnnConvolutionBwdFilterAlgo_t algo) {
  return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT || algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING ||
         algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD ||
         algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
}

// Said once per process: a run that needs it no longer repeats bit for bit.
void warn_nondeterministic(const char* pass) {
  static std::once_flag once;
  std::call_once(once, [pass] {
    std::fprintf(stderr,
                 "warning: cuDNN has no deterministic conv2d %s algorithm for a shape here; "
                 "using a non-deterministic one (runs may differ in the last bits)\n",
                 pass);
  });
}

// The first acceptable entry of cuDNN's ranking (fastest first): deterministic
// ones only on the first sweep when asked, any on the second.
template <typename Perf>
decltype(Perf::algo) pick(const std::vector<Perf>& ranked, bool deterministic_first, bool tf32, const char* pass,
                          const Conv2dParams& p) {
  for (int strict = deterministic_first ? 1 : 0; strict >= 0; --strict)
    for (const Perf& perf : ranked) {
      // In fp32 a tensor-op entry would mean TF32; never one converting to FP16.
      const bool math = perf.mathType == CUDNN_TENSOR_OP_MATH ? tf32 : perf.mathType != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
      if (perf.status == CUDNN_STATUS_SUCCESS && math && perf.memory <= kMaxWorkspace && !transform_based(perf.algo) &&
          (!strict || perf.determinism == CUDNN_DETERMINISTIC)) {
        if (deterministic_first && !strict) warn_nondeterministic(pass);
        return perf.algo;
      }
    }
  throw Error(detail::located(detail::concat("conv2d ", pass, ": cuDNN offers no GEMM-based FP32 algorithm within ",
                                             kMaxWorkspace >> 20, " MiB of workspace for ", shape(p)),
                              __FILE__, __LINE__));
}

template <typename Algo>
struct Choice {
  Algo algo{};
  size_t workspace = 0;
};

// Everything cuDNN needs for one shape, built once.
struct Plan {
  bool tf32 = false;          // tensor-op math (kernels/precision.h)
  bool explicit_pad = false;  // x goes through the padded buffer
  bool cropped = false;       // explicit padding: some of x lies past every window (its dx is 0)
  int64_t padded_offset = 0;  // where x's first pixel lands in the padded buffer
  size_t padded_bytes = 0;
  TensorDescriptor image;          // x, packed [N, C, H, W]
  TensorDescriptor input;          // what cuDNN convolves: x, or the padded buffer
  TensorDescriptor image_window;   // explicit padding: the part of x copied, in x's strides
  TensorDescriptor padded_window;  // the same part in the buffer's strides, from padded_offset
  FilterDescriptor filter;
  ConvolutionDescriptor conv;
  TensorDescriptor output, bias;
  ActivationDescriptor relu;
  Choice<cudnnConvolutionFwdAlgo_t> forward;
  Choice<cudnnConvolutionBwdDataAlgo_t> backward_data;
  Choice<cudnnConvolutionBwdFilterAlgo_t> backward_filter;
};

void choose_algorithms(Plan& plan, const Conv2dParams& p) {
  cudnnHandle_t handle = gpu::cudnn_handle();
  int count = 0, returned = 0;

  NEBULA_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(handle, &count), "conv2d forward, ", shape(p));
  std::vector<cudnnConvolutionFwdAlgoPerf_t> forward(count);
  NEBULA_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, plan.input, plan.filter, plan.conv, plan.output,
                                                            count, &returned, forward.data()),
                     "conv2d forward, ", shape(p));
  forward.resize(returned);
  plan.forward.algo = pick(forward, false, plan.tf32, "forward", p);
  NEBULA_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(handle, plan.input, plan.filter, plan.conv, plan.output,
                                                             plan.forward.algo, &plan.forward.workspace),
                     "conv2d forward, ", shape(p));

  NEBULA_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(handle, &count), "conv2d backward data, ",
                     shape(p));
  std::vector<cudnnConvolutionBwdDataAlgoPerf_t> data(count);
  NEBULA_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, plan.filter, plan.output, plan.conv,
                                                                 plan.input, count, &returned, data.data()),
                     "conv2d backward data, ", shape(p));
  data.resize(returned);
  plan.backward_data.algo = pick(data, true, plan.tf32, "backward data", p);
  NEBULA_CUDNN_CHECK(
      cudnnGetConvolutionBackwardDataWorkspaceSize(handle, plan.filter, plan.output, plan.conv, plan.input,
                                                   plan.backward_data.algo, &plan.backward_data.workspace),
      "conv2d backward data, ", shape(p));

  NEBULA_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(handle, &count), "conv2d backward filter, ",
                     shape(p));
  std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> filter(count);
  NEBULA_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, plan.input, plan.output, plan.conv,
                                                                   plan.filter, count, &returned, filter.data()),
                     "conv2d backward filter, ", shape(p));
  filter.resize(returned);
  plan.backward_filter.algo = pick(filter, true, plan.tf32, "backward filter", p);
  NEBULA_CUDNN_CHECK(
      cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, plan.input, plan.output, plan.conv, plan.filter,
                                                     plan.backward_filter.algo, &plan.backward_filter.workspace),
      "conv2d backward filter, ", shape(p));
}

std::unique_ptr<Plan> make_plan(const Conv2dParams& p) {
  NEBULA_CHECK(p.batch > 0 && p.in_channels > 0 && p.in_h > 0 && p.in_w > 0 && p.out_channels > 0 && p.kernel_h > 0 &&
                   p.kernel_w > 0 && p.stride > 0 && p.pad_top >= 0 && p.pad_left >= 0 && p.out_h > 0 && p.out_w > 0,
               "conv2d (cuDNN): invalid shape ", shape(p));
  const int N = p.batch, C = p.in_channels, H = p.in_h, W = p.in_w, K = p.out_channels;
  auto plan = std::make_unique<Plan>();
  plan->tf32 = gpu::tf32_math();
  plan->explicit_pad = !symmetric_fits(H, p.pad_top, p.kernel_h, p.stride, p.out_h) ||
                       !symmetric_fits(W, p.pad_left, p.kernel_w, p.stride, p.out_w);
  plan->image = tensor_4d(N, C, H, W);
  int pad_h = p.pad_top, pad_w = p.pad_left;
  if (plan->explicit_pad) {
    // The buffer spans exactly the windows; rows and columns of x past its end are read by none.
    const int padded_h = (p.out_h - 1) * p.stride + p.kernel_h, padded_w = (p.out_w - 1) * p.stride + p.kernel_w;
    const int rows = std::min(H, padded_h - p.pad_top), cols = std::min(W, padded_w - p.pad_left);
    NEBULA_CHECK(rows > 0 && cols > 0, "conv2d (cuDNN): no window reaches the input, ", shape(p));
    plan->cropped = rows < H || cols < W;
    plan->padded_offset = int64_t(p.pad_top) * padded_w + p.pad_left;
    plan->padded_bytes = sizeof(float) * size_t(N) * C * padded_h * padded_w;
    plan->input = tensor_4d(N, C, padded_h, padded_w);
    plan->image_window = tensor_4d_strided(N, C, rows, cols, int64_t(C) * H * W, int64_t(H) * W, W, 1);
    plan->padded_window = tensor_4d_strided(N, C, rows, cols, int64_t(C) * padded_h * padded_w,
                                            int64_t(padded_h) * padded_w, padded_w, 1);
    pad_h = pad_w = 0;
  } else {
    plan->input = tensor_4d(N, C, H, W);
  }
  NEBULA_CUDNN_CHECK(
      cudnnSetFilter4dDescriptor(plan->filter, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, K, C, p.kernel_h, p.kernel_w),
      "conv2d, ", shape(p));
  NEBULA_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(plan->conv, pad_h, pad_w, p.stride, p.stride, 1, 1,
                                                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                     "conv2d, ", shape(p));
  NEBULA_CUDNN_CHECK(cudnnSetConvolutionMathType(plan->conv, plan->tf32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH),
                     "conv2d, ", shape(p));
  int n = 0, k = 0, h = 0, w = 0;
  NEBULA_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(plan->conv, plan->input, plan->filter, &n, &k, &h, &w),
                     "conv2d, ", shape(p));
  NEBULA_CHECK(n == N && k == K && h == p.out_h && w == p.out_w, "conv2d (cuDNN): cuDNN sizes the output [", n, ", ", k,
               ", ", h, ", ", w, "], expected ", shape(p));
  plan->output = tensor_4d(N, K, p.out_h, p.out_w);
  plan->bias = tensor_4d(1, K, 1, 1);
  plan->relu = activation_descriptor(CUDNN_ACTIVATION_RELU);
  choose_algorithms(*plan, p);
  return plan;
}

// Plans live as long as the program: a training run meets a handful of shapes.
const Plan& plan_for(const Conv2dParams& p) {
  static std::mutex mutex;
  static std::map<std::array<int, 13>, std::unique_ptr<Plan>> plans;
  const std::array<int, 13> key = {p.batch,    p.in_channels, p.in_h,    p.in_w,     p.out_channels,
                                   p.kernel_h, p.kernel_w,    p.stride,  p.pad_top,  p.pad_left,
                                   p.out_h,    p.out_w,       int(gpu::tf32_math())};
  std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<Plan>& plan = plans[key];
  if (!plan) plan = make_plan(p);
  return *plan;
}

// x into the zeroed padded buffer at (pad_top, pad_left).
void pad_input(const Plan& plan, const Conv2dParams& p, const float* x, float* padded) {
  cudnnHandle_t handle = gpu::cudnn_handle();
  const float zero = 0.0f, one = 1.0f;
  NEBULA_CUDNN_CHECK(cudnnSetTensor(handle, plan.input, padded, &zero), "conv2d padding the input, ", shape(p));
  NEBULA_CUDNN_CHECK(
      cudnnTransformTensor(handle, &one, plan.image_window, x, &zero, plan.padded_window, padded + plan.padded_offset),
      "conv2d padding the input, ", shape(p));
}

}  // namespace

void conv2d_forward(const Conv2dParams& p, const float* x, const float* w, const float* bias, float* y, bool relu) {
  const Plan& plan = plan_for(p);
  cudnnHandle_t handle = gpu::cudnn_handle();
  const float zero = 0.0f, one = 1.0f;
  Scratch padded(plan.explicit_pad ? plan.padded_bytes : 0);
  if (plan.explicit_pad) pad_input(plan, p, x, padded.floats());
  Scratch workspace(plan.forward.workspace);
  NEBULA_CUDNN_CHECK(
      cudnnConvolutionForward(handle, &one, plan.input, plan.explicit_pad ? padded.floats() : x, plan.filter, w,
                              plan.conv, plan.forward.algo, workspace.get(), workspace.bytes(), &zero, plan.output, y),
      "conv2d forward, ", shape(p));
  if (bias)
    NEBULA_CUDNN_CHECK(cudnnAddTensor(handle, &one, plan.bias, bias, &one, plan.output, y), "conv2d forward bias, ",
                       shape(p));
  if (relu)
    NEBULA_CUDNN_CHECK(cudnnActivationForward(handle, plan.relu, &one, plan.output, y, &zero, plan.output, y),
                       "conv2d forward relu, ", shape(p));
}

void conv2d_backward_data(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  const Plan& plan = plan_for(p);
  cudnnHandle_t handle = gpu::cudnn_handle();
  const float zero = 0.0f, one = 1.0f;
  Scratch padded(plan.explicit_pad ? plan.padded_bytes : 0);
  Scratch workspace(plan.backward_data.workspace);
  NEBULA_CUDNN_CHECK(cudnnConvolutionBackwardData(handle, &one, plan.filter, w, plan.output, dy, plan.conv,
                                                  plan.backward_data.algo, workspace.get(), workspace.bytes(), &zero,
                                                  plan.input, plan.explicit_pad ? padded.floats() : dx),
                     "conv2d backward data, ", shape(p));
  if (!plan.explicit_pad) return;
  // The padding's gradient is dropped; pixels of x that no window reads get 0.
  if (plan.cropped)
    NEBULA_CUDNN_CHECK(cudnnSetTensor(handle, plan.image, dx, &zero), "conv2d backward data, ", shape(p));
  NEBULA_CUDNN_CHECK(cudnnTransformTensor(handle, &one, plan.padded_window, padded.floats() + plan.padded_offset, &zero,
                                          plan.image_window, dx),
                     "conv2d backward data cropping the padding, ", shape(p));
}

void conv2d_backward_filter(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* dbias) {
  const Plan& plan = plan_for(p);
  cudnnHandle_t handle = gpu::cudnn_handle();
  const float zero = 0.0f, one = 1.0f;
  Scratch padded(plan.explicit_pad ? plan.padded_bytes : 0);
  if (plan.explicit_pad) pad_input(plan, p, x, padded.floats());
  Scratch workspace(plan.backward_filter.workspace);
  NEBULA_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, &one, plan.input, plan.explicit_pad ? padded.floats() : x,
                                                    plan.output, dy, plan.conv, plan.backward_filter.algo,
                                                    workspace.get(), workspace.bytes(), &zero, plan.filter, dw),
                     "conv2d backward filter, ", shape(p));
  if (dbias)
    NEBULA_CUDNN_CHECK(cudnnConvolutionBackwardBias(handle, &one, plan.output, dy, &zero, plan.bias, dbias),
                       "conv2d backward bias, ", shape(p));
}

}  // namespace cudnn
}  // namespace nebula
