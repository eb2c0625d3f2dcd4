// The safetensors format (https://github.com/huggingface/safetensors), so that
// checkpoints and test fixtures open in PyTorch and friends:
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   a JSON object: {"name": {"dtype": "F32", "shape": [2, 3],
//             "data_offsets": [begin, end]}, ..., "__metadata__": {"key": "value"}}
//   the rest  the tensors' bytes, little-endian; offsets are relative to here.
// The reader trusts nothing: the header length against the file size, the JSON,
// every dtype, shape and offset, that the tensors tile the data exactly (no gap,
// no overlap, nothing left over), and that no name repeats. Every error names the
// file. F32 is read as it is; F64, F16, BF16, I64, I32, U8 and BOOL are converted
// to float (torch stores BatchNorm's num_batches_tracked as I64). The writer
// writes F32 only, to a temporary file in the destination's directory, fsyncs it
// and renames it into place, so the destination is either the old file or the
// complete new one, never a partial write.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace nebula {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // as stored in the file ("F32", "I64", ...)
  Tensor tensor;      // float32 on the CPU, the file's shape ([] for a scalar)
};

class SafetensorsFile {
 public:
  SafetensorsFile() = default;
  SafetensorsFile(std::string path, std::vector<SafetensorsEntry> entries, std::map<std::string, std::string> metadata);

  const std::string& path() const { return path_; }
  // In the order of their data in the file.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  bool contains(const std::string& name) const;
  // Throws, naming the file and the tensor, when it is absent.
  const Tensor& at(const std::string& name) const;
  // The metadata value, or throws naming the file and the key.
  const std::string& meta(const std::string& key) const;

 private:
  std::string path_;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

SafetensorsFile read_safetensors(const std::string& path);
// Parses an in-memory image of a file; `path` only names it in errors.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& path);

// Tensors are written as F32 in the order given, from any device. Names must be
// unique, non-empty and not "__metadata__".
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace nebula
