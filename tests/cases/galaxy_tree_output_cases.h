// The decision-tree output's trees and shapes, written once. They drive the
// double-precision gradient check (tests/kernels/galaxy_tree_output_test.cpp:
// the edge cases small enough for finite differences) and the CPU-vs-GPU
// parity tests on both GPU backends (tests/cuda/galaxy_tree_output_parity_test.cpp:
// every edge case, the model outputs at batch 2 and 100). It is not benchmarked:
// one pass over 100 x 37 values.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/shape.h"
#include "kernels/galaxy_tree_output.h"

namespace nebula::cases {

// A tree from (first column, answers, parent column or -1) per question.
inline GalaxyTreeLayout galaxy_tree(int columns, const std::vector<std::vector<int>>& questions) {
  GalaxyTreeLayout t;
  t.columns = columns;
  t.questions = int(questions.size());
  for (size_t q = 0; q < questions.size(); ++q) {
    for (int a = 0; a < questions[q][1]; ++a) t.question_of[questions[q][0] + a] = int8_t(q);
    t.parent[q] = int8_t(questions[q][2]);
  }
  return t;
}

// Q1 (3 answers, everyone), Q2 (2 answers, led to by Q1's second), Q7 (3
// answers, led to by Q1's first): the real sample's shape in miniature,
// columns in Kaggle order 1.1 1.2 1.3 2.1 2.2 7.1 7.2 7.3.
inline GalaxyTreeLayout small_galaxy_tree() { return galaxy_tree(8, {{0, 3, -1}, {3, 2, 1}, {5, 3, 0}}); }

// The 37-column Kaggle tree, eleven questions.
inline GalaxyTreeLayout kaggle_galaxy_tree() {
  return galaxy_tree(37, {{0, 3, -1},
                          {3, 2, 1},
                          {5, 2, 4},
                          {7, 2, 4},
                          {9, 4, 4},
                          {13, 2, -1},
                          {15, 3, 0},
                          {18, 7, 13},
                          {25, 3, 3},
                          {28, 3, 7},
                          {31, 6, 7}});
}

struct GalaxyTreeCase {
  std::string name;  // why the case is here
  GalaxyTreeLayout tree;
  int rows;

  Shape x() const { return {rows, tree.columns}; }
};

inline std::string describe(const GalaxyTreeCase& c) {
  return "galaxy tree (" + c.name + ") over " + std::to_string(c.rows) + " rows of " + std::to_string(c.tree.columns) +
         " columns";
}

// One row, a few, rows past one block of 256 threads, on both trees.
inline std::vector<GalaxyTreeCase> galaxy_tree_output_edge_cases() {
  const GalaxyTreeLayout small = small_galaxy_tree(), kaggle = kaggle_galaxy_tree();
  return {
      {"small tree, one row", small, 1},   {"small tree", small, 4},   {"small tree, past one block", small, 300},
      {"Kaggle tree, one row", kaggle, 1}, {"Kaggle tree", kaggle, 7}, {"Kaggle tree, past one block", kaggle, 300},
  };
}

// A model's 37 outputs at batch n.
inline std::vector<GalaxyTreeCase> galaxy_tree_output_model_cases(int n) {
  return {{"outputs", kaggle_galaxy_tree(), n}};
}

}  // namespace nebula::cases
