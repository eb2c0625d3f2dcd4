// PyTorch .pth files (torch.save of a state_dict, the zip format PyTorch has
// written since 1.6), read without Python and without trusting the file:
//   <archive>/data.pkl     the state_dict, pickled (protocol 2; 3-5 accepted)
//   <archive>/data/<key>   each storage's raw bytes, little-endian
//   <archive>/byteorder    "little" (absent in older files, which are little too)
// The zip is read with libzip. The pickle goes through a restricted unpickler:
// it knows only the opcodes a state_dict uses (dicts, tuples, lists, strings,
// integers, booleans, None, the memo, GLOBAL, REDUCE, BUILD, BINPERSID) and the
// globals collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch._utils._rebuild_parameter and torch.<Float|Double|Half|BFloat16|Long|Int|
// Short|Char|Byte|Bool>Storage; it builds values, never calls anything, and any
// other opcode or global is refused with its name and its offset in data.pkl.
// Every tensor's sizes, strides and offset are checked against its storage's
// length, strided tensors are gathered into contiguous ones, and all dtypes are
// converted to float32. The legacy pre-1.6 format is recognised and refused
// with a hint to re-save. Every error names the file.
#pragma once
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace nebula {

struct PthEntry {
  std::string name;
  std::string dtype;  // the storage's type, safetensors-style: "F32", "F16", "I64", ...
  Tensor tensor;      // float32 on the CPU, the stored shape ([] for a scalar)
};

// In the state_dict's order. A checkpoint dict holding the state_dict under
// "state_dict" or "model" (and no tensors at its top level) is unwrapped.
std::vector<PthEntry> read_pth(const std::string& path);
// Parses an in-memory image of a file; `path` only names it in errors.
std::vector<PthEntry> parse_pth(const std::string& bytes, const std::string& path);

}  // namespace nebula
