// The synthetic galaxies: labels obey the decision tree exactly, vary, depend on
// what was drawn, and the whole set is deterministic for a seed.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "data/check.h"
#include "data/dataset.h"
#include "data/synth.h"
#include "data_test_util.h"

namespace nebula::data {
namespace {

TEST(Synth, LabelsObeyTheTreeAndVary) {
  std::vector<int> all(kNumClasses);
  for (int i = 0; i < kNumClasses; ++i) all[i] = i;
  SynthOptions options;
  options.size = 64;
  std::vector<double> sum(kNumClasses), sum2(kNumClasses);
  std::map<std::string, int> kinds;
  const int n = 300;
  for (int i = 0; i < n; ++i) {
    SynthGalaxy g = render_galaxy(3, uint64_t(i), options);
    ASSERT_EQ(g.rgb.size(), size_t(64 * 64 * 3));
    std::vector<TreeViolation> violations;
    check_tree(all, g.labels.data(), 1e-5, &violations);
    ASSERT_TRUE(violations.empty()) << "galaxy " << i << " Q" << violations[0].question << " sums to "
                                    << violations[0].sum << ", expected " << violations[0].expected;
    for (int c = 0; c < kNumClasses; ++c) {
      ASSERT_GE(g.labels[c], 0.0f);
      ASSERT_LE(g.labels[c], 1.0f);
      sum[c] += g.labels[c];
      sum2[c] += double(g.labels[c]) * g.labels[c];
    }
    ++kinds[g.kind];
  }
  for (int c = 0; c < kNumClasses; ++c) {
    double mean = sum[c] / n, sd = std::sqrt(std::max(0.0, sum2[c] / n - mean * mean));
    EXPECT_GT(sd, 0.01) << class_names()[c] << " hardly varies";
  }
  EXPECT_GE(kinds.size(), 6u);  // ellipticals, disks, spirals, edge-on, stars, irregulars, barred ...
}

TEST(Synth, LabelsFollowWhatWasDrawn) {
  // Mean Class1.1 (smooth) is high for ellipticals, Class2.1 (edge-on) for edge-on disks,
  // Class1.3 (star) for stars.
  std::map<std::string, std::vector<double>> means;
  std::map<std::string, int> counts;
  SynthOptions options;
  options.size = 48;
  for (int i = 0; i < 400; ++i) {
    SynthGalaxy g = render_galaxy(8, uint64_t(i), options);
    auto& m = means[g.kind];
    m.resize(kNumClasses);
    for (int c = 0; c < kNumClasses; ++c) m[c] += g.labels[c];
    ++counts[g.kind];
  }
  for (auto& [kind, m] : means)
    for (double& v : m) v /= counts[kind];
  EXPECT_GT(means["elliptical"][class_index("Class1.1")], 0.6);
  EXPECT_GT(means["edge-on"][class_index("Class2.1")], 0.5);
  EXPECT_GT(means["star"][class_index("Class1.3")], 0.5);
  EXPECT_GT(means["spiral"][class_index("Class4.1")], 0.4);
  EXPECT_GT(means["barred disk"][class_index("Class3.1")] + means["barred spiral"][class_index("Class3.1")], 0.5);
}

TEST(Synth, DeterministicForASeed) {
  SynthOptions options;
  options.size = 80;
  SynthGalaxy a = render_galaxy(1, 17, options), b = render_galaxy(1, 17, options), c = render_galaxy(2, 17, options);
  EXPECT_EQ(a.rgb, b.rgb);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_NE(a.rgb, c.rgb);
}

TEST(Synth, MakeGalaxiesWritesAUsableKaggleSet) {
  test::TempDir dir;
  make_galaxies(dir.path(), 24, 4, 2, SynthOptions{}, 500);
  Dataset data = open_kaggle(dir.path());
  ASSERT_EQ(data.rows(), 24u);
  EXPECT_EQ(data.ids.front(), 500);
  EXPECT_EQ(data.num_columns(), 37u);
  EXPECT_EQ(data.tree.rows_off, 0u);
  EXPECT_LT(data.tree.largest_deviation, 1e-5);
  EXPECT_EQ(data.tree.questions_checked.size(), 11u);
  CheckReport report = check_images(data);
  EXPECT_EQ(report.decoded, 24u);
  EXPECT_EQ(report.sizes["424x424"], 24u);
  // No temporary files are left behind.
  for (auto& entry : std::filesystem::directory_iterator(dir.path() + "/images_training_rev1"))
    EXPECT_EQ(entry.path().extension(), ".jpg") << entry.path();
  // Same seed, same files.
  test::TempDir again;
  make_galaxies(again.path(), 24, 4, 1, SynthOptions{}, 500);
  EXPECT_EQ(read_text_file(dir.file("training_solutions_rev1.csv")),
            read_text_file(again.file("training_solutions_rev1.csv")));
  EXPECT_EQ(read_text_file(dir.file("images_training_rev1/510.jpg")),
            read_text_file(again.file("images_training_rev1/510.jpg")));
}

}  // namespace
}  // namespace nebula::data
