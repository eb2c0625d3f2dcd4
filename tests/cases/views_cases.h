// The views' shapes, written once. They drive the CPU reference's gradient
// checks (tests/kernels/views_test.cpp: every edge case), the CPU-vs-GPU
// parity tests (tests/cuda/views_parity_test.cpp: every case, the model
// layers at a small batch) and the kernel benchmark
// (benchmarks/bench_kernels.cpp: the model layers at batch 100).
#pragma once
#include <string>
#include <vector>

#include "engine/shape.h"
#include "kernels/views.h"

namespace nebula::cases {

struct ViewsCase {
  std::string name;  // why the case is here
  ViewKind kind;
  int batch, channels, in_size, out_size;

  Shape x() const { return {batch, channels, in_size, in_size}; }
  Shape y() const { return {int64_t(view_count(kind)) * batch, channels, out_size, out_size}; }
};

inline std::string describe(const ViewsCase& c) {
  return "views (" + c.name + ") " + view_kind_name(c.kind) + " x " + to_string(c.x()) + " -> " + to_string(c.y());
}

inline std::vector<ViewsCase> views_edge_cases() {
  return {
      {"one pixel", ViewKind::Dihedral, 1, 1, 1, 1},
      {"odd side", ViewKind::Dihedral, 2, 3, 5, 5},
      {"even side, quarter turns", ViewKind::Rotations, 2, 2, 4, 4},
      {"dihedral cut to a corner", ViewKind::Dihedral, 1, 2, 7, 4},
      {"Dieleman's, odd", ViewKind::Dieleman, 2, 3, 11, 7},
      {"Dieleman's, uncut", ViewKind::Dieleman, 1, 2, 9, 9},
      {"Dieleman's, even", ViewKind::Dieleman, 1, 1, 10, 6},
      {"Dieleman's, 2 -> 1", ViewKind::Dieleman, 3, 1, 2, 1},
  };
}

// The views of the built-in dieleman and cnn2-views models (69 -> 45), and
// dihedral views of cnn2's 70x70 input.
inline std::vector<ViewsCase> views_model_cases(int n) {
  return {
      {"dieleman_views", ViewKind::Dieleman, n, 3, 69, 45},
      {"cnn2_dihedral", ViewKind::Dihedral, n, 3, 70, 70},
  };
}

}  // namespace nebula::cases
