// A run's --out folder: one run at a time (the second refuses, naming the
// first), and temporaries that a killed run left are removed, while a live
// writer's are kept.
#include "train/run_directory.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/error.h"

namespace nebula {
namespace {

namespace fs = std::filesystem;

class RunDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = fs::temp_directory_path() / ("nebula_run_dir_" + std::to_string(::getpid())); }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// The PID of a process that has ended (and been reaped): no process has it now.
long ended_process() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return long(child);
}

TEST_F(RunDirectoryTest, ASecondRunOnTheFolderRefusesNamingTheFirst) {
  RunDirectory first(dir_.string());
  try {
    RunDirectory second(dir_.string());
    ADD_FAILURE() << "two runs held " << dir_;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(dir_.string() + ": another run is writing here (PID " + std::to_string(::getpid()) + " on "),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("give another --out"), std::string::npos) << what;
  }
}

TEST_F(RunDirectoryTest, TheLockEndsWithTheRun) {
  { RunDirectory first(dir_.string()); }
  RunDirectory again(dir_.string());  // no throw
  EXPECT_TRUE(fs::exists(dir_ / kRunLockName));
}

TEST_F(RunDirectoryTest, AKilledRunsTemporariesAreRemovedAndALiveOnesKept) {
  fs::create_directories(dir_);
  const std::string dead = "last.safetensors.tmp." + std::to_string(ended_process()) + ".0";
  const std::string live = "history.csv.tmp." + std::to_string(::getpid()) + ".3";
  for (const std::string& name : {dead, live, std::string("notes.tmp.txt"), std::string("history.csv")})
    std::ofstream(dir_ / name) << "x";
  RunDirectory run(dir_.string());
  EXPECT_EQ(run.removed(), std::vector<std::string>{dead});
  EXPECT_FALSE(fs::exists(dir_ / dead));
  EXPECT_TRUE(fs::exists(dir_ / live));
  EXPECT_TRUE(fs::exists(dir_ / "notes.tmp.txt"));
  EXPECT_TRUE(fs::exists(dir_ / "history.csv"));
}

TEST(StaleTemporary, OnlyAtomicFileNamesOfEndedProcessesCount) {
  long pid = 0;
  const long ended = ended_process();
  EXPECT_TRUE(is_stale_temporary("a.csv.tmp." + std::to_string(ended) + ".12", &pid));
  EXPECT_EQ(pid, ended);
  EXPECT_FALSE(is_stale_temporary("a.csv.tmp." + std::to_string(::getpid()) + ".12", &pid));
  for (const char* name :
       {"a.csv", "a.tmp", ".tmp.5.1", "a.tmp.x.1", "a.tmp.5", "a.tmp.5.x", "a.tmp.-5.1", "a.tmp.5.1.2"})
    EXPECT_FALSE(is_stale_temporary(name, &pid)) << name;
}

}  // namespace
}  // namespace nebula
