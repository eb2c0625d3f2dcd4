// check_images names each broken file by GalaxyID and path, and counts the rest.
#include <gtest/gtest.h>

#include "data/check.h"
#include "data_test_util.h"

namespace nebula::data {
namespace {

TEST(Check, NamesBrokenImagesAndCountsSizes) {
  test::TempDir dir;
  make_directories(dir.file("images"));
  std::vector<uint8_t> rgb = test::pattern_image(64, 48);
  std::vector<uint8_t> jpeg = encode_jpeg(rgb.data(), 64, 48, 3);
  write_file_atomic(dir.file("images/1.jpg"), jpeg.data(), jpeg.size());
  write_file_atomic(dir.file("images/2.jpg"), jpeg.data(), jpeg.size() - 40);
  write_file_atomic(dir.file("images/3.jpg"), "", 0);
  write_file_atomic(dir.file("images/9.jpg"), jpeg.data(), jpeg.size());  // no label row
  write_file_atomic(dir.file("labels.csv"),
                    "GalaxyID,Class6.1,Class6.2\n1,0.5,0.5\n2,0.5,0.5\n3,0.5,0.5\n4,0.25,0.5\n");
  Dataset data = open_dataset(dir.file("images"), dir.file("labels.csv"));
  EXPECT_EQ(data.missing_images, 1u);
  EXPECT_EQ(data.unlabelled_images, 1u);
  EXPECT_EQ(data.tree.rows_off, 1u);  // row 4: Q6 sums to 0.75
  CheckReport report = check_images(data, CheckOptions{2, nullptr});
  EXPECT_EQ(report.rows, 4u);
  EXPECT_EQ(report.decoded, 1u);
  EXPECT_EQ(report.sizes["64x48"], 1u);
  ASSERT_EQ(report.broken.size(), 3u);
  EXPECT_EQ(report.broken[0].id, 2);
  EXPECT_EQ(report.broken[0].path, dir.file("images/2.jpg"));
  EXPECT_NE(report.broken[0].reason.find("JPEG"), std::string::npos) << report.broken[0].reason;
  EXPECT_EQ(report.broken[1].reason, "empty file");
  EXPECT_EQ(report.broken[2].reason, "missing file");
  EXPECT_EQ(describe(report.broken[2]), "GalaxyID 4 (" + dir.file("images/4.jpg") + "): missing file");
}

}  // namespace
}  // namespace nebula::data
