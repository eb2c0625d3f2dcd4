// MaxPool2d through cudnnPooling*, the library peer of the hand-written kernels
// (math in kernels/maxpool2d.h). cuDNN skips padded cells in a max, as the
// reference's -infinity does, and sizes the output with the same floor rule.
//
// The deterministic max mode is used: cuDNN documents the backward pass of the
// other one as non-deterministic (overlapping windows add up in any order).
// Backward needs y, which the reference does not keep, so it is recomputed into
// scratch first.
//
// Ties: the reference routes a window's gradient to its first maximal element,
// scanning rows then columns. cuDNN routes it to one maximal element but does
// not document which, so where a window holds the same maximum twice (a window
// of zeros after a ReLU, say) dx may land on another of the tied elements; the
// sum of dx and everything downstream of a ReLU (whose gradient is 0 there) is
// unchanged. Inputs without exact ties match the reference exactly.
#include "kernels/maxpool2d.h"

#include <string>

#include "kernels/cudnn/handles.h"

namespace nebula {
namespace cudnn {

namespace {

std::string shape(const Pool2dParams& p) {
  return detail::concat("x [", p.batch, ", ", p.channels, ", ", p.in_h, ", ", p.in_w, "], window ", p.kernel,
                        ", stride ", p.stride, ", padding ", p.pad, ", y [", p.batch, ", ", p.channels, ", ", p.out_h,
                        ", ", p.out_w, "]");
}

struct PoolDescriptors {
  TensorDescriptor x, y;
  PoolingDescriptor pool;
};

PoolDescriptors describe(const Pool2dParams& p) {
  PoolDescriptors d;
  d.x = tensor_4d(p.batch, p.channels, p.in_h, p.in_w);
  d.y = tensor_4d(p.batch, p.channels, p.out_h, p.out_w);
  NEBULA_CUDNN_CHECK(cudnnSetPooling2dDescriptor(d.pool, CUDNN_POOLING_MAX_DETERMINISTIC, CUDNN_NOT_PROPAGATE_NAN,
                                                 p.kernel, p.kernel, p.pad, p.pad, p.stride, p.stride),
                     "maxpool2d, ", shape(p));
  int n = 0, c = 0, h = 0, w = 0;
  NEBULA_CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(d.pool, d.x, &n, &c, &h, &w), "maxpool2d, ", shape(p));
  NEBULA_CHECK(n == p.batch && c == p.channels && h == p.out_h && w == p.out_w,
               "maxpool2d (cuDNN): cuDNN sizes the output [", n, ", ", c, ", ", h, ", ", w, "], expected ", shape(p));
  return d;
}

}  // namespace

void maxpool2d_forward(const Pool2dParams& p, const float* x, float* y) {
  const PoolDescriptors d = describe(p);
  const float zero = 0.0f, one = 1.0f;
  NEBULA_CUDNN_CHECK(cudnnPoolingForward(gpu::cudnn_handle(), d.pool, &one, d.x, x, &zero, d.y, y),
                     "maxpool2d forward, ", shape(p));
}

void maxpool2d_backward(const Pool2dParams& p, const float* x, const float* dy, float* dx) {
  const PoolDescriptors d = describe(p);
  cudnnHandle_t handle = gpu::cudnn_handle();
  const float zero = 0.0f, one = 1.0f;
  Scratch y(sizeof(float) * size_t(p.batch) * p.channels * p.out_h * p.out_w);
  NEBULA_CUDNN_CHECK(cudnnPoolingForward(handle, d.pool, &one, d.x, x, &zero, d.y, y.floats()),
                     "maxpool2d backward recomputing y, ", shape(p));
  NEBULA_CUDNN_CHECK(cudnnPoolingBackward(handle, d.pool, &one, d.y, y.floats(), d.y, dy, d.x, x, &zero, d.x, dx),
                     "maxpool2d backward, ", shape(p));
}

}  // namespace cudnn
}  // namespace nebula
