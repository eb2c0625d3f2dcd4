#include "data/galaxy_tree.h"

#include <cmath>
#include <unordered_map>

#include "base/error.h"

namespace nebula::data {

const std::vector<Question>& questions() {
  static const std::vector<Question> list = {
      {1, 0, 3, -1, "smooth / features or disk / star or artifact"},
      {2, 3, 2, 1, "edge-on?"},
      {3, 5, 2, 4, "bar?"},
      {4, 7, 2, 4, "spiral arms?"},
      {5, 9, 4, 4, "bulge prominence"},
      {6, 13, 2, -1, "anything odd?"},
      {7, 15, 3, 0, "how rounded"},
      {8, 18, 7, 13, "odd feature"},
      {9, 25, 3, 3, "bulge shape (edge-on)"},
      {10, 28, 3, 7, "arm tightness"},
      {11, 31, 6, 7, "number of arms"},
  };
  return list;
}

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Question& q : questions())
      for (int a = 0; a < q.count; ++a) out.push_back("Class" + std::to_string(q.number) + "." + std::to_string(a + 1));
    return out;
  }();
  return names;
}

int class_index(const std::string& name) {
  static const std::unordered_map<std::string, int> index = [] {
    std::unordered_map<std::string, int> out;
    for (size_t i = 0; i < class_names().size(); ++i) out[class_names()[i]] = static_cast<int>(i);
    return out;
  }();
  auto it = index.find(name);
  return it == index.end() ? -1 : it->second;
}

void check_tree(const std::vector<int>& columns, const float* values, double tolerance,
                std::vector<TreeViolation>* out) {
  int position[kNumClasses];
  for (int& p : position) p = -1;
  for (size_t i = 0; i < columns.size(); ++i) position[columns[i]] = static_cast<int>(i);
  for (const Question& q : questions()) {
    double expected = 1.0;
    if (q.parent >= 0) {
      if (position[q.parent] < 0) continue;
      expected = values[position[q.parent]];
    }
    double sum = 0.0;
    bool complete = true;
    for (int a = 0; a < q.count; ++a) {
      int p = position[q.first + a];
      if (p < 0) {
        complete = false;
        break;
      }
      sum += values[p];
    }
    if (complete && std::fabs(sum - expected) > tolerance) out->push_back({q.number, sum, expected});
  }
}

std::string partial_question(const std::vector<int>& classes) {
  std::vector<bool> present(kNumClasses, false);
  for (int c : classes) present.at(size_t(c)) = true;
  for (const Question& q : questions()) {
    std::string missing;
    int found = 0;
    for (int a = 0; a < q.count; ++a) {
      if (present[size_t(q.first + a)]) {
        ++found;
      } else {
        missing += (missing.empty() ? "" : ", ") + class_names()[size_t(q.first + a)];
      }
    }
    if (found > 0 && found < q.count) return "Q" + std::to_string(q.number) + " (missing " + missing + ")";
  }
  return "";
}

GalaxyTreeLayout tree_layout(const std::vector<std::string>& columns, const std::string& where) {
  std::vector<int> position(kNumClasses, -1), classes;
  for (size_t j = 0; j < columns.size(); ++j) {
    const int c = class_index(columns[j]);
    NEBULA_CHECK(c >= 0, where, ": '", columns[j], "' is not a Galaxy Zoo class (Class1.1 ... Class11.6)");
    NEBULA_CHECK(position[size_t(c)] < 0, where, ": ", columns[j], " appears twice");
    position[size_t(c)] = int(j);
    classes.push_back(c);
  }
  NEBULA_CHECK(int(columns.size()) <= kGalaxyTreeMaxColumns, where, ": ", columns.size(), " columns, over the ",
               kGalaxyTreeMaxColumns, " the tree output holds");
  const std::string partial = partial_question(classes);
  NEBULA_CHECK(partial.empty(), where, ": the tree output needs whole questions, and ", partial,
               " has only some of its answers");
  GalaxyTreeLayout layout;
  layout.columns = int(columns.size());
  for (const Question& q : questions()) {  // Kaggle order puts every parent's question first
    if (position[size_t(q.first)] < 0) continue;
    const int id = layout.questions++;
    for (int a = 0; a < q.count; ++a) layout.question_of[position[size_t(q.first + a)]] = int8_t(id);
    NEBULA_CHECK(q.parent < 0 || position[size_t(q.parent)] >= 0, where, ": the tree output needs Q", q.number,
                 "'s parent answer ", q.parent < 0 ? "" : class_names()[size_t(q.parent)], " among the columns");
    layout.parent[id] = int8_t(q.parent < 0 ? -1 : position[size_t(q.parent)]);
  }
  validate(layout);
  return layout;
}

}  // namespace nebula::data
