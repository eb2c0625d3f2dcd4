// A training run's --out folder, held for the run's life: an exclusive lock
// (a second run on the same folder refuses, naming the first's PID and host),
// stale temporaries of Nebula's own naming removed at start, and the names of
// the files the run writes there.
#pragma once
#include <string>
#include <vector>

namespace nebula {

class RunDirectory {
 public:
  // Makes the folder, takes its lock (throws naming the holder when another
  // process has it) and removes temporaries whose writer is no longer running.
  explicit RunDirectory(std::string path);
  ~RunDirectory();
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;

  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::string last_checkpoint() const { return file("last.safetensors"); }
  std::string best_checkpoint() const { return file("best.safetensors"); }
  std::string history() const { return file("history.csv"); }
  // The stale temporaries removed when the folder was opened.
  const std::vector<std::string>& removed() const { return removed_; }

 private:
  std::string path_;
  int lock_fd_ = -1;
  std::vector<std::string> removed_;
};

// The name of the lock file inside a run's folder.
constexpr const char* kRunLockName = ".nebula-run.lock";

// Whether `name` is a temporary of AtomicFile's naming ("<file>.tmp.<pid>.<n>")
// whose process is not running on this machine; *pid is set when it is such a name.
bool is_stale_temporary(const std::string& name, long* pid);

}  // namespace nebula
