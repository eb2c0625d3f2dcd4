// The label CSV reader (data/labels.h), then the decision-tree check on what it accepts.
#include <cmath>
#include <cstdint>
#include <string>

#include "base/error.h"
#include "data/labels.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nebula::data::LabelTable table;
  try {
    table = nebula::data::parse_labels(std::string(reinterpret_cast<const char*>(data), size), "fuzz.csv");
  } catch (const nebula::Error&) {
    return 0;
  }
  // The promises of labels.h about an accepted file.
  FUZZ_EXPECT(table.columns.size() == table.class_indices.size());
  FUZZ_EXPECT(table.lines.size() == table.rows());
  FUZZ_EXPECT(table.values.size() == table.rows() * table.num_columns());
  for (int64_t id : table.ids) FUZZ_EXPECT(id > 0);
  for (float v : table.values) FUZZ_EXPECT(v >= 0.0f && v <= 1.0f);
  nebula::data::TreeReport report = nebula::data::check_label_tree(table);
  FUZZ_EXPECT(report.rows_off <= report.rows_checked);
  nebula::data::describe(report, table.path);
  return 0;
}
