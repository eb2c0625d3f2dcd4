// Dense on the GPU: each pass is one tiled GEMM (kernels/cuda/gemm.h) reading the
// row-major operands in place, no transposed copies:
//   forward:         y[N, out]  = x[N, in] w^T[in, out] + b   (bias in the epilogue)
//   backward data:   dx[N, in]  = dy[N, out] w[out, in]
//   backward weight: dw^T[in, out] = x^T[in, N] dy[N, out], and db = column sums
//                    of dy, taken from the dy tiles the GEMM already holds.
// The backward weight GEMM is written transposed so that C's rows (in) are the
// contiguous dimension of dw and its B operand is dy.
//
// This file also holds the host side of the GEMM core: the plan's cost model,
// the split-K scratch and the fixed-order split sum.
#include "kernels/dense.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/cuda/allocator.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/runtime.h"

namespace nebula {
namespace gpu {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

__global__ void gemm_split_sum_kernel(const float* __restrict__ partials, int64_t split_stride, int splits,
                                      int64_t count, float* __restrict__ out, bool relu) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x) {
    float sum = 0.0f;
#pragma unroll 4
    for (int s = 0; s < splits; ++s) sum += partials[s * split_stride + i];
    out[i] = relu ? fmaxf(sum, 0.0f) : sum;
  }
}

// out[i] = the sum of partials[s * split_stride + i] over s in order, then relu.
void split_sum(const float* partials, int64_t split_stride, int splits, int64_t count, float* out, bool relu,
               const std::string& context) {
  if (count == 0) return;
  constexpr int threads = 256;
  gemm_split_sum_kernel<<<blocks_for(count, threads), threads, 0, stream()>>>(partials, split_stride, splits, count,
                                                                              out, relu);
  NEBULA_CUDA_CHECK_LAUNCH(context, " (split-K sum of ", splits, " partials)");
}

}  // namespace

GemmPlan plan_gemm(int64_t m, int64_t n, int64_t k, int groups) {
  // Per tile shape: its relative FMA efficiency with the SM full, the share of an
  // SM one block keeps busy alone, and how many blocks fit on an SM.
  struct Shape {
    TileShape tile;
    int bm, bn;
    double efficiency, alone;
    int resident;
  };
  static const Shape shapes[] = {
      {TileShape::t128x128, 128, 128, 1.00, 0.50, 2}, {TileShape::t128x64, 128, 64, 0.90, 0.50, 2},
      {TileShape::t64x128, 64, 128, 0.90, 0.50, 2},   {TileShape::t64x64, 64, 64, 0.75, 0.50, 3},
      {TileShape::t128x32, 128, 32, 0.75, 0.30, 4},   {TileShape::t32x32, 32, 32, 0.45, 0.15, 8},
  };
  static const int split_options[] = {1,  2,  3,   4,   6,   8,   12,  16,  24,   32,   48,
                                      64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048};
  constexpr double sms = 132, fma_per_second = 2.2e11 /* per SM */, bytes_per_second = 2.5e12, launch = 2e-6;
  constexpr int64_t max_scratch = int64_t(1) << 27;  // floats
  constexpr int overhead_k = 32;                     // prologue and epilogue, in reduction steps
  k = std::max<int64_t>(k, 1);

  GemmPlan best;
  double best_time = std::numeric_limits<double>::infinity();
  for (const Shape& shape : shapes)
    for (int option : split_options) {
      const int64_t chunk = ceil_div(ceil_div(k, option), 8) * 8;
      const int64_t splits = ceil_div(k, chunk);
      if (splits != option) continue;  // the same plan as a smaller option
      if (splits > 1 && (splits * m * n * groups > max_scratch || splits * groups > 65535)) continue;
      const int64_t blocks = groups * ceil_div(m, shape.bm) * ceil_div(n, shape.bn) * splits;
      const double per_sm = std::ceil(blocks / sms);
      const double busy = std::min(1.0, std::min<double>(per_sm, shape.resident) * shape.alone);
      const double fmas = per_sm * shape.bm * shape.bn * double(chunk + overhead_k);
      double time = fmas / (fma_per_second * shape.efficiency * busy);
      if (splits > 1) time += (2.0 * splits + 1) * m * n * groups * sizeof(float) / bytes_per_second + launch;
      if (time < best_time) {
        best_time = time;
        best.tile = shape.tile, best.bm = shape.bm, best.bn = shape.bn;
        best.splits = static_cast<int>(splits), best.k_chunk = static_cast<int>(chunk);
      }
    }
  return best;
}

GemmLaunch::GemmLaunch(int64_t m, int64_t n, int64_t k, int groups, float* out, int64_t out_size, float* colsum,
                       const float* bias, bool relu)
    : groups_(groups), out_(out), colsum_(colsum), out_size_(out_size), relu_(relu) {
  constexpr int64_t int_max = std::numeric_limits<int>::max();
  NEBULA_CHECK(m <= int_max && n <= int_max && k <= int_max, "GEMM of ", m, " x ", n, " x ", k,
               " exceeds the 32-bit index range of the CUDA kernels");
  plan_ = plan_gemm(m, n, k, groups);
  args_.m = static_cast<int>(m), args_.n = static_cast<int>(n), args_.k = static_cast<int>(k);
  args_.k_chunk = plan_.k_chunk;
  args_.bias = bias;
  if (plan_.splits == 1) {
    args_.out = out, args_.colsum = colsum, args_.relu = relu;
    return;
  }
  // Each split's slice holds its partial C, then its partial column sums.
  args_.split_stride = out_size + (colsum ? n : 0);
  scratch_bytes_ = sizeof(float) * size_t(args_.split_stride) * plan_.splits;
  scratch_ = static_cast<float*>(device_allocate(scratch_bytes_));
  args_.out = scratch_;
  args_.colsum = colsum ? scratch_ + out_size : nullptr;
}

GemmLaunch::~GemmLaunch() {
  if (scratch_) device_release(scratch_, scratch_bytes_);
}

dim3 GemmLaunch::grid() const {
  // CUDA caps gridDim.y and gridDim.z at 65535 (x at 2^31 - 1).
  const int64_t rows = ceil_div(args_.n, plan_.bn), layers = int64_t(groups_) * plan_.splits;
  NEBULA_CHECK(rows <= 65535 && layers <= 65535, "GEMM ", args_.m, " x ", args_.n, ": the grid needs ", rows, " x ",
               layers, " blocks in y x z, over CUDA's limit of 65535 each");
  return dim3(static_cast<unsigned>(ceil_div(args_.m, plan_.bm)), static_cast<unsigned>(ceil_div(args_.n, plan_.bn)),
              static_cast<unsigned>(groups_ * plan_.splits));
}

void GemmLaunch::finish(const std::string& context) const {
  if (plan_.splits == 1) return;
  split_sum(scratch_, args_.split_stride, plan_.splits, out_size_, out_, relu_, context);
  if (colsum_) split_sum(scratch_ + out_size_, args_.split_stride, plan_.splits, args_.n, colsum_, false, context);
}

}  // namespace gpu

namespace cuda {

namespace {

using gpu::ColumnMajorOut;
using gpu::GemmArgs;
using gpu::GemmLaunch;
using gpu::GemmProblem;
using gpu::RowMajorOut;
using gpu::StridedOperand;

using ForwardProblem = GemmProblem<StridedOperand<true>, StridedOperand<true>, RowMajorOut>;
using BackwardDataProblem = GemmProblem<StridedOperand<true>, StridedOperand<false>, RowMajorOut>;
using BackwardWeightProblem = GemmProblem<StridedOperand<false>, StridedOperand<false>, ColumnMajorOut>;

template <class Tile>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    dense_forward_kernel(const ForwardProblem prob, const GemmArgs args) {
  gpu::gemm_kernel_body<Tile, false>(prob, args);
}

template <class Tile>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    dense_backward_data_kernel(const BackwardDataProblem prob, const GemmArgs args) {
  gpu::gemm_kernel_body<Tile, false>(prob, args);
}

template <class Tile>
__global__ void __launch_bounds__(Tile::threads, Tile::min_blocks)
    dense_backward_weight_kernel(const BackwardWeightProblem prob, const GemmArgs args) {
  gpu::gemm_kernel_body<Tile, true>(prob, args);
}

std::string describe(const DenseParams& p) {
  return detail::concat("x [", p.batch, ", ", p.in_features, "], w [", p.out_features, ", ", p.in_features, "]");
}

void check(const DenseParams& p) {
  NEBULA_CHECK(p.batch > 0 && p.in_features > 0 && p.out_features > 0, "dense: every size must be positive, got ",
               describe(p));
}

}  // namespace

void dense_forward(const DenseParams& p, const float* x, const float* w, const float* bias, float* y) {
  check(p);
  const int64_t N = p.batch, I = p.in_features, O = p.out_features;
  const ForwardProblem prob{{x, I}, {w, I}, {O}};
  GemmLaunch gemm(N, O, I, 1, y, N * O, nullptr, bias, false);
  const dim3 grid = gemm.grid();
  gpu::with_tile(gemm.plan().tile, [&](auto tile) {
    using Tile = decltype(tile);
    dense_forward_kernel<Tile><<<grid, Tile::threads, 0, gpu::stream()>>>(prob, gemm.args());
  });
  NEBULA_CUDA_CHECK_LAUNCH("dense forward ", describe(p));
  gemm.finish(detail::concat("dense forward ", describe(p)));
}

void dense_backward_data(const DenseParams& p, const float* dy, const float* w, float* dx) {
  check(p);
  const int64_t N = p.batch, I = p.in_features, O = p.out_features;
  const BackwardDataProblem prob{{dy, O}, {w, I}, {I}};
  GemmLaunch gemm(N, I, O, 1, dx, N * I, nullptr, nullptr, false);
  const dim3 grid = gemm.grid();
  gpu::with_tile(gemm.plan().tile, [&](auto tile) {
    using Tile = decltype(tile);
    dense_backward_data_kernel<Tile><<<grid, Tile::threads, 0, gpu::stream()>>>(prob, gemm.args());
  });
  NEBULA_CUDA_CHECK_LAUNCH("dense backward data ", describe(p));
  gemm.finish(detail::concat("dense backward data ", describe(p)));
}

void dense_backward_weight(const DenseParams& p, const float* x, const float* dy, float* dw, float* dbias) {
  check(p);
  const int64_t N = p.batch, I = p.in_features, O = p.out_features;
  // dw^T[I, O] = x^T[I, N] dy[N, O]: C's column o is dw's row o.
  const BackwardWeightProblem prob{{x, I}, {dy, O}, {I}};
  GemmLaunch gemm(I, O, N, 1, dw, I * O, dbias, nullptr, false);
  const dim3 grid = gemm.grid();
  gpu::with_tile(gemm.plan().tile, [&](auto tile) {
    using Tile = decltype(tile);
    dense_backward_weight_kernel<Tile><<<grid, Tile::threads, 0, gpu::stream()>>>(prob, gemm.args());
  });
  NEBULA_CUDA_CHECK_LAUNCH("dense backward weight ", describe(p));
  gemm.finish(detail::concat("dense backward weight ", describe(p)));
}

}  // namespace cuda
}  // namespace nebula
