// The views' merge shapes, written once. They drive the CPU reference's
// gradient checks (tests/kernels/view_merge_test.cpp: every edge case), the
// CPU-vs-GPU parity tests (tests/cuda/view_merge_parity_test.cpp: every case,
// the model layers at a small batch) and the kernel benchmark
// (benchmarks/bench_kernels.cpp: the model layers at batch 100).
#pragma once
#include <string>
#include <vector>

#include "engine/shape.h"
#include "kernels/view_merge.h"

namespace nebula::cases {

struct ViewMergeCase {
  std::string name;  // why the case is here
  ViewMergeParams p;

  Shape x() const { return {p.views * p.batch, p.features}; }
  Shape y() const { return {p.batch, p.merge == ViewMerge::Concat ? p.views * p.features : p.features}; }
};

inline std::string describe(const ViewMergeCase& c) {
  return "view merge (" + c.name + ") " + (c.p.merge == ViewMerge::Concat ? "concat" : "mean") + " x " +
         to_string(c.x()) + " -> " + to_string(c.y());
}

inline std::vector<ViewMergeCase> view_merge_edge_cases() {
  return {
      {"16 views concatenated", {ViewMerge::Concat, 16, 3, 5}},
      {"8 views averaged", {ViewMerge::Mean, 8, 2, 7}},
      {"one view", {ViewMerge::Concat, 1, 4, 3}},
      {"one view, mean", {ViewMerge::Mean, 1, 4, 3}},
      {"one feature", {ViewMerge::Concat, 4, 3, 1}},
      {"one image", {ViewMerge::Mean, 16, 1, 6}},
  };
}

// The merges of the built-in dieleman (16 x 512) and cnn2-views (16 x 256) models.
inline std::vector<ViewMergeCase> view_merge_model_cases(int n) {
  return {
      {"dieleman_merge", {ViewMerge::Concat, 16, n, 512}},
      {"cnn2_views_merge", {ViewMerge::Concat, 16, n, 256}},
  };
}

}  // namespace nebula::cases
