#include "train/run_directory.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "base/error.h"
#include "base/file_io.h"
#include "base/parse_number.h"

namespace nebula {

namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "an unknown host";
  return name;
}

// Takes the folder's lock or throws naming who holds it. The lock lasts as long
// as the descriptor (a killed run releases it with its process).
int take_lock(const std::string& folder) {
  const std::string path = folder + "/" + kRunLockName;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  NEBULA_CHECK(fd >= 0, folder, ": cannot create the run's lock file '", path, "': ", std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    char holder[320] = {};
    ssize_t n = ::pread(fd, holder, sizeof holder - 1, 0);
    ::close(fd);
    std::string who = n > 0 ? std::string(holder, size_t(n)) : "";
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    NEBULA_CHECK(error != EWOULDBLOCK, folder, ": another run is writing here (", who.empty() ? "unknown" : who,
                 "); wait for it to finish, or give another --out");
    NEBULA_FAIL(folder, ": cannot lock '", path, "': ", std::strerror(error));
  }
  const std::string me = "PID " + std::to_string(::getpid()) + " on " + host_name() + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != ssize_t(me.size()))
    std::fprintf(stderr, "warning: %s: could not record this run in its lock file\n", path.c_str());
  return fd;
}

}  // namespace

bool is_stale_temporary(const std::string& name, long* pid) {
  size_t tmp = name.rfind(".tmp.");
  if (tmp == std::string::npos || tmp == 0) return false;
  std::string rest = name.substr(tmp + 5);
  size_t dot = rest.find('.');
  long counter = 0;
  if (dot == std::string::npos || !parse_whole_number<long>(rest.substr(0, dot), 1, 1L << 30, pid) ||
      !parse_whole_number<long>(rest.substr(dot + 1), 0, std::numeric_limits<long>::max(), &counter))
    return false;
  return ::kill(pid_t(*pid), 0) != 0 && errno == ESRCH;
}

RunDirectory::RunDirectory(std::string path) : path_(std::move(path)) {
  make_directories(path_);
  lock_fd_ = take_lock(path_);
  // Only after the lock: no other run of this folder can be writing these.
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path_, error)) {
    long pid = 0;
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file(error) || !is_stale_temporary(name, &pid)) continue;
    if (std::filesystem::remove(entry.path(), error)) removed_.push_back(name);
  }
}

RunDirectory::~RunDirectory() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace nebula
