#include "models/pth_reader.h"

#include <zip.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "base/error.h"

namespace nebula {

namespace {

template <typename... Args>
[[noreturn]] void fail(const std::string& path, const Args&... args) {
  throw Error(detail::concat(path, ": ", args...));
}

// ---------------------------------------------------------------------------
// The zip archive.

class ZipArchive {
 public:
  ZipArchive(const std::string& bytes, const std::string& path) : path_(path) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (!source) fail(path, "cannot read as a zip archive: ", zip_error_strerror(&error));
    archive_ = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (!archive_) {
      std::string reason = zip_error_strerror(&error);
      zip_source_free(source);
      zip_error_fini(&error);
      fail(path, "not a readable zip archive (", reason, "); a torch.save file is one");
    }
    zip_error_fini(&error);
    file_size_ = bytes.size();
  }
  ~ZipArchive() {
    if (archive_) zip_discard(archive_);
  }
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    zip_int64_t n = zip_get_num_entries(archive_, 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      const char* name = zip_get_name(archive_, static_cast<zip_uint64_t>(i), 0);
      if (name) out.push_back(name);
    }
    return out;
  }

  bool contains(const std::string& name) const { return zip_name_locate(archive_, name.c_str(), 0) >= 0; }

  // The uncompressed size of an entry, checked to be plausible for its
  // compressed size (deflate cannot exceed about 1:1032) and the file's.
  uint64_t size(const std::string& name) const {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(archive_, name.c_str(), 0, &st) != 0) fail(path_, "the archive has no entry '", name, "'");
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
      fail(path_, "entry '", name, "' has no recorded size");
    if (st.comp_size > file_size_ || (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size) ||
        st.size / 1100 > st.comp_size)
      fail(path_, "entry '", name, "' claims ", st.size, " bytes from ", st.comp_size, " stored: the archive is corrupt");
    return st.size;
  }

  std::string read(const std::string& name) const {
    uint64_t n = size(name);
    zip_file_t* file = zip_fopen(archive_, name.c_str(), 0);
    if (!file) fail(path_, "cannot open entry '", name, "': ", zip_strerror(archive_));
    std::string out(n, '\0');
    zip_int64_t got = n ? zip_fread(file, out.data(), n) : 0;
    std::string reason = got < 0 ? zip_file_strerror(file) : "";
    zip_fclose(file);
    if (got < 0 || static_cast<uint64_t>(got) != n)
      fail(path_, "entry '", name, "' is truncated or corrupt", reason.empty() ? "" : ": ", reason);
    return out;
  }

 private:
  std::string path_;
  zip_t* archive_ = nullptr;
  uint64_t file_size_ = 0;
};

// ---------------------------------------------------------------------------
// The restricted unpickler.

struct Value;
using ValuePtr = std::shared_ptr<Value>;

enum class Kind { None, Bool, Int, String, Tuple, List, Dict, Global, Storage, Tensor };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::String: return "str";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

struct Value {
  Kind kind = Kind::None;
  int64_t integer = 0;                             // Int, Bool; Storage: element count
  std::string text;                                // String; Global "module.name"; Storage: key
  std::vector<ValuePtr> items;                     // Tuple, List
  std::vector<std::pair<ValuePtr, ValuePtr>> dict; // Dict, in insertion order
  // Storage
  std::string dtype;
  // Tensor
  ValuePtr storage;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

ValuePtr make(Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

// The storage classes a state_dict's tensors live in, and their safetensors dtype names.
const std::map<std::string, std::string>& storage_types() {
  static const std::map<std::string, std::string> types = {
      {"torch.FloatStorage", "F32"}, {"torch.DoubleStorage", "F64"}, {"torch.HalfStorage", "F16"},
      {"torch.BFloat16Storage", "BF16"}, {"torch.LongStorage", "I64"}, {"torch.IntStorage", "I32"},
      {"torch.ShortStorage", "I16"}, {"torch.CharStorage", "I8"}, {"torch.ByteStorage", "U8"},
      {"torch.BoolStorage", "BOOL"}};
  return types;
}

int dtype_size(const std::string& dtype) {
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16") return 2;
  return 1;
}

bool allowed_callable(const std::string& name) {
  return name == "collections.OrderedDict" || name == "torch._utils._rebuild_tensor_v2" ||
         name == "torch._utils._rebuild_parameter";
}

class Unpickler {
 public:
  Unpickler(const std::string& bytes, const std::string& origin) : data_(bytes), origin_(origin) {}

  ValuePtr run() {
    while (true) {
      if (pos_ >= data_.size()) fail(origin_, "the pickle ends without STOP at offset ", pos_);
      op_offset_ = pos_;
      uint8_t op = static_cast<uint8_t>(data_[pos_++]);
      switch (op) {
        case 0x80: {  // PROTO
          uint8_t version = u8();
          if (version < 2 || version > 5) error("unsupported pickle protocol ", int(version));
          break;
        }
        case 0x95: skip(8); break;  // FRAME: a length hint, the bytes follow inline
        case '}': push(make(Kind::Dict)); break;                  // EMPTY_DICT
        case ']': push(make(Kind::List)); break;                  // EMPTY_LIST
        case ')': push(make(Kind::Tuple)); break;                 // EMPTY_TUPLE
        case 'N': push(make(Kind::None)); break;                  // NONE
        case 0x88: push(boolean(true)); break;                    // NEWTRUE
        case 0x89: push(boolean(false)); break;                   // NEWFALSE
        case '(':                                                 // MARK
          if (marks_.size() > kMaxDepth) error("too many nested marks");
          marks_.push_back(stack_.size());
          break;
        case 'X': push(string(take(u32()))); break;               // BINUNICODE
        case 0x8c: push(string(take(u8()))); break;               // SHORT_BINUNICODE
        case 'K': push(integer(u8())); break;                     // BININT1
        case 'M': push(integer(u16())); break;                    // BININT2
        case 'J': push(integer(static_cast<int32_t>(u32()))); break;  // BININT
        case 0x8a: push(integer(long1())); break;                 // LONG1
        case 'q': memo_put(u8()); break;                          // BINPUT
        case 'r': memo_put(u32()); break;                         // LONG_BINPUT
        case 0x94: memo_put(memo_.size()); break;                 // MEMOIZE
        case 'h': push(memo_get(u8())); break;                    // BINGET
        case 'j': push(memo_get(u32())); break;                   // LONG_BINGET
        case 'c': {                                               // GLOBAL
          std::string module = line(), name = line();
          push(global(module, name));
          break;
        }
        case 0x93: {                                              // STACK_GLOBAL
          ValuePtr name = pop(), module = pop();
          if (module->kind != Kind::String || name->kind != Kind::String) error("STACK_GLOBAL needs two strings");
          push(global(module->text, name->text));
          break;
        }
        case 't': {                                               // TUPLE
          ValuePtr t = make(Kind::Tuple);
          t->items = pop_mark();
          push(t);
          break;
        }
        case 0x85: case 0x86: case 0x87: {                        // TUPLE1, TUPLE2, TUPLE3
          size_t n = op - 0x84;
          if (stack_.size() < n + base()) error("stack underflow");
          ValuePtr t = make(Kind::Tuple);
          t->items.assign(stack_.end() - n, stack_.end());
          stack_.resize(stack_.size() - n);
          push(t);
          break;
        }
        case 'a': {                                               // APPEND
          ValuePtr item = pop();
          list_top()->items.push_back(item);
          break;
        }
        case 'e': {                                               // APPENDS
          std::vector<ValuePtr> items = pop_mark();
          ValuePtr list = list_top();
          list->items.insert(list->items.end(), items.begin(), items.end());
          break;
        }
        case 's': {                                               // SETITEM
          ValuePtr value = pop(), key = pop();
          dict_top()->dict.emplace_back(key, value);
          break;
        }
        case 'u': {                                               // SETITEMS
          std::vector<ValuePtr> items = pop_mark();
          if (items.size() % 2) error("SETITEMS with an odd number of items");
          ValuePtr dict = dict_top();
          for (size_t i = 0; i < items.size(); i += 2) dict->dict.emplace_back(items[i], items[i + 1]);
          break;
        }
        case 'Q': push(persistent_load(pop())); break;            // BINPERSID
        case 'R': {                                               // REDUCE
          ValuePtr args = pop(), callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 'b': {                                               // BUILD
          // OrderedDict's instance state: the state_dict's _metadata (module
          // versions), which a weight import has no use for. Only a dict may be built.
          ValuePtr state = pop();
          if (top()->kind != Kind::Dict) error("BUILD on a ", kind_name(top()->kind), " (only a dict's state is accepted)");
          (void)state;
          break;
        }
        case '.':                                                 // STOP
          if (stack_.size() != 1 || !marks_.empty()) error("STOP with ", stack_.size(), " values on the stack");
          return stack_.back();
        default:
          error("opcode 0x", hex(op), printable(op), " is not one a state_dict uses; refused");
      }
    }
  }

 private:
  static constexpr size_t kMaxDepth = 1 << 20;

  template <typename... Args>
  [[noreturn]] void error(const Args&... args) const {
    fail(origin_, args..., " (data.pkl offset ", op_offset_, ")");
  }

  static std::string hex(uint8_t op) {
    const char* digits = "0123456789abcdef";
    return {digits[op >> 4], digits[op & 15]};
  }
  static std::string printable(uint8_t op) {
    return op >= 0x20 && op < 0x7f ? std::string(" '") + char(op) + "'" : "";
  }

  void need(size_t n) const {
    if (n > data_.size() - pos_) error("the pickle is truncated");
  }
  void skip(size_t n) {
    need(n);
    pos_ += n;
  }
  uint8_t u8() {
    need(1);
    return static_cast<uint8_t>(data_[pos_++]);
  }
  uint32_t u16() {
    need(2);
    uint32_t v = uint8_t(data_[pos_]) | uint32_t(uint8_t(data_[pos_ + 1])) << 8;
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    need(4);
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = v << 8 | uint8_t(data_[pos_ + i]);
    pos_ += 4;
    return v;
  }
  int64_t long1() {
    size_t n = u8();
    if (n > 8) error("LONG1 of ", n, " bytes is beyond 64 bits");
    need(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(uint8_t(data_[pos_ + i])) << (8 * i);
    if (n > 0 && n < 8 && (uint8_t(data_[pos_ + n - 1]) & 0x80)) v |= ~uint64_t(0) << (8 * n);  // sign-extend
    pos_ += n;
    return static_cast<int64_t>(v);
  }
  std::string take(size_t n) {
    need(n);
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string line() {
    size_t end = data_.find('\n', pos_);
    if (end == std::string::npos || end - pos_ > 256) error("GLOBAL without a name line");
    std::string s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  ValuePtr boolean(bool b) {
    ValuePtr v = make(Kind::Bool);
    v->integer = b;
    return v;
  }
  ValuePtr integer(int64_t i) {
    ValuePtr v = make(Kind::Int);
    v->integer = i;
    return v;
  }
  ValuePtr string(std::string s) {
    ValuePtr v = make(Kind::String);
    v->text = std::move(s);
    return v;
  }

  ValuePtr global(const std::string& module, const std::string& name) {
    std::string full = module + "." + name;
    if (!allowed_callable(full) && !storage_types().count(full))
      error("forbidden global '", full, "': a state_dict needs only OrderedDict, tensors and storages; refused");
    ValuePtr v = make(Kind::Global);
    v->text = full;
    return v;
  }

  size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(ValuePtr v) {
    if (stack_.size() > kMaxDepth) error("the pickle's stack is too deep");
    stack_.push_back(std::move(v));
  }
  ValuePtr pop() {
    if (stack_.size() <= base()) error("stack underflow");
    ValuePtr v = stack_.back();
    stack_.pop_back();
    return v;
  }
  ValuePtr top() const {
    if (stack_.size() <= base()) error("stack underflow");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) error("no MARK to pop to");
    size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return items;
  }
  ValuePtr dict_top() const {
    ValuePtr d = top();
    if (d->kind != Kind::Dict) error("SETITEM(S) on a ", kind_name(d->kind), ", not a dict");
    return d;
  }
  ValuePtr list_top() const {
    ValuePtr l = top();
    if (l->kind != Kind::List) error("APPEND(S) on a ", kind_name(l->kind), ", not a list");
    return l;
  }
  void memo_put(size_t index) { memo_[index] = top(); }
  ValuePtr memo_get(size_t index) const {
    auto it = memo_.find(index);
    if (it == memo_.end()) error("memo entry ", index, " was never stored");
    return it->second;
  }

  // ('storage', torch.FloatStorage, key, location, numel)
  ValuePtr persistent_load(const ValuePtr& pid) {
    if (pid->kind != Kind::Tuple || pid->items.size() != 5 || pid->items[0]->kind != Kind::String ||
        pid->items[0]->text != "storage")
      error("persistent id is not ('storage', type, key, location, size)");
    const ValuePtr& type = pid->items[1];
    const ValuePtr& key = pid->items[2];
    const ValuePtr& numel = pid->items[4];
    if (type->kind != Kind::Global || !storage_types().count(type->text)) error("persistent id's storage type is not a torch storage class");
    if (key->kind != Kind::String || key->text.empty() || key->text.find_first_of("/\\") != std::string::npos ||
        key->text.find("..") != std::string::npos)
      error("persistent id's storage key is not a plain name");
    if (numel->kind != Kind::Int || numel->integer < 0) error("persistent id's storage size is not a count");
    ValuePtr s = make(Kind::Storage);
    s->dtype = storage_types().at(type->text);
    s->text = key->text;
    s->integer = numel->integer;
    return s;
  }

  std::vector<int64_t> int_tuple(const ValuePtr& v, const char* what) const {
    if (v->kind != Kind::Tuple) error(what, " is a ", kind_name(v->kind), ", not a tuple of integers");
    if (v->items.size() > 16) error(what, " has ", v->items.size(), " dimensions");
    std::vector<int64_t> out;
    for (const ValuePtr& i : v->items) {
      if (i->kind != Kind::Int) error(what, " holds a ", kind_name(i->kind));
      out.push_back(i->integer);
    }
    return out;
  }

  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args) {
    if (callable->kind != Kind::Global) error("REDUCE on a ", kind_name(callable->kind), ", not a global");
    if (args->kind != Kind::Tuple) error("REDUCE with ", kind_name(args->kind), " arguments");
    const std::string& name = callable->text;
    const std::vector<ValuePtr>& a = args->items;
    if (name == "collections.OrderedDict") {
      if (!a.empty()) error("OrderedDict called with arguments; only OrderedDict() is accepted");
      return make(Kind::Dict);
    }
    if (name == "torch._utils._rebuild_tensor_v2") {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (a.size() != 6 && a.size() != 7) error("_rebuild_tensor_v2 with ", a.size(), " arguments");
      if (a[0]->kind != Kind::Storage) error("_rebuild_tensor_v2's first argument is a ", kind_name(a[0]->kind));
      if (a[1]->kind != Kind::Int) error("_rebuild_tensor_v2's storage offset is a ", kind_name(a[1]->kind));
      ValuePtr t = make(Kind::Tensor);
      t->storage = a[0];
      t->offset = a[1]->integer;
      t->sizes = int_tuple(a[2], "the tensor's size");
      t->strides = int_tuple(a[3], "the tensor's stride");
      if (t->sizes.size() != t->strides.size()) error("the tensor's size and stride differ in length");
      return t;
    }
    if (name == "torch._utils._rebuild_parameter") {
      // (data, requires_grad, backward_hooks)
      if (a.size() != 3 || a[0]->kind != Kind::Tensor) error("_rebuild_parameter without a tensor");
      return a[0];
    }
    error("'", name, "' cannot be called");
  }

  const std::string& data_;
  std::string origin_;
  size_t pos_ = 0, op_offset_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<size_t, ValuePtr> memo_;
};

// ---------------------------------------------------------------------------
// Tensors from storages.

float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        mantissa <<= 1;
      } while (!(mantissa & 0x400));
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mantissa & 0x3ff) << 13;
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | mantissa << 13;
  } else {
    bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float element(const std::string& dtype, const char* p) {
  if (dtype == "F32") {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (dtype == "F64") {
    double v;
    std::memcpy(&v, p, 8);
    return static_cast<float>(v);
  }
  if (dtype == "F16") {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return half_to_float(v);
  }
  if (dtype == "BF16") {
    uint16_t v;
    std::memcpy(&v, p, 2);
    uint32_t bits = uint32_t(v) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  if (dtype == "I64") {
    int64_t v;
    std::memcpy(&v, p, 8);
    return static_cast<float>(v);
  }
  if (dtype == "I32") {
    int32_t v;
    std::memcpy(&v, p, 4);
    return static_cast<float>(v);
  }
  if (dtype == "I16") {
    int16_t v;
    std::memcpy(&v, p, 2);
    return static_cast<float>(v);
  }
  if (dtype == "I8") return static_cast<float>(static_cast<int8_t>(*p));
  return static_cast<float>(static_cast<uint8_t>(*p));  // U8, BOOL
}

constexpr int64_t kMaxElements = int64_t(1) << 40;

Tensor materialize(const Value& t, const std::string& bytes, const std::string& key, const std::string& path) {
  const Value& s = *t.storage;
  int64_t numel = 1;
  for (int64_t d : t.sizes) {
    if (d < 0) fail(path, "tensor '", key, "' has a negative size");
    if (d > 0 && numel > kMaxElements / d) fail(path, "tensor '", key, "' is implausibly large");
    numel *= d;
  }
  Shape shape(t.sizes.begin(), t.sizes.end());
  if (numel == 0) return Tensor(shape);
  // A state_dict tensor never holds more elements than its storage (only an
  // expanded view, stride 0, could), which bounds what is allocated here by
  // the file's size.
  if (numel > s.integer)
    fail(path, "tensor '", key, "' of shape ", to_string(shape), " has more elements than its storage of ", s.integer);
  // The last element's index in the storage must lie inside it.
  if (t.offset < 0 || t.offset >= s.integer)
    fail(path, "tensor '", key, "' starts at element ", t.offset, " of a storage of ", s.integer);
  int64_t last = t.offset;
  for (size_t i = 0; i < t.sizes.size(); ++i) {
    if (t.strides[i] < 0) fail(path, "tensor '", key, "' has a negative stride");
    if (t.strides[i] > kMaxElements) fail(path, "tensor '", key, "' has an implausible stride");
    last += (t.sizes[i] - 1) * t.strides[i];
    if (last >= s.integer)
      fail(path, "tensor '", key, "' of shape ", to_string(shape), " reaches past its storage of ", s.integer,
           " elements");
  }
  const int esize = dtype_size(s.dtype);
  const char* base = bytes.data();
  Tensor out(shape);  // only now: its size is bounded by the storage's
  float* dst = out.data();
  // Contiguous row-major strides: one run; otherwise walk the index.
  bool contiguous = true;
  int64_t expected = 1;
  for (size_t i = t.sizes.size(); i-- > 0;) {
    if (t.sizes[i] != 1 && t.strides[i] != expected) contiguous = false;
    expected *= t.sizes[i];
  }
  if (contiguous) {
    const char* src = base + t.offset * esize;
    if (s.dtype == "F32") std::memcpy(dst, src, numel * 4);
    else
      for (int64_t i = 0; i < numel; ++i) dst[i] = element(s.dtype, src + i * esize);
    return out;
  }
  std::vector<int64_t> index(t.sizes.size(), 0);
  for (int64_t i = 0; i < numel; ++i) {
    int64_t at = t.offset;
    for (size_t d = 0; d < index.size(); ++d) at += index[d] * t.strides[d];
    dst[i] = element(s.dtype, base + at * esize);
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < t.sizes[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

bool is_legacy_pth(const std::string& bytes) {
  // The legacy format opens with the pickled magic number 0x1950a86a20f9469cfc6c.
  static const unsigned char magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  return bytes.size() >= sizeof(magic) && std::memcmp(bytes.data(), magic, sizeof(magic)) == 0;
}

}  // namespace

std::vector<PthEntry> parse_pth(const std::string& bytes, const std::string& path) {
  if (is_legacy_pth(bytes))
    fail(path, "the legacy (before PyTorch 1.6) .pth format is not supported; re-save it with a current PyTorch: "
               "torch.save(torch.load(f), f)");
  if (bytes.size() < 4 || bytes.compare(0, 2, "PK") != 0)
    fail(path, "not a PyTorch .pth file (a torch.save file is a zip archive starting 'PK')");
  ZipArchive zip(bytes, path);

  std::string prefix;
  int found = 0;
  for (const std::string& name : zip.names()) {
    size_t slash = name.find('/');
    if (slash != std::string::npos && name.compare(slash, std::string::npos, "/data.pkl") == 0) {
      prefix = name.substr(0, slash + 1);
      ++found;
    }
  }
  if (found == 0) fail(path, "the zip archive holds no <name>/data.pkl: not a torch.save file");
  if (found > 1) fail(path, "the zip archive holds ", found, " data.pkl files; expected one");
  if (zip.contains(prefix + "byteorder")) {
    std::string order = zip.read(prefix + "byteorder");
    if (order != "little") fail(path, "byte order '", order, "' is not supported (only little-endian)");
  }

  std::string pickle = zip.read(prefix + "data.pkl");
  ValuePtr root = Unpickler(pickle, path).run();
  if (root->kind != Kind::Dict) fail(path, "the pickle holds a ", kind_name(root->kind), ", not a state_dict");

  auto has_tensors = [](const Value& d) {
    for (const auto& [k, v] : d.dict)
      if (v->kind == Kind::Tensor) return true;
    return false;
  };
  if (!has_tensors(*root)) {
    for (const auto& [k, v] : root->dict)
      if (k->kind == Kind::String && (k->text == "state_dict" || k->text == "model") && v->kind == Kind::Dict) {
        root = v;
        break;
      }
  }

  std::vector<PthEntry> entries;
  std::map<std::string, std::string> storages;  // key -> bytes, each read once
  std::map<std::string, size_t> seen;
  for (const auto& [k, v] : root->dict) {
    if (k->kind != Kind::String) fail(path, "the state_dict has a ", kind_name(k->kind), " key, not a string");
    if (v->kind != Kind::Tensor) fail(path, "state_dict entry '", k->text, "' is a ", kind_name(v->kind), ", not a tensor");
    if (seen.count(k->text)) fail(path, "state_dict key '", k->text, "' repeats");
    seen[k->text] = entries.size();
    const Value& storage = *v->storage;
    auto it = storages.find(storage.text);
    if (it == storages.end()) {
      std::string name = prefix + "data/" + storage.text;
      if (!zip.contains(name)) fail(path, "tensor '", k->text, "' needs storage '", name, "', which the archive lacks");
      uint64_t want = static_cast<uint64_t>(storage.integer) * dtype_size(storage.dtype);
      if (storage.integer > kMaxElements || zip.size(name) != want)
        fail(path, "storage '", name, "' holds ", zip.size(name), " bytes but its tensor declares ", storage.integer,
             " elements of ", storage.dtype, " (", want, " bytes)");
      it = storages.emplace(storage.text, zip.read(name)).first;
    }
    entries.push_back({k->text, storage.dtype, materialize(*v, it->second, k->text, path)});
  }
  return entries;
}

std::vector<PthEntry> read_pth(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file");
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) fail(path, "cannot read the file");
  return parse_pth(contents.str(), path);
}

}  // namespace nebula
