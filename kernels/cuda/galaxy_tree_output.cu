// The decision-tree output on the GPU: one thread a row runs the same row
// functions as the CPU (kernels/galaxy_tree_output.h). A row is at most 64
// values and a batch a few hundred rows, so the op is launch-bound; a thread
// per row keeps the questions' sequential dependence (parents first) simple.
#include "kernels/galaxy_tree_output.h"

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 128;

__global__ void galaxy_tree_forward_kernel(GalaxyTreeLayout t, int64_t rows, const float* x, float* y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += stride)
    galaxy_tree_row_forward(t, x + r * t.columns, y + r * t.columns);
}

__global__ void galaxy_tree_backward_kernel(GalaxyTreeLayout t, int64_t rows, const float* x, const float* y,
                                            const float* dy, float* dx) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += stride) {
    const int64_t o = r * t.columns;
    galaxy_tree_row_backward(t, x + o, y + o, dy + o, dx + o);
  }
}

}  // namespace

void galaxy_tree_forward(const GalaxyTreeLayout& layout, int64_t rows, const float* x, float* y) {
  if (rows <= 0) return;
  galaxy_tree_forward_kernel<<<gpu::blocks_for(rows, kThreads), kThreads, 0, gpu::stream()>>>(layout, rows, x, y);
  NEBULA_CUDA_CHECK_LAUNCH("galaxy tree forward rows=", rows);
}

void galaxy_tree_backward(const GalaxyTreeLayout& layout, int64_t rows, const float* x, const float* y, const float* dy,
                          float* dx) {
  if (rows <= 0) return;
  galaxy_tree_backward_kernel<<<gpu::blocks_for(rows, kThreads), kThreads, 0, gpu::stream()>>>(layout, rows, x, y, dy,
                                                                                               dx);
  NEBULA_CUDA_CHECK_LAUNCH("galaxy tree backward rows=", rows);
}

}  // namespace cuda
}  // namespace nebula
