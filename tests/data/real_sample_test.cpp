// The real Galaxy Zoo sample in ../shared/data/galaxyzoo (5,000 Kaggle JPEGs and
// 17 of the 37 label columns): it opens, its tree sums hold, every image decodes
// whole, and the loader makes sane batches from it. Skipped where it is absent.
#include <gtest/gtest.h>

#include "data/check.h"
#include "data/loader.h"
#include "data/split.h"
#include "data_test_util.h"

namespace nebula::data {
namespace {

Dataset open_sample() {
  return open_dataset(test::real_sample_dir() + "/images", test::real_sample_dir() + "/labels_partial.csv");
}

TEST(RealSample, OpensWithItsSeventeenColumns) {
  NEBULA_SKIP_WITHOUT_REAL_SAMPLE();
  Dataset data = open_sample();
  EXPECT_EQ(data.rows(), 5000u);
  ASSERT_EQ(data.num_columns(), 17u);
  EXPECT_EQ(data.columns.front(), "Class1.1");
  EXPECT_EQ(data.columns.back(), "Class8.7");
  EXPECT_EQ(data.missing_images, 0u);
  EXPECT_EQ(data.unlabelled_images, 0u);
  EXPECT_EQ(data.tree.questions_checked, (std::vector<int>{1, 2, 6, 7, 8}));
  EXPECT_EQ(data.tree.rows_off, 0u);
  EXPECT_LT(data.tree.largest_deviation, 1e-5);
}

TEST(RealSample, EveryImageDecodesWhole) {
  NEBULA_SKIP_WITHOUT_REAL_SAMPLE();
  Dataset data = open_sample();
  CheckReport report = check_images(data);
  EXPECT_EQ(report.decoded, 5000u);
  EXPECT_TRUE(report.broken.empty()) << describe(report.broken.front());
  EXPECT_EQ(report.sizes["424x424"], 5000u);
}

TEST(RealSample, LoaderMakesTheStudysInputs) {
  NEBULA_SKIP_WITHOUT_REAL_SAMPLE();
  Dataset data = open_sample();
  Split split = make_split(data.rows(), SplitSpec::counts(200, 100, 0, 0, 1));
  LoaderOptions o;
  o.batch_size = 100;
  o.preprocess = Preprocess{250, 70};
  o.augment = true;
  o.shuffle = true;
  Loader loader(data, split.train, o);
  loader.start_epoch(0);
  Batch batch;
  size_t seen = 0;
  double sum = 0.0;
  while (loader.next(&batch)) {
    ASSERT_EQ(batch.images.shape(), (Shape{100, 3, 70, 70}));
    ASSERT_EQ(batch.labels.shape(), (Shape{100, 17}));
    for (float v : batch.images.to_vector()) {
      ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
      sum += v;
    }
    seen += batch.size();
  }
  EXPECT_EQ(seen, 200u);
  EXPECT_EQ(loader.skipped(), 0u);
  // Dark sky around a brighter galaxy: the crop's mean sits well above the full image's 9.8/255.
  double mean = sum / (200.0 * 3 * 70 * 70);
  EXPECT_GT(mean, 10.0 / 255.0);
  EXPECT_LT(mean, 80.0 / 255.0);
}

}  // namespace
}  // namespace nebula::data
