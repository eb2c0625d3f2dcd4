// The Galaxy Zoo 2 decision tree behind the 37 Kaggle columns: which answers
// belong to which question, and which answer leads to each question. Every
// question's answers sum to the probability of its parent answer (1 for Q1
// and Q6, which everyone answers).
#pragma once
#include <string>
#include <vector>

#include "kernels/galaxy_tree_output.h"

namespace nebula::data {

constexpr int kNumClasses = 37;

struct Question {
  int number;  // 1..11
  int first;   // index of its first answer in the 37 columns
  int count;   // number of answers
  int parent;  // index of the answer leading to it, -1 for "everyone"
  const char* text;
};

// "Class1.1" ... "Class11.6", in the Kaggle column order.
const std::vector<std::string>& class_names();
// The 11 questions, in order of their columns.
const std::vector<Question>& questions();
// Index of a class name among the 37, or -1.
int class_index(const std::string& name);

// One question whose answers do not sum to their parent's probability.
struct TreeViolation {
  int question;     // 1..11
  double sum;       // sum of the answers
  double expected;  // parent probability (or 1)
};

// Checks the tree sums of one row whose values are given for `columns` (indices
// into the 37 classes, any subset). A question is checked only when all its
// answers and its parent are present. Violations larger than `tolerance` are
// appended to `out`.
void check_tree(const std::vector<int>& columns, const float* values, double tolerance,
                std::vector<TreeViolation>* out);

// A label set must hold whole questions: the first question (in Kaggle order)
// of which `classes` (indices into the 37) hold some answers but not all, as
// "Q11 (missing Class11.6)"; "" when every question is whole or absent.
std::string partial_question(const std::vector<int>& classes);

// The decision-tree output's layout over label columns given by name (any
// order, whole questions only): each column's question, each question's parent
// answer column. Throws nebula::Error, starting with `where`, naming a partial
// question, or a question whose parent answer is not among the columns.
GalaxyTreeLayout tree_layout(const std::vector<std::string>& columns, const std::string& where);

}  // namespace nebula::data
