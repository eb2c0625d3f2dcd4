// Whole-file reads and atomic writes. A write goes to a temporary file in the
// same folder, is flushed, then renamed over the target, so a reader (or a
// crash) never sees half a file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nebula::data {

// Reads a whole file. Returns false and sets *error ("no such file", ...) on failure.
bool read_file(const std::string& path, std::vector<uint8_t>* out, std::string* error);
// Reads a whole file or throws nebula::Error naming it.
std::string read_text_file(const std::string& path);

// Writes bytes to path atomically; throws nebula::Error naming the path on failure.
void write_file_atomic(const std::string& path, const void* data, size_t size);
inline void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}

// Creates a directory and its parents; throws on failure.
void make_directories(const std::string& path);
bool is_directory(const std::string& path);
bool is_file(const std::string& path);

}  // namespace nebula::data
