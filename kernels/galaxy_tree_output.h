// The Galaxy Zoo decision-tree output (Dieleman, Willett & Dambre 2015). Per row
// of C values, the columns are grouped into questions; each question q, of K_q
// answers, has the column of the answer that leads to it, parent(q), or none.
// With r = max(x, 0):
//   s_q = sum_{k in q} r_k + eps;   n_j = (r_j + eps / K_q) / s_q;   y_j = n_j * P_q,
// where P_q = y_parent(q) (1 for a question everyone answers). So each
// question's answers are non-negative and sum exactly to its parent's
// probability. Dieleman adds eps to the sum alone, so a question whose answers
// are all clipped to 0 gives 0 there; sharing eps among the answers gives such
// a question the even split instead, and changes nothing else a float can hold.
// Questions are ordered so a parent's question comes first.
// Backward, questions in reverse order, g starting as dy (dn_j/dr_k = ([j = k] - n_j) / s_q):
//   gn_j = g_j P_q;   g_parent(q) += sum_{j in q} g_j n_j;
//   dx_j = [x_j > 0] (gn_j - sum_{k in q} gn_k n_k) / s_q.
// Backward takes the input x and the output y (for the parents' P).
#pragma once
#include <cstdint>

#include "base/host_device.h"

namespace nebula {

// Dieleman's constant: keeps s_q > 0 when every answer of a question is clipped.
constexpr double kGalaxyTreeEpsilon = 1e-12;
constexpr int kGalaxyTreeMaxColumns = 64;
constexpr int kGalaxyTreeMaxQuestions = 16;

// The tree over the columns of one row, small enough to pass to a kernel by value.
struct GalaxyTreeLayout {
  int columns = 0;
  int questions = 0;
  int8_t question_of[kGalaxyTreeMaxColumns] = {};  // column -> its question, 0..questions-1
  int8_t parent[kGalaxyTreeMaxQuestions] = {};     // question -> column of its parent answer, or -1
};

// Checks the layout's invariants (every column in a question, parents earlier);
// throws nebula::Error naming the problem.
void validate(const GalaxyTreeLayout& layout);

// One row, forward: x and y hold layout.columns values.
// Each question's sum s_q and its share of eps, eps / K_q.
template <typename T>
NEBULA_HD void galaxy_tree_sums(const GalaxyTreeLayout& t, const T* x, T* sum, T* share) {
  int count[kGalaxyTreeMaxQuestions];
  for (int q = 0; q < t.questions; ++q) {
    sum[q] = T(kGalaxyTreeEpsilon);
    count[q] = 0;
  }
  for (int j = 0; j < t.columns; ++j) {
    sum[t.question_of[j]] += x[j] > T(0) ? x[j] : T(0);
    ++count[t.question_of[j]];
  }
  for (int q = 0; q < t.questions; ++q) share[q] = T(kGalaxyTreeEpsilon) / T(count[q]);
}

template <typename T>
NEBULA_HD void galaxy_tree_row_forward(const GalaxyTreeLayout& t, const T* x, T* y) {
  T sum[kGalaxyTreeMaxQuestions], share[kGalaxyTreeMaxQuestions];
  galaxy_tree_sums(t, x, sum, share);
  for (int q = 0; q < t.questions; ++q) {
    const T p = t.parent[q] < 0 ? T(1) : y[t.parent[q]];
    for (int j = 0; j < t.columns; ++j)
      if (t.question_of[j] == q) y[j] = ((x[j] > T(0) ? x[j] : T(0)) + share[q]) / sum[q] * p;
  }
}

// One row, backward: dx may not alias dy.
template <typename T>
NEBULA_HD void galaxy_tree_row_backward(const GalaxyTreeLayout& t, const T* x, const T* y, const T* dy, T* dx) {
  T sum[kGalaxyTreeMaxQuestions], share[kGalaxyTreeMaxQuestions], g[kGalaxyTreeMaxColumns];
  galaxy_tree_sums(t, x, sum, share);
  for (int j = 0; j < t.columns; ++j) g[j] = dy[j];
  for (int q = t.questions - 1; q >= 0; --q) {
    const T p = t.parent[q] < 0 ? T(1) : y[t.parent[q]];
    T to_parent = T(0), dot = T(0);
    for (int j = 0; j < t.columns; ++j) {
      if (t.question_of[j] != q) continue;
      const T n = ((x[j] > T(0) ? x[j] : T(0)) + share[q]) / sum[q];
      to_parent += g[j] * n;
      dot += g[j] * p * n;
    }
    for (int j = 0; j < t.columns; ++j)
      if (t.question_of[j] == q) dx[j] = x[j] > T(0) ? (g[j] * p - dot) / sum[q] : T(0);
    if (t.parent[q] >= 0) g[t.parent[q]] += to_parent;
  }
}

namespace ref {
// rows x layout.columns values, row-major.
template <typename T>
void galaxy_tree_forward(const GalaxyTreeLayout& layout, int64_t rows, const T* x, T* y);
template <typename T>
void galaxy_tree_backward(const GalaxyTreeLayout& layout, int64_t rows, const T* x, const T* y, const T* dy, T* dx);
}  // namespace ref

// GPU path: device pointers, one thread a row, work queued on gpu::stream().
namespace cuda {
void galaxy_tree_forward(const GalaxyTreeLayout& layout, int64_t rows, const float* x, float* y);
void galaxy_tree_backward(const GalaxyTreeLayout& layout, int64_t rows, const float* x, const float* y, const float* dy,
                          float* dx);
}  // namespace cuda
}  // namespace nebula
