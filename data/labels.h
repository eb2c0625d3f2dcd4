// The Galaxy Zoo label file: `GalaxyID,Class1.1,...` with any subset of the 37
// Kaggle columns, one row per galaxy. Reading validates it completely and
// refuses a malformed file with an error naming the file, the line and the
// column; the decision-tree sums are checked separately because real vote
// fractions may be off by rounding, which is a warning, not an error.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/galaxy_tree.h"

namespace nebula::data {

struct LabelTable {
  std::string path;
  std::vector<std::string> columns;  // class names in file order, e.g. "Class1.1"
  std::vector<int> class_indices;    // each column's index among the 37 classes
  std::vector<int64_t> ids;          // GalaxyID per row
  std::vector<int> lines;            // 1-based line of each row in the file
  std::vector<float> values;         // rows x columns, row-major

  size_t rows() const { return ids.size(); }
  size_t num_columns() const { return columns.size(); }
  const float* row(size_t i) const { return values.data() + i * columns.size(); }
};

// Reads and validates a label file: header GalaxyID then known Class names,
// each once; every row as long as the header; positive integer IDs, unique;
// numbers in [0,1], each cell parsed whole, no NaN. Throws nebula::Error "FILE:LINE: column C (NAME): ...".
LabelTable read_labels(const std::string& path);
// The same from text already in memory; `path` only names it in errors.
LabelTable parse_labels(const std::string& text, const std::string& path);
// Each column's index among the 37 classes, checked: every name a Galaxy Zoo
// class, none twice. For any list of columns (a header, a checkpoint's
// metadata); errors read "WHERE: column N: ...", N counting from first_column.
std::vector<int> column_class_indices(const std::vector<std::string>& columns, const std::string& where,
                                      int first_column = 1);

// Writes a label file atomically (temporary file, then rename). Values are
// written with enough digits that the tree sums survive to about 1e-6.
void write_labels(const std::string& path, const std::vector<std::string>& columns, const std::vector<int64_t>& ids,
                  const std::vector<float>& values);

struct TreeReport {
  size_t rows_checked = 0;
  size_t rows_off = 0;                   // rows with at least one violation
  std::vector<size_t> off_per_question;  // index q-1: rows where question q is off
  std::vector<int> questions_checked;    // question numbers whose columns are all present
  double largest_deviation = 0.0;
  struct Example {
    int64_t id;
    int line;
    TreeViolation violation;
  };
  std::vector<Example> examples;  // the first few, for the warning
};

// Checks every row's decision-tree sums against the tolerance (the design's 1e-3).
TreeReport check_label_tree(const LabelTable& table, double tolerance = 1e-3);
// One warning line per offending question plus examples; empty when all sums hold.
std::vector<std::string> describe(const TreeReport& report, const std::string& path);

}  // namespace nebula::data
