// ReLU and sigmoid through cudnnActivationForward/Backward, the library peers
// of the hand-written kernels (math in kernels/activation.h). The n values are
// described as a [count, 1, 1, 1] tensor, in chunks, since cuDNN's sizes are int.
//
// Backward: cudnnActivationBackward takes y, dy and x, but for relu and sigmoid
// the derivative is a function of y alone (dx = dy [y > 0], dx = dy y (1 - y)),
// and cuDNN computes it from y; our interface keeps only y, so y is passed for x
// too. That is exact for relu even if x were read, as relu(y) = y and y > 0
// exactly where x > 0. (PaddlePaddle's cuDNN activation gradients rely on the
// same: they declare that relu, sigmoid and tanh depend on the output only.)
// In place (y == x, dx == dy) is allowed: cuDNN allows it with identical descriptors.
#include "kernels/activation.h"

#include <algorithm>

#include "kernels/cudnn/handles.h"

namespace nebula {
namespace cudnn {

namespace {

constexpr int64_t kChunk = int64_t(1) << 30;

const char* name(cudnnActivationMode_t mode) { return mode == CUDNN_ACTIVATION_RELU ? "relu" : "sigmoid"; }

void forward(cudnnActivationMode_t mode, int64_t n, const float* x, float* y) {
  if (n <= 0) return;
  const ActivationDescriptor activation = activation_descriptor(mode);
  cudnnHandle_t handle = gpu::cudnn_handle();
  const float zero = 0.0f, one = 1.0f;
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const int count = static_cast<int>(std::min(kChunk, n - begin));
    const TensorDescriptor desc = tensor_4d(count, 1, 1, 1);
    NEBULA_CUDNN_CHECK(cudnnActivationForward(handle, activation, &one, desc, x + begin, &zero, desc, y + begin),
                       name(mode), " forward over ", n, " values (chunk at ", begin, ")");
  }
}

void backward(cudnnActivationMode_t mode, int64_t n, const float* y, const float* dy, float* dx) {
  if (n <= 0) return;
  const ActivationDescriptor activation = activation_descriptor(mode);
  cudnnHandle_t handle = gpu::cudnn_handle();
  const float zero = 0.0f, one = 1.0f;
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    const int count = static_cast<int>(std::min(kChunk, n - begin));
    const TensorDescriptor desc = tensor_4d(count, 1, 1, 1);
    NEBULA_CUDNN_CHECK(cudnnActivationBackward(handle, activation, &one, desc, y + begin, desc, dy + begin, desc,
                                               y + begin, &zero, desc, dx + begin),
                       name(mode), " backward over ", n, " values (chunk at ", begin, ")");
  }
}

}  // namespace

void relu_forward(int64_t n, const float* x, float* y) { forward(CUDNN_ACTIVATION_RELU, n, x, y); }
void relu_backward(int64_t n, const float* y, const float* dy, float* dx) {
  backward(CUDNN_ACTIVATION_RELU, n, y, dy, dx);
}
void sigmoid_forward(int64_t n, const float* x, float* y) { forward(CUDNN_ACTIVATION_SIGMOID, n, x, y); }
void sigmoid_backward(int64_t n, const float* y, const float* dy, float* dx) {
  backward(CUDNN_ACTIVATION_SIGMOID, n, y, dy, dx);
}

}  // namespace cudnn
}  // namespace nebula
