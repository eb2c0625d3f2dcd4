#include "base/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/error.h"

namespace nebula {

namespace {

const char* kind_of_file(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "another special file";
}

}  // namespace

bool read_file(const std::string& path, std::vector<uint8_t>* out, std::string* error) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below);
  // it changes nothing for the regular files that are read.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    *error = errno == ENOENT ? "missing file" : std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    *error = std::string("cannot stat: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    *error = std::string("not a regular file (") + kind_of_file(st.st_mode) + ")";
    return false;
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t n = ::read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      *error = n == 0 ? "file shrank while reading" : std::string("read failed: ") + std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return true;
}

std::string read_text_file(const std::string& path) {
  std::vector<uint8_t> bytes;
  std::string error;
  NEBULA_CHECK(read_file(path, &bytes, &error), path, ": ", error);
  return std::string(bytes.begin(), bytes.end());
}

AtomicFile::AtomicFile(std::string destination) : destination_(std::move(destination)) {
  // A name unique to this process and call, so concurrent writers in one folder never collide.
  static std::atomic<uint64_t> counter{0};
  temp_ = destination_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  NEBULA_CHECK(fd_ >= 0, destination_, " cannot be written: creating the temporary file '", temp_,
               "' failed: ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFile::write(const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, bytes, size);
    if (n < 0 && errno == EINTR) continue;
    NEBULA_CHECK(n > 0, destination_, " cannot be written: writing '", temp_,
                 "' failed: ", n < 0 ? std::strerror(errno) : "no progress");
    bytes += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  NEBULA_CHECK(::fsync(fd_) == 0, destination_, " cannot be written: fsync of '", temp_,
               "' failed: ", std::strerror(errno));
  int fd = fd_;
  fd_ = -1;
  NEBULA_CHECK(::close(fd) == 0, destination_, " cannot be written: closing '", temp_,
               "' failed: ", std::strerror(errno));
  NEBULA_CHECK(::rename(temp_.c_str(), destination_.c_str()) == 0, destination_, " cannot be written: renaming '",
               temp_, "' into place failed: ", std::strerror(errno));
  committed_ = true;
  size_t slash = destination_.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : destination_.substr(0, slash));
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);  // best effort: some filesystems refuse fsync on a directory
    ::close(dir_fd);
  }
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  AtomicFile file(path);
  file.write(data, size);
  file.commit();
}

void make_directories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  NEBULA_CHECK(!ec, "cannot create directory ", path, ": ", ec.message());
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace nebula
