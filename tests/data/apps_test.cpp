// The data apps end to end: make_galaxies writes a set check_data accepts,
// check_data refuses a malformed label file with one clear line and a non-zero
// exit, and preview writes a PNG.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>

#include "data/image_io.h"
#include "data_test_util.h"
#include "tests/app_path.h"

namespace nebula::data {
namespace {

struct Outcome {
  int status;
  std::string output;  // stdout and stderr
};

Outcome run(const std::string& command) {
  std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  EXPECT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(DataApps, MakeCheckAndPreview) {
  test::TempDir dir;
  Outcome made = run(nebula::test::app_path(MAKE_GALAXIES) + " --out " + dir.path() + " --count 12 --seed 3");
  ASSERT_EQ(made.status, 0) << made.output;
  EXPECT_NE(made.output.find("wrote 12 galaxies"), std::string::npos) << made.output;

  Outcome checked = run(nebula::test::app_path(CHECK_DATA) + " --data " + dir.path());
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("37 columns"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("12 decoded, 0 broken"), std::string::npos) << checked.output;
  EXPECT_NE(checked.output.find("result: usable"), std::string::npos) << checked.output;

  // A broken image is named, and the set is still usable.
  const std::string image = dir.path() + "/images_training_rev1/100004.jpg";
  write_file_atomic(image, "not a jpeg");
  checked = run(nebula::test::app_path(CHECK_DATA) + " --data " + dir.path());
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("broken: GalaxyID 100004 (" + image + "): not a JPEG or PNG file"), std::string::npos)
      << checked.output;

  Outcome previewed = run(nebula::test::app_path(PREVIEW) + " --data " + dir.path() + " --crop 250 --count 2 --augmented 3 --out " +
                      dir.file("preview.png"));
  ASSERT_EQ(previewed.status, 0) << previewed.output;
  std::vector<uint8_t> png;
  std::string error;
  ASSERT_TRUE(read_file(dir.file("preview.png"), &png, &error)) << error;
  ImageDecoder decoder;
  Image picture;
  ASSERT_TRUE(decoder.decode(png.data(), png.size(), 1, &picture, &error)) << error;
  EXPECT_EQ(picture.width, 5 * 140 + 6 * 4);
  EXPECT_EQ(picture.height, 2 * 140 + 3 * 4);

  // A malformed label file: one line naming file, line and column; exit 1.
  std::string csv = read_text_file(dir.file("training_solutions_rev1.csv"));
  csv.replace(csv.find("Class1.2"), 8, "Class1.1");
  write_file_atomic(dir.file("training_solutions_rev1.csv"), csv);
  checked = run(nebula::test::app_path(CHECK_DATA) + " --data " + dir.path());
  EXPECT_EQ(checked.status, 1) << checked.output;
  EXPECT_EQ(checked.output, "check_data: error: " + dir.file("training_solutions_rev1.csv") +
                                ":1: column 3: duplicate column 'Class1.1' (also column 2)\n");
}

TEST(DataApps, BadArgumentsFailClearly) {
  Outcome missing = run(nebula::test::app_path(MAKE_GALAXIES) + " --count 3");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("--out is required"), std::string::npos) << missing.output;
  Outcome nowhere = run(nebula::test::app_path(CHECK_DATA) + " --data /nonexistent/galaxies");
  EXPECT_EQ(nowhere.status, 1);
  EXPECT_NE(nowhere.output.find("check_data: error: /nonexistent/galaxies: data folder not found"), std::string::npos)
      << nowhere.output;
}

}  // namespace
}  // namespace nebula::data
