// Whole-file reads refuse what is not a regular file without waiting on it, and
// atomic writes leave either the old file or the new one, never a temporary.
#include "base/file_io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "base/error.h"

namespace nebula {
namespace {

namespace fs = std::filesystem;

class FileIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nebula_file_io_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(FileIoTest, ReadsARegularFileWhole) {
  std::ofstream(path("a.bin"), std::ios::binary) << std::string("abc\0def", 7);
  std::vector<uint8_t> bytes;
  std::string error;
  ASSERT_TRUE(read_file(path("a.bin"), &bytes, &error)) << error;
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), std::string("abc\0def", 7));
}

// Without O_NONBLOCK the open() of a FIFO waits for a writer forever: this test
// would hang (ctest's timeout ends it) instead of failing fast.
TEST_F(FileIoTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  ASSERT_EQ(::mkfifo(path("1234.jpg").c_str(), 0644), 0);
  std::vector<uint8_t> bytes;
  std::string error;
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(read_file(path("1234.jpg"), &bytes, &error));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(error, "not a regular file (a FIFO)");
}

TEST_F(FileIoTest, DirectoriesDevicesAndMissingFilesAreNamed) {
  std::vector<uint8_t> bytes;
  std::string error;
  fs::create_directories(path("5678.jpg"));
  EXPECT_FALSE(read_file(path("5678.jpg"), &bytes, &error));
  EXPECT_EQ(error, "not a regular file (a directory)");
  EXPECT_FALSE(read_file("/dev/null", &bytes, &error));
  EXPECT_EQ(error, "not a regular file (a device)");
  EXPECT_FALSE(read_file(path("absent.jpg"), &bytes, &error));
  EXPECT_EQ(error, "missing file");
}

TEST_F(FileIoTest, ReadTextFileThrowsNamingTheFile) {
  ASSERT_EQ(::mkfifo(path("model.txt").c_str(), 0644), 0);
  try {
    read_text_file(path("model.txt"));
    FAIL() << "a FIFO was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path("model.txt") + ": not a regular file (a FIFO)"), std::string::npos)
        << e.what();
  }
}

TEST_F(FileIoTest, AnAtomicWriteReplacesTheFileAndLeavesNoTemporary) {
  write_file_atomic(path("out.csv"), std::string("old\n"));
  write_file_atomic(path("out.csv"), std::string("new\n"));
  EXPECT_EQ(read_text_file(path("out.csv")), "new\n");
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) entries += entry.path().filename() == "out.csv" ? 1 : 100;
  EXPECT_EQ(entries, 1);
}

TEST_F(FileIoTest, AnAbandonedAtomicWriteLeavesTheOldFile) {
  write_file_atomic(path("out.csv"), std::string("old\n"));
  {
    AtomicFile file(path("out.csv"));
    file.write("half", 4);
  }  // never committed: as if an error had been thrown while writing
  EXPECT_EQ(read_text_file(path("out.csv")), "old\n");
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) entries += entry.path().filename() == "out.csv" ? 1 : 100;
  EXPECT_EQ(entries, 1);
}

}  // namespace
}  // namespace nebula
