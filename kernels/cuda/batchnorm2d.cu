// BatchNorm2d on the GPU. A channel's M = N*H*W values are cut into S equal
// chunks (S chosen from M and C only, so enough blocks fill the GPU), and each
// pass runs on a grid of C x S blocks that walk their chunk without a division
// per value. Statistics are summed in double in a fixed order, so reruns are
// bit-identical without atomics:
//   forward train: each block sums its chunk, then the squared deviations from
//     its own chunk mean (two passes, as the reference: no E[x^2] - E[x]^2
//     cancellation when the mean is large); a thread per channel then combines
//     the chunks, m2 = sum_b m2_b + count_b (mean_b - mean)^2, and writes the
//     statistics and the float scale and shift; a last pass writes y.
//   backward: the chunks' sums of g and g xhat, combined per channel into dbeta,
//     dgamma and the coefficients of dx = a g + b x + d, applied in double as
//     the reference does.
// y = x scale + shift is written with __fmul_rn/__fadd_rn: the reference forms
// the same float product and sum, and a fused multiply-add would round once
// instead of twice.
#include "kernels/batchnorm2d.h"

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/allocator.h"
#include "kernels/cuda/block_sum.cuh"
#include "kernels/cuda/runtime.h"

namespace nebula {
namespace cuda {

namespace {

constexpr int kThreads = 256;               // a power of two, for block_sum's halving tree
constexpr int kFinishThreads = 128;         // threads per block of the per-channel kernels
constexpr int64_t kMinChunk = 4096;         // values per block at least, so a block's fixed costs stay small
constexpr int64_t kTargetBlocks = 132 * 8;  // enough blocks to fill an H100 several times

// How a channel's M values are split: S chunks of `length` (the last may be shorter).
struct Chunks {
  int64_t values = 0, length = 0;  // values = M
  int count = 0;                   // S
};

Chunks chunks_for(const BatchNormParams& p) {
  Chunks chunks;
  chunks.values = int64_t(p.batch) * p.spatial;
  const int64_t by_work = (chunks.values + kMinChunk - 1) / kMinChunk;
  const int64_t by_grid = (kTargetBlocks + p.channels - 1) / p.channels;
  const int64_t wanted = std::max<int64_t>(1, std::min(by_work, by_grid));
  chunks.length = (chunks.values + wanted - 1) / wanted;
  chunks.count = int((chunks.values + chunks.length - 1) / chunks.length);  // every chunk non-empty
  return chunks;
}

__device__ __forceinline__ int64_t chunk_begin(const Chunks& chunks, int b) { return b * chunks.length; }
__device__ __forceinline__ int64_t chunk_end(const Chunks& chunks, int b) {
  const int64_t end = (b + 1) * chunks.length;
  return end < chunks.values ? end : chunks.values;
}

// Calls f(at) for the offsets in x of this thread's values of channel blockIdx.x
// within chunk blockIdx.y: values k = begin + threadIdx.x, + blockDim.x, ...,
// where value k = n*H*W + s lives at (n*C + c)*H*W + s. Sample and position are
// stepped, not divided out, for each value.
template <typename F>
__device__ __forceinline__ void for_chunk(const BatchNormParams& p, const Chunks& chunks, F&& f) {
  const int c = blockIdx.x, b = blockIdx.y;
  const int64_t end = chunk_end(chunks, b), plane_stride = int64_t(p.channels) * p.spatial;
  int64_t k = chunk_begin(chunks, b) + threadIdx.x;
  if (k >= end) return;
  int64_t n = k / p.spatial;
  int s = int(k - n * p.spatial);
  int64_t at = (n * p.channels + c) * p.spatial + s;
  const int step_n = blockDim.x / p.spatial, step_s = blockDim.x % p.spatial;
  const int64_t step_at = step_n * plane_stride + step_s;
  for (; k < end; k += blockDim.x) {
    f(at);
    s += step_s;
    at += step_at;
    if (s >= p.spatial) {  // crossed into the next sample
      s -= p.spatial;
      at += plane_stride - p.spatial;
    }
  }
}

// Per chunk: its sum, and the sum of squared deviations from its own mean.
__global__ void batchnorm2d_forward_partial_kernel(BatchNormParams p, Chunks chunks, const float* x, double* sums,
                                                   double* m2s) {
  const int c = blockIdx.x, b = blockIdx.y;
  double sum = 0.0;
  for_chunk(p, chunks, [&](int64_t at) { sum += x[at]; });
  sum = block_sum<kThreads>(sum);
  const double mean = sum / double(chunk_end(chunks, b) - chunk_begin(chunks, b));
  double sq = 0.0;
  for_chunk(p, chunks, [&](int64_t at) { sq += (x[at] - mean) * (x[at] - mean); });
  sq = block_sum<kThreads>(sq);
  if (threadIdx.x == 0) {
    sums[int64_t(c) * chunks.count + b] = sum;
    m2s[int64_t(c) * chunks.count + b] = sq;
  }
}

// A thread per channel: combine the chunks, write the statistics, the running
// averages and the scale and shift the next pass applies.
__global__ void batchnorm2d_forward_finish_kernel(BatchNormParams p, Chunks chunks, const double* sums,
                                                  const double* m2s, const float* gamma, const float* beta,
                                                  float* save_mean, float* save_invstd, float* running_mean,
                                                  float* running_var, float* scale_shift) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= p.channels) return;
  const double* sum_c = sums + int64_t(c) * chunks.count;
  const double* m2_c = m2s + int64_t(c) * chunks.count;
  const double M = double(chunks.values);
  double sum = 0.0;
  for (int b = 0; b < chunks.count; ++b) sum += sum_c[b];
  const double mean = sum / M;
  double sq = 0.0;
  for (int b = 0; b < chunks.count; ++b) {
    const double count = double(chunk_end(chunks, b) - chunk_begin(chunks, b));
    const double shift = sum_c[b] / count - mean;
    sq += m2_c[b] + count * shift * shift;
  }
  const double var = sq / M;
  const double invstd = 1.0 / sqrt(var + p.eps);
  scale_shift[c] = static_cast<float>(gamma[c] * invstd);
  scale_shift[p.channels + c] = static_cast<float>(beta[c] - mean * gamma[c] * invstd);
  save_mean[c] = static_cast<float>(mean);
  save_invstd[c] = static_cast<float>(invstd);
  // The running variance takes the unbiased estimate (PyTorch); M == 1 has none.
  const double unbiased = M > 1 ? var * M / (M - 1) : var;
  running_mean[c] = static_cast<float>((1.0 - p.momentum) * running_mean[c] + p.momentum * mean);
  running_var[c] = static_cast<float>((1.0 - p.momentum) * running_var[c] + p.momentum * unbiased);
}

__global__ void batchnorm2d_forward_apply_kernel(BatchNormParams p, Chunks chunks, const float* x,
                                                 const float* scale_shift, float* y) {
  const float scale = scale_shift[blockIdx.x], shift = scale_shift[p.channels + blockIdx.x];
  for_chunk(p, chunks, [&](int64_t at) { y[at] = __fadd_rn(__fmul_rn(x[at], scale), shift); });
}

__global__ void batchnorm2d_forward_eval_kernel(BatchNormParams p, Chunks chunks, const float* x, const float* gamma,
                                                const float* beta, const float* running_mean, const float* running_var,
                                                float* y) {
  const int c = blockIdx.x;
  // The reference's arithmetic and types exactly (its mean * gamma is a float
  // product), unfused, so eval output matches it bit for bit.
  const double invstd = 1.0 / sqrt(double(running_var[c]) + p.eps);
  const float scale = static_cast<float>(__dmul_rn(gamma[c], invstd));
  const float shift = static_cast<float>(__dsub_rn(beta[c], __dmul_rn(__fmul_rn(running_mean[c], gamma[c]), invstd)));
  for_chunk(p, chunks, [&](int64_t at) { y[at] = __fadd_rn(__fmul_rn(x[at], scale), shift); });
}

// Per chunk: sum g and sum g xhat.
__global__ void batchnorm2d_backward_partial_kernel(BatchNormParams p, Chunks chunks, const float* x, const float* dy,
                                                    const float* save_mean, const float* save_invstd, double* sums_g,
                                                    double* sums_g_xhat) {
  const int c = blockIdx.x, b = blockIdx.y;
  const double mean = save_mean[c], invstd = save_invstd[c];
  double sum_g = 0.0, sum_g_xhat = 0.0;
  for_chunk(p, chunks, [&](int64_t at) {
    sum_g += dy[at];
    sum_g_xhat += dy[at] * (x[at] - mean) * invstd;
  });
  sum_g = block_sum<kThreads>(sum_g);
  sum_g_xhat = block_sum<kThreads>(sum_g_xhat);
  if (threadIdx.x == 0) {
    sums_g[int64_t(c) * chunks.count + b] = sum_g;
    sums_g_xhat[int64_t(c) * chunks.count + b] = sum_g_xhat;
  }
}

// A thread per channel: dbeta, dgamma, and dx = a g + b x + d as the reference
// forms it (train: gamma invstd / M (M g - dbeta - xhat dgamma); eval: a g).
__global__ void batchnorm2d_backward_finish_kernel(BatchNormParams p, Chunks chunks, bool training,
                                                   const double* sums_g, const double* sums_g_xhat, const float* gamma,
                                                   const float* save_mean, const float* save_invstd, float* dgamma,
                                                   float* dbeta, double* coefficients) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= p.channels) return;
  const double M = double(chunks.values);
  double sum_g = 0.0, sum_g_xhat = 0.0;
  for (int b = 0; b < chunks.count; ++b) {
    sum_g += sums_g[int64_t(c) * chunks.count + b];
    sum_g_xhat += sums_g_xhat[int64_t(c) * chunks.count + b];
  }
  dbeta[c] = static_cast<float>(sum_g);
  dgamma[c] = static_cast<float>(sum_g_xhat);
  const double mean = save_mean[c], invstd = save_invstd[c];
  const double a = gamma[c] * invstd;
  const double b = training ? -a * invstd * sum_g_xhat / M : 0.0;
  const double d = training ? -a * sum_g / M - b * mean : 0.0;
  coefficients[c] = a;
  coefficients[p.channels + c] = b;
  coefficients[2 * p.channels + c] = d;
}

__global__ void batchnorm2d_backward_apply_kernel(BatchNormParams p, Chunks chunks, const float* x, const float* dy,
                                                  const double* coefficients, float* dx) {
  const int c = blockIdx.x;
  const double a = coefficients[c], b = coefficients[p.channels + c], d = coefficients[2 * p.channels + c];
  for_chunk(p, chunks, [&](int64_t at) { dx[at] = static_cast<float>(a * dy[at] + b * x[at] + d); });
}

void check_sizes(const BatchNormParams& p, const char* pass) {
  NEBULA_CHECK(p.batch > 0 && p.channels > 0 && p.spatial > 0, "batchnorm2d ", pass, ": batch ", p.batch, ", channels ",
               p.channels, ", spatial ", p.spatial, " must be positive");
}

dim3 grid_for(const BatchNormParams& p, const Chunks& chunks) { return dim3(p.channels, chunks.count); }

int finish_blocks(const BatchNormParams& p) { return (p.channels + kFinishThreads - 1) / kFinishThreads; }

}  // namespace

void batchnorm2d_forward_train(const BatchNormParams& p, const float* x, const float* gamma, const float* beta,
                               float* y, float* save_mean, float* save_invstd, float* running_mean,
                               float* running_var) {
  check_sizes(p, "forward (train)");
  const Chunks chunks = chunks_for(p);
  const int64_t partials = int64_t(p.channels) * chunks.count;
  // Scratch: the chunks' sums and squared deviations (double), then the channels' scale and shift (float).
  const size_t bytes = sizeof(double) * 2 * partials + sizeof(float) * 2 * p.channels;
  double* sums = static_cast<double*>(gpu::device_allocate(bytes));
  double* m2s = sums + partials;
  float* scale_shift = reinterpret_cast<float*>(m2s + partials);
  batchnorm2d_forward_partial_kernel<<<grid_for(p, chunks), kThreads, 0, gpu::stream()>>>(p, chunks, x, sums, m2s);
  NEBULA_CUDA_CHECK_LAUNCH("batchnorm2d forward (train, statistics) N=", p.batch, " C=", p.channels, " HW=", p.spatial);
  batchnorm2d_forward_finish_kernel<<<finish_blocks(p), kFinishThreads, 0, gpu::stream()>>>(
      p, chunks, sums, m2s, gamma, beta, save_mean, save_invstd, running_mean, running_var, scale_shift);
  NEBULA_CUDA_CHECK_LAUNCH("batchnorm2d forward (train, per channel) N=", p.batch, " C=", p.channels,
                           " HW=", p.spatial);
  batchnorm2d_forward_apply_kernel<<<grid_for(p, chunks), kThreads, 0, gpu::stream()>>>(p, chunks, x, scale_shift, y);
  NEBULA_CUDA_CHECK_LAUNCH("batchnorm2d forward (train, output) N=", p.batch, " C=", p.channels, " HW=", p.spatial);
  gpu::device_release(sums, bytes);  // stream-ordered: safe once the kernels are queued
}

void batchnorm2d_forward_eval(const BatchNormParams& p, const float* x, const float* gamma, const float* beta,
                              const float* running_mean, const float* running_var, float* y) {
  check_sizes(p, "forward (eval)");
  const Chunks chunks = chunks_for(p);
  batchnorm2d_forward_eval_kernel<<<grid_for(p, chunks), kThreads, 0, gpu::stream()>>>(p, chunks, x, gamma, beta,
                                                                                       running_mean, running_var, y);
  NEBULA_CUDA_CHECK_LAUNCH("batchnorm2d forward (eval) N=", p.batch, " C=", p.channels, " HW=", p.spatial);
}

void batchnorm2d_backward(const BatchNormParams& p, bool training, const float* x, const float* dy, const float* gamma,
                          const float* save_mean, const float* save_invstd, float* dx, float* dgamma, float* dbeta) {
  check_sizes(p, "backward");
  const Chunks chunks = chunks_for(p);
  const int64_t partials = int64_t(p.channels) * chunks.count;
  // Scratch: the chunks' two sums, then the channels' coefficients a, b, d.
  const size_t bytes = sizeof(double) * (2 * partials + 3 * int64_t(p.channels));
  double* sums_g = static_cast<double*>(gpu::device_allocate(bytes));
  double* sums_g_xhat = sums_g + partials;
  double* coefficients = sums_g_xhat + partials;
  batchnorm2d_backward_partial_kernel<<<grid_for(p, chunks), kThreads, 0, gpu::stream()>>>(
      p, chunks, x, dy, save_mean, save_invstd, sums_g, sums_g_xhat);
  NEBULA_CUDA_CHECK_LAUNCH("batchnorm2d backward (sums) N=", p.batch, " C=", p.channels, " HW=", p.spatial);
  batchnorm2d_backward_finish_kernel<<<finish_blocks(p), kFinishThreads, 0, gpu::stream()>>>(
      p, chunks, training, sums_g, sums_g_xhat, gamma, save_mean, save_invstd, dgamma, dbeta, coefficients);
  NEBULA_CUDA_CHECK_LAUNCH("batchnorm2d backward (per channel) N=", p.batch, " C=", p.channels, " HW=", p.spatial);
  batchnorm2d_backward_apply_kernel<<<grid_for(p, chunks), kThreads, 0, gpu::stream()>>>(p, chunks, x, dy, coefficients,
                                                                                         dx);
  NEBULA_CUDA_CHECK_LAUNCH("batchnorm2d backward (dx) N=", p.batch, " C=", p.channels, " HW=", p.spatial);
  gpu::device_release(sums_g, bytes);
}

}  // namespace cuda
}  // namespace nebula
