#include "data/labels.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "base/error.h"
#include "base/file_io.h"

namespace nebula::data {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

void split_fields(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      fields->push_back(trim(line.substr(start)));
      return;
    }
    fields->push_back(trim(line.substr(start, comma - start)));
    start = comma + 1;
  }
}

std::string quoted(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = "'";
  out += s.size() > kMax ? std::string(s.substr(0, kMax)) + "..." : std::string(s);
  return out + "'";
}

// A cell as a number, parsed whole: "0.5abc", "1e-50abc" and "+-1" are not
// numbers. A value too small even for a subnormal float, as 1e-50 or 1e-99999,
// is a vote fraction of 0 to every digit a float keeps, so it is read as 0; one
// too large for a float is left as infinity, for the range check to refuse.
bool parse_value(std::string_view cell, float* value) {
  // from_chars rejects a leading '+', which some writers emit.
  std::string_view digits = !cell.empty() && cell.front() == '+' ? cell.substr(1) : cell;
  if (digits.empty() || (digits.size() < cell.size() && digits.front() == '-')) return false;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), *value);
  if (end != digits.data() + digits.size()) return false;
  if (error == std::errc::result_out_of_range) {
    // The whole text is a well-formed number: strtod says which way it left the range.
    double wide = std::strtod(std::string(digits).c_str(), nullptr);
    *value = std::fabs(wide) < 1.0 ? 0.0f : static_cast<float>(wide);
    return true;
  }
  return error == std::errc();
}

// The header: GalaxyID, then known class names, each once.
void read_header(const std::vector<std::string_view>& fields, const std::string& where, LabelTable* table) {
  NEBULA_CHECK(fields[0] == "GalaxyID", where, ": column 1: the header must start with GalaxyID, found ",
               quoted(fields[0]));
  table->columns.assign(fields.begin() + 1, fields.end());
  table->class_indices = column_class_indices(table->columns, where, 2);
  NEBULA_CHECK(!table->columns.empty(), where, ": the header names no Class columns after GalaxyID");
  // A question with some answers missing has no tree to check and no tree output to train.
  const std::string partial = partial_question(table->class_indices);
  NEBULA_CHECK(partial.empty(), where, ": the header holds only some answers of ", partial,
               "; a label set holds every answer of each question it has");
}

int64_t read_id(std::string_view id_text, const std::string& where) {
  int64_t id = 0;
  auto [id_end, id_err] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  NEBULA_CHECK(id_err == std::errc() && id_end == id_text.data() + id_text.size() && id > 0, where,
               ": column 1 (GalaxyID): ", quoted(id_text), " is not a positive integer");
  return id;
}

void read_values(const std::vector<std::string_view>& fields, const std::string& where, LabelTable* table) {
  for (size_t c = 1; c < fields.size(); ++c) {
    std::string_view cell = fields[c];
    float value = 0.0f;
    const std::string column = detail::concat(where, ": column ", c + 1, " (", table->columns[c - 1], "): ");
    NEBULA_CHECK(parse_value(cell, &value), column,
                 cell.empty() ? std::string("empty value") : quoted(cell) + " is not a number");
    NEBULA_CHECK(!std::isnan(value), column, "value is NaN");
    NEBULA_CHECK(value >= 0.0f && value <= 1.0f, column, "value ", quoted(cell), " is outside [0, 1]");
    table->values.push_back(value);
  }
}

}  // namespace

std::vector<int> column_class_indices(const std::vector<std::string>& columns, const std::string& where,
                                      int first_column) {
  std::vector<int> indices;
  std::unordered_map<std::string, int> seen;
  for (size_t c = 0; c < columns.size(); ++c) {
    const int number = first_column + static_cast<int>(c);
    int index = class_index(columns[c]);
    NEBULA_CHECK(index >= 0, where, ": column ", number, ": unknown column ", quoted(columns[c]),
                 " (expected Galaxy Zoo class names Class1.1 ... Class11.6)");
    auto [it, fresh] = seen.emplace(columns[c], number);
    NEBULA_CHECK(fresh, where, ": column ", number, ": duplicate column ", quoted(columns[c]), " (also column ",
                 it->second, ")");
    indices.push_back(index);
  }
  return indices;
}

LabelTable read_labels(const std::string& path) { return parse_labels(read_text_file(path), path); }

LabelTable parse_labels(const std::string& text, const std::string& path) {
  LabelTable table;
  table.path = path;
  std::string_view all(text);
  if (all.size() >= 3 && all.substr(0, 3) == "\xEF\xBB\xBF") all.remove_prefix(3);  // UTF-8 BOM

  std::vector<std::string_view> fields;
  std::unordered_map<int64_t, int> first_line_of_id;
  int line_number = 0;
  bool have_header = false;
  for (size_t pos = 0; pos < all.size();) {
    size_t end = all.find('\n', pos);
    if (end == std::string_view::npos) end = all.size();
    std::string_view line = all.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (trim(line).empty()) continue;  // blank lines (a trailing one, or pandas-style gaps)
    split_fields(line, &fields);
    const std::string where = detail::concat(path, ":", line_number);
    if (!have_header) {
      read_header(fields, where, &table);
      have_header = true;
      continue;
    }
    const size_t width = table.columns.size() + 1;
    NEBULA_CHECK(fields.size() == width, where, ": row has ", fields.size(), " fields, the header has ", width);
    const int64_t id = read_id(fields[0], where);
    auto [it, fresh] = first_line_of_id.emplace(id, line_number);
    NEBULA_CHECK(fresh, where, ": column 1 (GalaxyID): duplicate GalaxyID ", id, " (first on line ", it->second, ")");
    read_values(fields, where, &table);
    table.ids.push_back(id);
    table.lines.push_back(line_number);
  }
  NEBULA_CHECK(have_header, path, ": empty file, expected a header GalaxyID,Class1.1,...");
  return table;
}

void write_labels(const std::string& path, const std::vector<std::string>& columns, const std::vector<int64_t>& ids,
                  const std::vector<float>& values) {
  NEBULA_CHECK(values.size() == ids.size() * columns.size(), "write_labels: ", ids.size(), " rows of ", columns.size(),
               " columns need ", ids.size() * columns.size(), " values, got ", values.size());
  std::string text = "GalaxyID";
  for (const std::string& c : columns) text += "," + c;
  text += "\n";
  char buffer[32];
  for (size_t r = 0; r < ids.size(); ++r) {
    text += std::to_string(ids[r]);
    for (size_t c = 0; c < columns.size(); ++c) {
      std::snprintf(buffer, sizeof(buffer), ",%.7g", values[r * columns.size() + c]);
      text += buffer;
    }
    text += "\n";
  }
  write_file_atomic(path, text);
}

TreeReport check_label_tree(const LabelTable& table, double tolerance) {
  TreeReport report;
  report.off_per_question.assign(questions().size(), 0);
  std::vector<int> present(kNumClasses, 0);
  for (int c : table.class_indices) present[c] = 1;
  for (const Question& q : questions()) {
    bool all = q.parent < 0 || present[q.parent];
    for (int a = 0; a < q.count; ++a) all = all && present[q.first + a];
    if (all) report.questions_checked.push_back(q.number);
  }
  std::vector<TreeViolation> violations;
  for (size_t r = 0; r < table.rows(); ++r) {
    violations.clear();
    check_tree(table.class_indices, table.row(r), 0.0, &violations);
    ++report.rows_checked;
    bool off = false;
    for (const TreeViolation& v : violations) {
      double deviation = std::fabs(v.sum - v.expected);
      report.largest_deviation = std::max(report.largest_deviation, deviation);
      if (deviation <= tolerance) continue;
      off = true;
      ++report.off_per_question[v.question - 1];
      if (report.examples.size() < 5) report.examples.push_back({table.ids[r], table.lines[r], v});
    }
    report.rows_off += off ? 1 : 0;
  }
  return report;
}

std::vector<std::string> describe(const TreeReport& report, const std::string& path) {
  std::vector<std::string> lines;
  for (const Question& q : questions()) {
    size_t count = report.off_per_question.empty() ? 0 : report.off_per_question[q.number - 1];
    if (count == 0) continue;
    std::string parent = q.parent < 0 ? "1" : class_names()[q.parent];
    lines.push_back(detail::concat("warning: ", path, ": Q", q.number, " (", q.text, ") answers do not sum to ", parent,
                                   " in ", count, " of ", report.rows_checked, " rows"));
  }
  for (const TreeReport::Example& e : report.examples) {
    char buffer[160];
    std::snprintf(buffer, sizeof(buffer), "warning: %s:%d: GalaxyID %lld: Q%d sums to %.6f, expected %.6f",
                  path.c_str(), e.line, static_cast<long long>(e.id), e.violation.question, e.violation.sum,
                  e.violation.expected);
    lines.push_back(buffer);
  }
  return lines;
}

}  // namespace nebula::data
