#include "engine/safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "base/file_io.h"

namespace nebula {

namespace {

// The format is little-endian; so is every machine Nebula builds for.
static_assert(sizeof(float) == 4, "float32 is required");
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors I/O assumes a little-endian host"
#endif

// A header larger than this is not a tensor file (the reference reader uses the same bound).
constexpr uint64_t kMaxHeaderBytes = 100u << 20;
// Nesting the header may have: tensors hold a shape list, metadata only strings.
constexpr int kMaxHeaderDepth = 8;

#define SAFETENSORS_CHECK(cond, path, ...) NEBULA_CHECK(cond, "safetensors file '", path, "': ", __VA_ARGS__)

int dtype_size(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "U8" || dtype == "BOOL") return 1;
  return 0;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h >> 15) << 31;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff, bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf or nan
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int shift = 0;
    while (!(mantissa & 0x400)) mantissa <<= 1, ++shift;
    bits = sign | (uint32_t(113 - shift) << 23) | ((mantissa & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

void convert(const std::string& dtype, const char* src, int64_t n, float* dst) {
  if (dtype == "F32") {
    if (n > 0) std::memcpy(dst, src, size_t(n) * 4);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == "F64")
      dst[i] = float(load<double>(src + 8 * i));
    else if (dtype == "F16")
      dst[i] = half_to_float(load<uint16_t>(src + 2 * i));
    else if (dtype == "BF16") {
      uint32_t bits = uint32_t(load<uint16_t>(src + 2 * i)) << 16;
      std::memcpy(dst + i, &bits, 4);
    } else if (dtype == "I64")
      dst[i] = float(load<int64_t>(src + 8 * i));
    else if (dtype == "I32")
      dst[i] = float(load<int32_t>(src + 4 * i));
    else
      dst[i] = float(uint8_t(src[i]));  // U8, BOOL
  }
}

std::string shape_text(const Shape& shape) { return to_string(shape); }

uint64_t json_offset(const nlohmann::json& v, const std::string& path, const std::string& name) {
  SAFETENSORS_CHECK(v.is_number_unsigned(), path, "tensor '", name, "' has a data offset ", v.dump(),
                    " that is not a non-negative integer");
  return v.get<uint64_t>();
}

struct Parsed {
  std::string name, dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

}  // namespace

SafetensorsFile::SafetensorsFile(std::string path, std::vector<SafetensorsEntry> entries,
                                 std::map<std::string, std::string> metadata)
    : path_(std::move(path)), entries_(std::move(entries)), metadata_(std::move(metadata)) {
  for (size_t i = 0; i < entries_.size(); ++i) index_[entries_[i].name] = i;
}

bool SafetensorsFile::contains(const std::string& name) const { return index_.count(name) != 0; }

const Tensor& SafetensorsFile::at(const std::string& name) const {
  auto it = index_.find(name);
  SAFETENSORS_CHECK(it != index_.end(), path_, "has no tensor named '", name, "'");
  return entries_[it->second].tensor;
}

const std::string& SafetensorsFile::meta(const std::string& key) const {
  auto it = metadata_.find(key);
  SAFETENSORS_CHECK(it != metadata_.end(), path_, "has no metadata entry '", key, "'");
  return it->second;
}

namespace {

// The header's JSON, after the 8-byte length: checked for size, repeated
// top-level keys (nlohmann keeps the last silently) and depth.
nlohmann::json parse_header(const std::string& bytes, const std::string& path, uint64_t* header_len) {
  const uint64_t size = bytes.size();
  SAFETENSORS_CHECK(size >= 8, path, "is ", size, " bytes long, too short to hold the 8-byte header length");
  *header_len = load<uint64_t>(bytes.data());
  SAFETENSORS_CHECK(*header_len >= 2 && *header_len <= kMaxHeaderBytes, path, "declares a header of ", *header_len,
                    " bytes, not a plausible safetensors header (is it a safetensors file?)");
  SAFETENSORS_CHECK(*header_len <= size - 8, path, "declares a header of ", *header_len, " bytes but only ", size - 8,
                    " bytes follow the length (truncated?)");
  const std::string header = bytes.substr(8, *header_len);
  SAFETENSORS_CHECK(header[0] == '{', path, "has a header that does not start with '{' (is it a safetensors file?)");

  std::set<std::string> seen;
  std::string duplicate;
  // A header is two levels deep (tensor, then its fields); a deeper one is refused
  // before any value is printed, as printing a deeply nested value recurses.
  bool too_deep = false;
  auto watch = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& value) {
    using Event = nlohmann::json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth > kMaxHeaderDepth) {
      too_deep = true;
      return false;  // not kept: nothing deeper is built
    }
    if (event == Event::key && depth == 1 && duplicate.empty()) {
      const std::string key = value.get<std::string>();
      if (!seen.insert(key).second) duplicate = key;
    }
    return true;
  };
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(header, watch);
  } catch (const nlohmann::json::exception& e) {
    SAFETENSORS_CHECK(false, path, "has a header that is not valid JSON: ", e.what());
  }
  SAFETENSORS_CHECK(!too_deep, path, "has a header nested deeper than ", kMaxHeaderDepth, " levels");
  SAFETENSORS_CHECK(root.is_object(), path, "has a header that is not a JSON object");
  SAFETENSORS_CHECK(duplicate.empty(), path, "names '", duplicate, "' twice in its header");
  return root;
}

std::map<std::string, std::string> read_metadata(const nlohmann::json& v, const std::string& path) {
  SAFETENSORS_CHECK(v.is_object(), path, "has __metadata__ that is not a JSON object");
  std::map<std::string, std::string> metadata;
  for (auto m = v.begin(); m != v.end(); ++m) {
    SAFETENSORS_CHECK(m.value().is_string(), path, "has metadata '", m.key(), "' whose value is not a string");
    metadata[m.key()] = m.value().get<std::string>();
  }
  return metadata;
}

// The element count of a shape, each step checked against the data size (so it cannot overflow).
uint64_t element_count(const nlohmann::json& shape, uint64_t data_size, const std::string& path,
                       const std::string& name, Shape* out) {
  uint64_t count = 1;
  bool empty = false;
  for (const nlohmann::json& d : shape) {
    SAFETENSORS_CHECK(d.is_number_unsigned(), path, "tensor '", name, "' has a dimension ", d.dump(),
                      " that is not a non-negative integer");
    const uint64_t dim = d.get<uint64_t>();
    SAFETENSORS_CHECK(dim <= uint64_t(std::numeric_limits<int64_t>::max()), path, "tensor '", name,
                      "' has a dimension too large: ", dim);
    out->push_back(int64_t(dim));
    if (dim == 0) empty = true;
    if (!empty) {
      SAFETENSORS_CHECK(count <= data_size / dim, path, "tensor '", name, "' has shape ", shape.dump(),
                        ", larger than the file's ", data_size, " data bytes");
      count *= dim;
    }
  }
  return empty ? 0 : count;
}

Parsed read_tensor_entry(const std::string& name, const nlohmann::json& v, uint64_t data_size,
                         const std::string& path) {
  SAFETENSORS_CHECK(!name.empty(), path, "has a tensor with an empty name");
  SAFETENSORS_CHECK(v.is_object(), path, "tensor '", name, "' is not described by a JSON object");
  for (auto f = v.begin(); f != v.end(); ++f)
    SAFETENSORS_CHECK(f.key() == "dtype" || f.key() == "shape" || f.key() == "data_offsets", path, "tensor '", name,
                      "' has an unknown field '", f.key(), "'");
  SAFETENSORS_CHECK(v.contains("dtype") && v["dtype"].is_string(), path, "tensor '", name, "' has no dtype string");
  SAFETENSORS_CHECK(v.contains("shape") && v["shape"].is_array(), path, "tensor '", name, "' has no shape array");
  SAFETENSORS_CHECK(v.contains("data_offsets") && v["data_offsets"].is_array() && v["data_offsets"].size() == 2, path,
                    "tensor '", name, "' has no data_offsets pair [begin, end]");
  Parsed p;
  p.name = name;
  p.dtype = v["dtype"].get<std::string>();
  const int element = dtype_size(p.dtype);
  SAFETENSORS_CHECK(element > 0, path, "tensor '", name, "' has dtype '", p.dtype,
                    "', which Nebula cannot read (F32, F64, F16, BF16, I64, I32, U8, BOOL)");
  const uint64_t count = element_count(v["shape"], data_size, path, name, &p.shape);
  p.begin = json_offset(v["data_offsets"][0], path, name);
  p.end = json_offset(v["data_offsets"][1], path, name);
  SAFETENSORS_CHECK(p.begin <= p.end && p.end <= data_size, path, "tensor '", name, "' has data_offsets [", p.begin,
                    ", ", p.end, "] outside the ", data_size, " data bytes the file holds (truncated?)");
  SAFETENSORS_CHECK(p.end - p.begin == count * uint64_t(element), path, "tensor '", name, "' of shape ",
                    shape_text(p.shape), " and dtype ", p.dtype, " needs ", count * uint64_t(element),
                    " bytes but its data_offsets [", p.begin, ", ", p.end, "] span ", p.end - p.begin);
  return p;
}

// The tensors must tile the data: sorted by offset, each starts where the last ended.
void check_tiling(std::vector<Parsed>& parsed, uint64_t data_size, const std::string& path) {
  std::stable_sort(parsed.begin(), parsed.end(), [](const Parsed& a, const Parsed& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  for (const Parsed& p : parsed) {
    SAFETENSORS_CHECK(p.begin == cursor, path, "tensor '", p.name, "' starts at data byte ", p.begin, " but ",
                      p.begin < cursor ? "the previous tensor ends at " : "nothing covers the bytes from ", cursor,
                      p.begin < cursor ? " (overlap)" : " (a gap)");
    cursor = p.end;
  }
  SAFETENSORS_CHECK(cursor == data_size, path, "has ", data_size - cursor,
                    " bytes after its last tensor that no tensor describes");
}

}  // namespace

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& path) {
  uint64_t header_len = 0;
  const nlohmann::json root = parse_header(bytes, path, &header_len);
  const uint64_t data_size = bytes.size() - 8 - header_len;
  std::map<std::string, std::string> metadata;
  std::vector<Parsed> parsed;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "__metadata__")
      metadata = read_metadata(it.value(), path);
    else
      parsed.push_back(read_tensor_entry(it.key(), it.value(), data_size, path));
  }
  check_tiling(parsed, data_size, path);

  const char* data = bytes.data() + 8 + header_len;
  std::vector<SafetensorsEntry> entries;
  entries.reserve(parsed.size());
  for (const Parsed& p : parsed) {
    Tensor t(p.shape);
    convert(p.dtype, data + p.begin, t.numel(), t.data());
    entries.push_back({p.name, p.dtype, std::move(t)});
  }
  return SafetensorsFile(path, std::move(entries), std::move(metadata));
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::vector<uint8_t> bytes;
  std::string error;
  SAFETENSORS_CHECK(read_file(path, &bytes, &error), path, "cannot be read: ", error);
  return parse_safetensors(std::string(bytes.begin(), bytes.end()), path);
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Everything is checked and laid out in memory before the temporary file exists.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    SAFETENSORS_CHECK(!name.empty() && name != "__metadata__", path, "cannot be written: invalid tensor name '", name,
                      "'");
    SAFETENSORS_CHECK(names.insert(name).second, path, "cannot be written: the tensor name '", name, "' is used twice");
    SAFETENSORS_CHECK(tensor.defined(), path, "cannot be written: tensor '", name, "' is undefined");
    const uint64_t bytes = uint64_t(tensor.numel()) * 4;
    header[name] = {{"dtype", "F32"}, {"shape", tensor.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  // Pad with spaces (valid JSON whitespace) so the data starts 8-byte aligned, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t header_len = text.size();

  AtomicFile file(path);
  char length[8];
  std::memcpy(length, &header_len, 8);
  file.write(length, 8);
  file.write(text.data(), text.size());
  for (const auto& entry : tensors) {
    const Tensor& t = entry.second;
    if (t.numel() == 0) continue;
    const Tensor host = t.on_host();
    file.write(reinterpret_cast<const char*>(host.data()), size_t(host.numel()) * 4);
  }
  file.commit();
}

}  // namespace nebula
