// Multi-view input (Dieleman, Willett & Dambre 2015): each square image
// x [N, C, S, S] is cut into V views, stacked view-major into one batch
// y [V N, C, s, s] that a shared convolutional stack then reads at once:
//   y[v N + n, c, p] = sum_t w[v, p, t] x[n, c, src[v, p, t]]
// for up to four taps t per output pixel p (one for the exact views, four
// bilinear ones for views turned by 45 degrees). The table of taps depends
// only on the kind of views and the sizes, so it is built once on the host.
// Backward is the transpose, a gather over the table inverted per input
// pixel (so no two threads add into one value, and reruns are bit-identical):
//   dx[n, c, i] = sum_{(v, p, w) with src = i} w dy[v N + n, c, p].
//
// View v of the kinds:
//   rotations (4): v quarter turns counter-clockwise;
//   dihedral (8):  v % 4 quarter turns, then for v >= 4 a left-right flip
//                  (data/dihedral.h's order);
//   dieleman (16): dihedral view v % 8 of the image, turned first by 45
//                  degrees when v >= 8;
// each then cut to its top-left s x s corner (all of it when s = S). The 45
// degree turn samples as PyTorch's grid_sample(affine_grid(theta), bilinear,
// zeros, align_corners=False) with theta = [[c, -s, 0], [s, c, 0]], c = s = 1/sqrt(2).
// Dieleman's 16 views of 45 x 45 from 69 x 69 are four overlapping corner
// patches of the image, its flip and their 45 degree turns, each turned so
// the galaxy's centre lies in the same (bottom-right) corner.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nebula {

enum class ViewKind { Rotations, Dihedral, Dieleman };

// "rotations", "dihedral", "dieleman"; and back (throws nebula::Error on another name).
const char* view_kind_name(ViewKind kind);
ViewKind parse_view_kind(const std::string& name);
int view_count(ViewKind kind);

// Where output pixel (y, x) of dihedral view `view` (0..7) of an S x S image
// comes from: undo the flip, then each quarter turn.
inline void dihedral_source(int view, int64_t size, int64_t y, int64_t x, int64_t* source_y, int64_t* source_x) {
  int64_t sy = y, sx = view >= 4 ? size - 1 - x : x;
  for (int turn = 0; turn < view % 4; ++turn) {  // a counter-clockwise turn puts (x, S-1-y) at (y, x)
    const int64_t ty = sx, tx = size - 1 - sy;
    sy = ty;
    sx = tx;
  }
  *source_y = sy;
  *source_x = sx;
}

// The taps of every view, per plane, and their transpose.
struct ViewTable {
  ViewKind kind = ViewKind::Dihedral;
  int views = 0, in_size = 0, out_size = 0;
  int taps = 1;                // per output pixel: 1, or 4 when some view is turned by 45 degrees
  std::vector<int32_t> index;  // [views, out_size^2, taps]: input pixel, or -1 (a zero)
  std::vector<float> weight;   // the same layout
  // Transpose: the entries of input pixel i are start[i] .. start[i + 1] - 1;
  // entry e names output pixel v * out_size^2 + p in `entry` and its weight.
  std::vector<int32_t> start, entry;
  std::vector<float> entry_weight;

  int64_t in_pixels() const { return int64_t(in_size) * in_size; }
  int64_t out_pixels() const { return int64_t(out_size) * out_size; }
};

// The table for `kind` from S x S images to s x s views (0 < s <= S, S * S *
// views < 2^31); throws nebula::Error on sizes that do not work.
ViewTable make_view_table(ViewKind kind, int in_size, int out_size);

// A table's arrays where a kernel reads them (host or device pointers).
struct ViewTableArrays {
  int views = 0, in_size = 0, out_size = 0, taps = 1;
  const int32_t* index = nullptr;
  const float* weight = nullptr;
  const int32_t* start = nullptr;
  const int32_t* entry = nullptr;
  const float* entry_weight = nullptr;
};
ViewTableArrays host_arrays(const ViewTable& table);

namespace ref {
// x [batch, channels, S, S] -> y [views batch, channels, s, s]; overwrites y.
template <typename T>
void views_forward(const ViewTableArrays& t, int64_t batch, int64_t channels, const T* x, T* y);
// dy [views batch, channels, s, s] -> dx [batch, channels, S, S]; overwrites dx.
template <typename T>
void views_backward(const ViewTableArrays& t, int64_t batch, int64_t channels, const T* dy, T* dx);
}  // namespace ref

namespace cuda {  // device pointers (the table's too), work queued on gpu::stream()
void views_forward(const ViewTableArrays& t, int64_t batch, int64_t channels, const float* x, float* y);
void views_backward(const ViewTableArrays& t, int64_t batch, int64_t channels, const float* dy, float* dx);
}  // namespace cuda

}  // namespace nebula
