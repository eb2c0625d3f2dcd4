// The label file: valid subsets parse, every malformation is refused with the
// file, line and column, and the decision-tree sums are checked.
#include <gtest/gtest.h>

#include <cmath>

#include "base/error.h"
#include "data/labels.h"
#include "data_test_util.h"

namespace nebula::data {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_labels(text, "labels.csv");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Labels, ClassNamesFollowTheTree) {
  ASSERT_EQ(class_names().size(), 37u);
  EXPECT_EQ(class_names()[0], "Class1.1");
  EXPECT_EQ(class_names()[36], "Class11.6");
  EXPECT_EQ(class_index("Class8.7"), 24);
  EXPECT_EQ(class_index("Class12.1"), -1);
  int total = 0;
  for (const Question& q : questions()) total += q.count;
  EXPECT_EQ(total, 37);
}

TEST(Labels, ParsesASubsetOfColumns) {
  LabelTable t = parse_labels(
      "GalaxyID,Class1.1,Class1.2,Class1.3,Class7.1,Class7.2,Class7.3\r\n100008,0.25,0.75,0.0,0.25,0,0\r\n"
      "100023,0.5,0.4,0.1,0.5,0,0\r\n\r\n",
      "labels.csv");
  ASSERT_EQ(t.rows(), 2u);
  ASSERT_EQ(t.num_columns(), 6u);
  EXPECT_EQ(t.class_indices[3], 15);
  EXPECT_EQ(t.ids[1], 100023);
  EXPECT_EQ(t.lines[1], 3);
  EXPECT_FLOAT_EQ(t.row(1)[2], 0.1f);
}

TEST(Labels, RefusesMalformedFilesNamingLineAndColumn) {
  const std::string header = "GalaxyID,Class1.1,Class1.2,Class1.3\n";
  struct Case {
    const char* what;
    std::string text;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"empty file", "", "labels.csv: empty file"},
      {"bad first column", "ID,Class1.1\n1,0.5\n", "labels.csv:1: column 1: the header must start with GalaxyID"},
      {"unknown column", "GalaxyID,Class1.1,Class12.1\n", "labels.csv:1: column 3: unknown column 'Class12.1'"},
      {"duplicate column", "GalaxyID,Class1.1,Class1.2,Class1.1\n",
       "labels.csv:1: column 4: duplicate column 'Class1.1' (also column 2)"},
      {"no classes", "GalaxyID\n1\n", "labels.csv:1: the header names no Class columns"},
      {"short row", header + "100008,0.5,0.5,0.0\n100023,0.5,0.5\n",
       "labels.csv:3: row has 3 fields, the header has 4"},
      {"long row", header + "100008,0.5,0.5,0.0,0.1\n", "labels.csv:2: row has 5 fields, the header has 4"},
      {"NaN", header + "100008,0.5,nan,0.5\n", "labels.csv:2: column 3 (Class1.2): value is NaN"},
      {"out of range", header + "100008,0.5,1.5,0.0\n",
       "labels.csv:2: column 3 (Class1.2): value '1.5' is outside [0, 1]"},
      {"negative", header + "100008,-0.1,1.0,0.1\n",
       "labels.csv:2: column 2 (Class1.1): value '-0.1' is outside [0, 1]"},
      {"not a number", header + "100008,0.5,abc,0.0\n", "labels.csv:2: column 3 (Class1.2): 'abc' is not a number"},
      {"trailing garbage", header + "100008,0.5,0.5abc,0.0\n",
       "labels.csv:2: column 3 (Class1.2): '0.5abc' is not a number"},
      {"tiny number with garbage", header + "100008,0.5,0.5,1e-50abc\n",
       "labels.csv:2: column 4 (Class1.3): '1e-50abc' is not a number"},
      {"underflow with garbage", header + "100008,1e-99999zzz,0.5,0.5\n",
       "labels.csv:2: column 2 (Class1.1): '1e-99999zzz' is not a number"},
      {"overflow", header + "100008,0.5,1e99999,0.0\n",
       "labels.csv:2: column 3 (Class1.2): value '1e99999' is outside [0, 1]"},
      {"too large for a float", header + "100008,0.5,1e39,0.0\n",
       "labels.csv:2: column 3 (Class1.2): value '1e39' is outside [0, 1]"},
      {"sign only", header + "100008,0.5,+,0.0\n", "labels.csv:2: column 3 (Class1.2): '+' is not a number"},
      {"two signs", header + "100008,0.5,+-0.5,0.0\n", "labels.csv:2: column 3 (Class1.2): '+-0.5' is not a number"},
      {"empty value", header + "100008,0.5,,0.5\n", "labels.csv:2: column 3 (Class1.2): empty value"},
      {"bad id", header + "10x08,0.5,0.5,0.0\n",
       "labels.csv:2: column 1 (GalaxyID): '10x08' is not a positive integer"},
      {"duplicate id", header + "100008,0.5,0.5,0.0\n100023,0.5,0.5,0.0\n100008,0.5,0.5,0.0\n",
       "labels.csv:4: column 1 (GalaxyID): duplicate GalaxyID 100008 (first on line 2)"},
  };
  for (const Case& c : cases) {
    std::string message = error_of(c.text);
    EXPECT_NE(message.find(c.expected), std::string::npos) << c.what << ": got '" << message << "'";
  }
}

TEST(Labels, TinyNumbersAreZeroOnPurpose) {
  // Smaller than any float, however far: a vote fraction of 0. A subnormal (1e-40) is kept.
  LabelTable t =
      parse_labels("GalaxyID,Class1.1,Class1.2,Class1.3\n1,1e-50,1e-99999,+1\n2,1e-40,-1e-50,0.25\n", "labels.csv");
  ASSERT_EQ(t.values.size(), 6u);
  EXPECT_EQ(t.values[0], 0.0f);
  EXPECT_EQ(t.values[1], 0.0f);
  EXPECT_EQ(t.values[2], 1.0f);
  EXPECT_GT(t.values[3], 0.0f);
  EXPECT_LT(t.values[3], 1e-39f);
  EXPECT_EQ(t.values[4], 0.0f);
  EXPECT_FALSE(std::signbit(t.values[4]));
  EXPECT_EQ(t.values[5], 0.25f);
}

TEST(Labels, EveryColumnNamedTwiceIsRefused) {
  // All 37 classes, then all 37 again: the first repeat is named with its first place.
  std::string header = "GalaxyID";
  for (int round = 0; round < 2; ++round)
    for (const std::string& name : class_names()) header += "," + name;
  std::string message = error_of(header + "\n");
  EXPECT_NE(message.find("labels.csv:1: column 39: duplicate column 'Class1.1' (also column 2)"), std::string::npos)
      << message;
  // Quoting or spacing a name does not make it another column.
  message = error_of("GalaxyID,Class1.1, \"Class1.1\"\n");
  EXPECT_NE(message.find("labels.csv:1: column 3: duplicate column 'Class1.1' (also column 2)"), std::string::npos)
      << message;
}

TEST(Labels, ColumnListsFromElsewhereAreChecked) {
  EXPECT_EQ(column_class_indices({"Class1.1", "Class7.1"}, "run.safetensors: metadata 'columns'"),
            (std::vector<int>{0, 15}));
  try {
    column_class_indices({"Class1.1", "Class1.2", "Class1.1"}, "run.safetensors: metadata 'columns'");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "run.safetensors: metadata 'columns': column 3: duplicate column 'Class1.1' (also column 1)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Labels, MissingFileIsNamed) {
  try {
    read_labels("/nonexistent/labels.csv");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/labels.csv: missing file"), std::string::npos) << e.what();
  }
}

TEST(Labels, TreeSumsAreCheckedAsWarnings) {
  // Row 2 breaks Q7 (sums to 0.5, Class1.1 is 0.6); Q8 has no parent column (Class6.1): unchecked.
  LabelTable t = parse_labels(
      "GalaxyID,Class1.1,Class1.2,Class1.3,Class7.1,Class7.2,Class7.3,Class8.1,Class8.2,Class8.3,Class8.4,Class8.5,"
      "Class8.6,Class8.7\n"
      "1,0.6,0.3,0.1,0.2,0.2,0.2,0.5,0,0,0,0,0,0\n"
      "2,0.6,0.3,0.1,0.2,0.2,0.1,0.5,0,0,0,0,0,0\n"
      "3,0.6,0.3,0.1,0.2,0.2,0.2005,0.5,0,0,0,0,0,0\n",
      "labels.csv");
  TreeReport report = check_label_tree(t);
  EXPECT_EQ(report.questions_checked, (std::vector<int>{1, 7}));
  EXPECT_EQ(report.rows_checked, 3u);
  EXPECT_EQ(report.rows_off, 1u);  // row 3 is within 1e-3
  EXPECT_EQ(report.off_per_question[6], 1u);
  ASSERT_EQ(report.examples.size(), 1u);
  EXPECT_EQ(report.examples[0].id, 2);
  EXPECT_EQ(report.examples[0].line, 3);
  std::vector<std::string> lines = describe(report, "labels.csv");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("Q7"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("GalaxyID 2"), std::string::npos) << lines[1];
}

// A question with only some of its answers has no tree: such a header is
// refused, naming the question and what it lacks (37 columns less Class11.6 too).
TEST(Labels, PartialQuestionsAreRefusedNamingWhatIsMissing) {
  std::string header = "GalaxyID";
  for (const std::string& name : class_names())
    if (name != "Class11.6") header += "," + name;
  try {
    parse_labels(header + "\n", "labels.csv");
    ADD_FAILURE() << "a header without Class11.6 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels.csv:1: the header holds only some answers of Q11 (missing "
                                         "Class11.6); a label set holds every answer of each question it has"),
              std::string::npos)
        << e.what();
  }
  try {
    parse_labels("GalaxyID,Class1.1,Class1.2,Class1.3,Class2.1\n", "labels.csv");
    ADD_FAILURE() << "Q2 without Class2.2 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Q2 (missing Class2.2)"), std::string::npos) << e.what();
  }
}

TEST(Labels, WriteThenReadRoundTrips) {
  test::TempDir dir;
  std::vector<std::string> columns = {"Class1.1", "Class1.2", "Class1.3"};
  std::vector<int64_t> ids = {5, 7};
  std::vector<float> values = {0.1234567f, 0.8f, 0.0765433f, 1.0f, 0.0f, 0.0f};
  write_labels(dir.file("labels.csv"), columns, ids, values);
  LabelTable t = read_labels(dir.file("labels.csv"));
  EXPECT_EQ(t.columns, columns);
  EXPECT_EQ(t.ids, ids);
  for (size_t i = 0; i < values.size(); ++i) EXPECT_NEAR(t.values[i], values[i], 1e-7);
  // Only the finished file is in the folder: the temporary was renamed.
  size_t files = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir.path())) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace nebula::data
