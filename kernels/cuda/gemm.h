// The tiled FP32 GEMM core behind the hand-written dense and conv2d kernels:
//   C[M, N] = A[M, K] B[K, N]   (+ bias[n], optional max(., 0))
// where A and B are never materialised: an operand is a small struct that says
// how to fetch element (row or column d, reduction index k) from memory, so an
// im2col gather happens while a tile is loaded into shared memory.
//
// Tiling: a block of Tile::threads threads computes a BM x BN tile of C; each
// thread owns a TM x TN micro-tile held in registers, made of float4 groups
// spaced BM/TM*4 apart so that a warp's shared-memory reads are conflict-free
// 128-bit loads. The reduction runs in steps of BK = 8: every thread fetches its
// share of the next A and B tiles into registers while it multiplies the
// current ones out of shared memory, then stores them into the other half of a
// double buffer, so there is one __syncthreads per step. Each operand tile is
// fetched along the dimension that is contiguous in memory (coalesced), and
// kept in shared memory k-major ([BK][BM + 4]) so the inner loop reads
// consecutive rows of C; the +4 padding spreads the transposing stores of
// k-contiguous operands over all 32 banks.
//
// Split-K: when the output is too small to fill the GPU, blockIdx.z cuts the
// reduction into fixed chunks; each split writes its partial C to a scratch
// slice and GemmLaunch::finish adds the slices in split order, so the result is
// deterministic. The plan (tile shape, splits) depends on the shape alone.
//
// Device code here is shared by kernels/cuda/dense.cu and conv2d.cu; the host
// helpers are defined in dense.cu.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "base/host_device.h"

namespace nebula {
namespace gpu {

NEBULA_HD uint32_t mul_high(uint32_t a, uint32_t b) {
#if defined(__CUDA_ARCH__)
  return __umulhi(a, b);
#else
  return static_cast<uint32_t>((uint64_t(a) * b) >> 32);
#endif
}

// Division by a runtime constant d in [1, 2^31) as a multiply-high, an add and a
// shift (Granlund and Montgomery's round-up method), exact for n in [0, 2^31):
// the gathers decode an index for every element of every tile, and a hardware
// integer division costs ~20 instructions.
struct FastDiv {
  int divisor = 1;
  uint32_t multiplier = 1, shift = 0;

  FastDiv() = default;
  NEBULA_HD explicit FastDiv(int d) : divisor(d) {
    while ((uint64_t(1) << shift) < uint64_t(d)) ++shift;
    multiplier = static_cast<uint32_t>(((uint64_t(1) << 32) * ((uint64_t(1) << shift) - d)) / d + 1);
  }
  NEBULA_HD int div(int n) const {
    return static_cast<int>((mul_high(uint32_t(n), multiplier) + uint32_t(n)) >> shift);
  }
};

// A block's tile of C and each thread's micro-tile. min_blocks goes to
// __launch_bounds__: it caps the registers so that many blocks share an SM.
template <int BM_, int BN_, int TM_, int TN_, int MIN_BLOCKS_>
struct GemmTile {
  static constexpr int BM = BM_, BN = BN_, BK = 8, TM = TM_, TN = TN_;
  static constexpr int threads = (BM / TM) * (BN / TN);
  static constexpr int min_blocks = MIN_BLOCKS_;
};

enum class TileShape { t128x128, t128x64, t64x128, t64x64, t128x32, t32x32 };

using Tile128x128 = GemmTile<128, 128, 8, 8, 2>;
using Tile128x64 = GemmTile<128, 64, 8, 4, 2>;
using Tile64x128 = GemmTile<64, 128, 4, 8, 2>;
using Tile64x64 = GemmTile<64, 64, 4, 4, 3>;
using Tile128x32 = GemmTile<128, 32, 8, 4, 4>;
using Tile32x32 = GemmTile<32, 32, 4, 4, 8>;

// Calls f(Tile{}) with the tile type for shape, so one generic lambda launches
// the matching kernel instantiation.
template <class F>
void with_tile(TileShape shape, F&& f) {
  switch (shape) {
    case TileShape::t128x128:
      f(Tile128x128{});
      break;
    case TileShape::t128x64:
      f(Tile128x64{});
      break;
    case TileShape::t64x128:
      f(Tile64x128{});
      break;
    case TileShape::t64x64:
      f(Tile64x64{});
      break;
    case TileShape::t128x32:
      f(Tile128x32{});
      break;
    case TileShape::t32x32:
      f(Tile32x32{});
      break;
  }
}

// How to run one GEMM: tile shape, blocks along M and N, and the split of the
// reduction (splits chunks of k_chunk, a multiple of BK; the last may be short).
struct GemmPlan {
  TileShape tile = TileShape::t128x128;
  int bm = 128, bn = 128;
  int splits = 1, k_chunk = 0;
};

// Chooses the plan from a cost model of an H100-class GPU (132 SMs). groups
// independent GEMMs of the same size run side by side (conv2d's stride phases).
// Depends only on its arguments, so the summation order, and thus every bit of
// the result, is the same on every run and every GPU.
GemmPlan plan_gemm(int64_t m, int64_t n, int64_t k, int groups = 1);

// Where a block writes: out (C, or split 0's scratch slice) and, when colsum is
// not null, the column sums of B (the bias gradient of the backward passes);
// split s writes s * split_stride further on. Split 0 alone adds the bias; relu
// is only set when there is a single split.
struct GemmArgs {
  int m = 0, n = 0, k = 0, k_chunk = 0;
  float* out = nullptr;
  float* colsum = nullptr;
  int64_t split_stride = 0;
  const float* bias = nullptr;
  bool relu = false;
};

// The host side of one GEMM: plans it, holds the split-K scratch (none with one
// split), fills the kernel arguments, and after the kernel is queued, finish()
// sums the splits into out (out_size floats) and colsum (n floats). The scratch
// goes back to the allocator on destruction, which is safe once the kernels
// that use it are queued: the allocator is ordered on the one stream.
class GemmLaunch {
 public:
  // groups: side-by-side GEMMs of at most m x n x k sharing one output (conv2d's
  // stride phases); they take blockIdx.z = group + groups * split.
  GemmLaunch(int64_t m, int64_t n, int64_t k, int groups, float* out, int64_t out_size, float* colsum,
             const float* bias, bool relu);
  ~GemmLaunch();
  GemmLaunch(const GemmLaunch&) = delete;
  GemmLaunch& operator=(const GemmLaunch&) = delete;

  const GemmPlan& plan() const { return plan_; }
  const GemmArgs& args() const { return args_; }
  dim3 grid() const;
  void finish(const std::string& context) const;

 private:
  GemmPlan plan_;
  GemmArgs args_;
  int groups_;
  float *out_, *colsum_;
  int64_t out_size_;
  bool relu_;
  float* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
};

// An operand says how to fetch element (d, k), d a row of A or a column of B:
//   k_contiguous      whether memory runs along k (then a warp's threads take
//                     consecutive k) or along d (consecutive d);
//   Outer outer(d)    the part of the address that depends on d, computed once;
//   Inner inner(k)    the part that depends on k, computed every tile;
//   load(outer, inner) the element, 0 where it is padding;
//   decode_per_block  for an operand read along d, whether inner() is costly
//                     enough to decode each tile's BK indices once per block
//                     into shared memory, rather than once per element.
// A plain operand: element (d, k) at p[d * ld + k] when k_contiguous (a row-major
// matrix read along its rows), else at p[k * ld + d]. Index int saves registers
// where the whole matrix has fewer than 2^31 elements.
template <bool KContiguous, class Index = int64_t>
struct StridedOperand {
  static constexpr bool k_contiguous = KContiguous, decode_per_block = false;
  using Outer = Index;
  using Inner = Index;
  const float* p;
  Index ld;
  __device__ __forceinline__ Outer outer(int d) const { return KContiguous ? d * ld : d; }
  __device__ __forceinline__ Inner inner(int k) const { return KContiguous ? k : k * ld; }
  __device__ __forceinline__ float load(Outer o, Inner i) const { return __ldg(p + o + i); }
};

// Output layouts: C[m, n] at out[row(m) + col(n)].
struct RowMajorOut {  // out[m * ld + n]
  int64_t ld;
  __device__ __forceinline__ int64_t row(int m) const { return m * ld; }
  __device__ __forceinline__ int64_t col(int n) const { return n; }
};
struct ColumnMajorOut {  // out[n * ld + m]
  int64_t ld;
  __device__ __forceinline__ int64_t row(int m) const { return m; }
  __device__ __forceinline__ int64_t col(int n) const { return n * ld; }
};

template <class A, class B, class C>
struct GemmProblem {
  A a;
  B b;
  C c;
};

// One operand tile [BK][BD] (BD = BM for A, BN for B): which elements thread t
// fetches, the per-row state computed once, and the registers that carry a tile
// from global to shared memory. Along a k-contiguous operand, consecutive
// threads take consecutive k, so a thread decodes one k per tile; otherwise
// consecutive d, and a thread's elements lie on several k rows, which come from
// the block's decode table when the operand asks for one.
template <class Op, int BD, int BK, int NT>
struct TileLoader {
  using Inner = typename Op::Inner;
  static constexpr bool k_major = Op::k_contiguous;
  static constexpr bool tabled = !k_major && Op::decode_per_block;
  static constexpr int count = BD * BK / NT;
  static constexpr int step = k_major ? NT / BK : NT / BD;  // between a thread's elements
  static constexpr int outers = k_major ? count : 1;
  static_assert(NT % (k_major ? BK : BD) == 0 && (k_major ? BD : BK) % step == 0, "tile does not split evenly");

  int k_local, d_local;
  typename Op::Outer outer[outers];
  bool outer_ok[outers];
  float regs[count];

  __device__ __forceinline__ TileLoader(const Op& op, int d_size, int d0, int t) {
    k_local = k_major ? t % BK : t / BD;
    d_local = k_major ? t / BK : t % BD;
#pragma unroll
    for (int e = 0; e < outers; ++e) {
      const int d = d0 + d_local + e * step;
      outer_ok[e] = d < d_size;
      outer[e] = op.outer(outer_ok[e] ? d : d0);
    }
  }

  // Fetches the tile whose first reduction index is k0; zeros past k_end or
  // d_size. table: the tile's decoded indices when tabled.
  __device__ __forceinline__ void fetch(const Op& op, int k0, int k_end, const Inner* table) {
    if constexpr (k_major) {
      const int k = k0 + k_local;
      const bool k_ok = k < k_end;
      const Inner in = op.inner(k_ok ? k : k0);
#pragma unroll
      for (int e = 0; e < count; ++e) regs[e] = k_ok && outer_ok[e] ? op.load(outer[e], in) : 0.0f;
    } else {
#pragma unroll
      for (int e = 0; e < count; ++e) {
        const int row = k_local + e * step;
        if (k0 + row < k_end && outer_ok[0]) {
          if constexpr (tabled)
            regs[e] = op.load(outer[0], table[row]);
          else
            regs[e] = op.load(outer[0], op.inner(k0 + row));
        } else {
          regs[e] = 0.0f;
        }
      }
    }
  }

  template <int LD>
  __device__ __forceinline__ void store(float (*tile)[LD]) const {
#pragma unroll
    for (int e = 0; e < count; ++e) {
      if constexpr (k_major)
        tile[k_local][d_local + e * step] = regs[e];
      else
        tile[k_local + e * step][d_local] = regs[e];
    }
  }
};

// The block at (m0, n0) accumulates A[m0.., k] B[k, n0..] over k in [k_begin,
// k_end) and writes its tile of C (plus bias, then relu) to out. With
// ColumnSums, colsum (when not null) receives the column sums of B over the
// same k range from the blocks of the first row of tiles (m0 == 0), read off
// the B tiles already in shared memory; without, the code and its register are
// compiled out. Block-uniform control flow only: every thread reaches every
// barrier.
template <class Tile, bool ColumnSums, class Problem>
__device__ __forceinline__ void gemm_block(const Problem& prob, int M, int N, int m0, int n0, int k_begin, int k_end,
                                           float* out, const float* bias, bool relu, float* colsum) {
  constexpr int BM = Tile::BM, BN = Tile::BN, BK = Tile::BK, TM = Tile::TM, TN = Tile::TN, NT = Tile::threads;
  constexpr int TMT = BM / TM, TNT = BN / TN;
  constexpr int LDA = BM + 4, LDB = BN + 4;
  static_assert(TM % 4 == 0 && TN % 4 == 0, "micro-tiles are made of float4 groups");
  __shared__ __align__(16) float as[2][BK][LDA];
  __shared__ __align__(16) float bs[2][BK][LDB];

  using LoadA = TileLoader<decltype(prob.a), BM, BK, NT>;
  using LoadB = TileLoader<decltype(prob.b), BN, BK, NT>;
  // Decode tables, two slots: tile j's indices live in slot j % 2, written two
  // steps ahead by threads [0, BK) for A and [BK, 2 BK) for B.
  __shared__ typename LoadA::Inner table_a[2][BK];
  __shared__ typename LoadB::Inner table_b[2][BK];

  const int t = threadIdx.x;
  const int tm = t % TMT, tn = t / TMT;  // m varies fastest across a warp
  const bool sum_columns = ColumnSums && colsum != nullptr && m0 == 0;
  auto decode = [&](int k0, int slot) {
    if (LoadA::tabled && t < BK) table_a[slot][t] = prob.a.inner(k0 + t);
    if (LoadB::tabled && t >= BK && t < 2 * BK) table_b[slot][t - BK] = prob.b.inner(k0 + t - BK);
  };

  LoadA la(prob.a, M, m0, t);
  LoadB lb(prob.b, N, n0, t);

  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.0f;
  float column_sum = 0.0f;

  if (k_begin < k_end) {
    if (LoadA::tabled || LoadB::tabled) {
      decode(k_begin, 0);
      decode(k_begin + BK, 1);
      __syncthreads();
    }
    la.fetch(prob.a, k_begin, k_end, table_a[0]);
    lb.fetch(prob.b, k_begin, k_end, table_b[0]);
    la.store(as[0]);
    lb.store(bs[0]);
    __syncthreads();
    int buf = 0;  // tile j sits in as[j % 2], bs[j % 2]
    for (int k0 = k_begin; k0 < k_end; k0 += BK) {
      const bool more = k0 + BK < k_end;
      if (more) {  // in flight while the current tile is multiplied out
        la.fetch(prob.a, k0 + BK, k_end, table_a[buf ^ 1]);
        lb.fetch(prob.b, k0 + BK, k_end, table_b[buf ^ 1]);
      }
#pragma unroll
      for (int kk = 0; kk < BK; ++kk) {
        float a[TM], b[TN];
#pragma unroll
        for (int q = 0; q < TM / 4; ++q) {
          const float4 v = *reinterpret_cast<const float4*>(&as[buf][kk][q * 4 * TMT + tm * 4]);
          a[4 * q] = v.x, a[4 * q + 1] = v.y, a[4 * q + 2] = v.z, a[4 * q + 3] = v.w;
        }
#pragma unroll
        for (int q = 0; q < TN / 4; ++q) {
          const float4 v = *reinterpret_cast<const float4*>(&bs[buf][kk][q * 4 * TNT + tn * 4]);
          b[4 * q] = v.x, b[4 * q + 1] = v.y, b[4 * q + 2] = v.z, b[4 * q + 3] = v.w;
        }
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
      if (sum_columns && t < BN)
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) column_sum += bs[buf][kk][t];
      if (more) {
        la.store(as[buf ^ 1]);
        lb.store(bs[buf ^ 1]);
      }
      // The current tile's slot was read by the fetch one step back: reuse it.
      if ((LoadA::tabled || LoadB::tabled) && k0 + 2 * BK < k_end) decode(k0 + 2 * BK, buf);
      __syncthreads();  // the next step reads buf ^ 1 and then overwrites buf
      buf ^= 1;
    }
  }

  int64_t col[TN];
  float bias_n[TN];
  bool col_ok[TN];
#pragma unroll
  for (int j = 0; j < TN; ++j) {
    const int n = n0 + (j / 4) * 4 * TNT + tn * 4 + j % 4;
    col_ok[j] = n < N;
    col[j] = col_ok[j] ? prob.c.col(n) : 0;
    bias_n[j] = bias != nullptr && col_ok[j] ? __ldg(bias + n) : 0.0f;
  }
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int m = m0 + (i / 4) * 4 * TMT + tm * 4 + i % 4;
    if (m >= M) continue;
    const int64_t row = prob.c.row(m);
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      if (!col_ok[j]) continue;
      float v = acc[i][j] + bias_n[j];
      if (relu) v = fmaxf(v, 0.0f);
      out[row + col[j]] = v;
    }
  }
  if (sum_columns && t < BN && n0 + t < N) colsum[n0 + t] = column_sum;
}

// The common kernel body: tile (blockIdx.x, blockIdx.y), split blockIdx.z.
template <class Tile, bool ColumnSums, class Problem>
__device__ __forceinline__ void gemm_kernel_body(const Problem& prob, const GemmArgs& args) {
  const int split = blockIdx.z;
  const int k_begin = split * args.k_chunk;
  const int k_end = args.k - k_begin < args.k_chunk ? args.k : k_begin + args.k_chunk;
  const int64_t offset = split * args.split_stride;
  gemm_block<Tile, ColumnSums>(prob, args.m, args.n, blockIdx.x * Tile::BM, blockIdx.y * Tile::BN, k_begin, k_end,
                               args.out + offset, split == 0 ? args.bias : nullptr, args.relu,
                               args.colsum ? args.colsum + offset : nullptr);
}

}  // namespace gpu
}  // namespace nebula
