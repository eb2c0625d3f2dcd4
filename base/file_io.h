// Whole-file reads and atomic writes. A write goes to a temporary file in the
// same folder, is flushed, then renamed over the target, so a reader (or a
// crash) never sees half a file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nebula {

// Reads a whole file. Returns false and sets *error ("no such file", ...) on failure.
bool read_file(const std::string& path, std::vector<uint8_t>* out, std::string* error);
// Reads a whole file or throws nebula::Error naming it.
std::string read_text_file(const std::string& path);

// A file written in place of `destination` only once complete: the bytes go to a
// temporary file beside it, which commit() fsyncs and renames over the
// destination (then fsyncs the folder, so the rename survives a crash). Until
// then, and if anything throws, the destination is untouched and the temporary
// file is removed. Errors name the destination.
class AtomicFile {
 public:
  explicit AtomicFile(std::string destination);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);
  void commit();

 private:
  std::string destination_, temp_;
  int fd_ = -1;
  bool committed_ = false;
};

// Writes bytes to path atomically (AtomicFile); throws nebula::Error naming the path on failure.
void write_file_atomic(const std::string& path, const void* data, size_t size);
inline void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

// Creates a directory and its parents; throws on failure.
void make_directories(const std::string& path);
bool is_directory(const std::string& path);
bool is_file(const std::string& path);

}  // namespace nebula
