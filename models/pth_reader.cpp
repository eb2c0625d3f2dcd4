#include "models/pth_reader.h"

#include <zip.h>

#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>

#include "base/error.h"
#include "base/file_io.h"
#include "engine/shape.h"

namespace nebula {

namespace {

// ---------------------------------------------------------------------------
// Limits. A torch.save state_dict is far inside each of them; a hostile file
// meets one before it can make the reader allocate much more than its
// storages declare.

// data.pkl of a large model is a few MB (about 150 bytes per tensor).
constexpr uint64_t kMaxPickleBytes = uint64_t(16) << 20;
// Values the unpickler may build (about 30 per tensor) and memo slots it may fill.
constexpr size_t kMaxValues = size_t(1) << 19;
// How deep values may nest: a state_dict is about five levels deep.
constexpr int kMaxNesting = 100;
// torch.save stores its entries uncompressed; an archive someone deflated
// may inflate to this many times its own size (plus a little for small
// files), which real weights (ratio near 1) never approach.
constexpr uint64_t kMaxInflateRatio = 32;
constexpr uint64_t kInflateAllowance = uint64_t(1) << 20;

template <typename... Args>
[[noreturn]] void fail(const std::string& path, const Args&... args) {
  throw Error(detail::concat(path, ": ", args...));
}

// A name from the file, for an error message: control bytes escaped (so the
// message stays one line) and long names cut.
std::string quote_name(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 120; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += char(c);
    } else {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  if (s.size() > 120) out += "...";
  return out + "'";
}

// ---------------------------------------------------------------------------
// The zip archive.

class ZipArchive {
 public:
  ZipArchive(const std::string& bytes, const std::string& path)
      : path_(path), file_size_(bytes.size()), inflate_budget_(kInflateAllowance + kMaxInflateRatio * bytes.size()) {
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
  // compressed size (deflate cannot exceed about 1:1032) and the file's,
  // before a byte of it is inflated.
  uint64_t size(const std::string& name) const {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(archive_, name.c_str(), 0, &st) != 0) fail(path_, "the archive has no entry ", quote_name(name));
    if (!(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD))
      fail(path_, "entry ", quote_name(name), " has no recorded size");
    if (st.comp_method != ZIP_CM_STORE && st.comp_method != ZIP_CM_DEFLATE)
      fail(path_, "entry ", quote_name(name), " uses zip compression method ", st.comp_method,
           "; only stored and deflated entries are read (torch.save stores them)");
    if (st.comp_size > file_size_ || (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size) ||
        st.size / 1100 > st.comp_size)
      fail(path_, "entry ", quote_name(name), " claims ", st.size, " bytes from ", st.comp_size,
           " stored: the archive is corrupt");
    return st.size;
  }

  // Reads an entry whole. What all reads inflate together is bounded by the
  // archive's size (kMaxInflateRatio), checked before each one starts, and
  // libzip inflates no more than the size checked.
  std::string read(const std::string& name) {
    uint64_t n = size(name);
    if (n > inflate_budget_)
      fail(path_, "entry ", quote_name(name), " inflates to ", n, " bytes, past the limit of ", kMaxInflateRatio,
           " times the archive's ", file_size_, " bytes (plus 1 MiB) for all its entries: a decompression bomb?");
    inflate_budget_ -= n;
    zip_file_t* file = zip_fopen(archive_, name.c_str(), 0);
    if (!file) fail(path_, "cannot open entry ", quote_name(name), ": ", zip_strerror(archive_));
    std::string out(n, '\0');
    zip_int64_t got = n ? zip_fread(file, out.data(), n) : 0;
    std::string reason = got < 0 ? zip_file_strerror(file) : "";
    zip_fclose(file);
    if (got < 0 || static_cast<uint64_t>(got) != n)
      fail(path_, "entry ", quote_name(name), " is truncated or corrupt", reason.empty() ? "" : ": ", reason);
    return out;
  }

 private:
  std::string path_;
  zip_t* archive_ = nullptr;
  uint64_t file_size_ = 0;
  uint64_t inflate_budget_ = 0;  // bytes all further reads may inflate
};

// ---------------------------------------------------------------------------
// The restricted unpickler. Its values live in one arena that it owns and
// frees flat, so neither deep nesting nor a memo cycle (a list appended to
// itself) can recurse or leak when they are freed.

enum class Kind { None, Bool, Int, String, Tuple, List, Dict, Global, Storage, Tensor };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None:
      return "None";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
      return "int";
    case Kind::String:
      return "str";
    case Kind::Tuple:
      return "tuple";
    case Kind::List:
      return "list";
    case Kind::Dict:
      return "dict";
    case Kind::Global:
      return "global";
    case Kind::Storage:
      return "storage";
    case Kind::Tensor:
      return "tensor";
  }
  return "?";
}

struct Value;

// Where a tensor's elements lie in its storage.
struct TensorView {
  const Value* storage = nullptr;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

// Kept small: a hostile pickle may make kMaxValues of them.
struct Value {
  Kind kind = Kind::None;
  int depth = 1;                                // how deep values nest inside it, for kMaxNesting
  int64_t integer = 0;                          // Int, Bool; Storage: element count
  std::string text;                             // String; Global "module.name"; Storage: key
  std::vector<Value*> items;                    // Tuple, List
  std::vector<std::pair<Value*, Value*>> dict;  // Dict, in insertion order
  const std::string* dtype = nullptr;           // Storage: "F32", ... (in storage_types())
  std::unique_ptr<TensorView> view;             // Tensor
};

// The storage classes a state_dict's tensors live in, and their safetensors dtype names.
const std::map<std::string, std::string>& storage_types() {
  static const std::map<std::string, std::string> types = {
      {"torch.FloatStorage", "F32"},     {"torch.DoubleStorage", "F64"}, {"torch.HalfStorage", "F16"},
      {"torch.BFloat16Storage", "BF16"}, {"torch.LongStorage", "I64"},   {"torch.IntStorage", "I32"},
      {"torch.ShortStorage", "I16"},     {"torch.CharStorage", "I8"},    {"torch.ByteStorage", "U8"},
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
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  // The pickled value; it lives as long as this unpickler.
  const Value* run() {
    while (true) {
      if (pos_ >= data_.size()) fail(origin_, "the pickle ends without STOP at offset ", pos_);
      op_offset_ = pos_;
      uint8_t op = static_cast<uint8_t>(data_[pos_++]);
      if (op == '.') {  // STOP
        if (stack_.size() != 1 || !marks_.empty()) error("STOP with ", stack_.size(), " values on the stack");
        return stack_.back();
      }
      if (!literal(op) && !memo_op(op) && !container_op(op) && !call_op(op))
        error("opcode 0x", hex(op), printable(op), " is not one a state_dict uses; refused");
    }
  }

 private:
  static constexpr size_t kMaxStack = size_t(1) << 20;

  // Opcodes that push a constant, a string or an integer.
  bool literal(uint8_t op) {
    switch (op) {
      case 0x80: {  // PROTO
        uint8_t version = u8();
        if (version < 2 || version > 5) error("unsupported pickle protocol ", int(version));
        return true;
      }
      case 0x95:
        skip(8);
        return true;  // FRAME: a length hint, the bytes follow inline
      case '}':
        push(make(Kind::Dict));
        return true;  // EMPTY_DICT
      case ']':
        push(make(Kind::List));
        return true;  // EMPTY_LIST
      case ')':
        push(make(Kind::Tuple));
        return true;  // EMPTY_TUPLE
      case 'N':
        push(make(Kind::None));
        return true;  // NONE
      case 0x88:
        push(number(Kind::Bool, 1));
        return true;  // NEWTRUE
      case 0x89:
        push(number(Kind::Bool, 0));
        return true;  // NEWFALSE
      case 'X':
        push(string(take(u32())));
        return true;  // BINUNICODE
      case 0x8c:
        push(string(take(u8())));
        return true;  // SHORT_BINUNICODE
      case 'K':
        push(number(Kind::Int, u8()));
        return true;  // BININT1
      case 'M':
        push(number(Kind::Int, u16()));
        return true;  // BININT2
      case 'J':
        push(number(Kind::Int, static_cast<int32_t>(u32())));
        return true;  // BININT
      case 0x8a:
        push(number(Kind::Int, long1()));
        return true;  // LONG1
      default:
        return false;
    }
  }

  bool memo_op(uint8_t op) {
    switch (op) {
      case 'q':
        memo_put(u8());
        return true;  // BINPUT
      case 'r':
        memo_put(u32());
        return true;  // LONG_BINPUT
      case 0x94:
        memo_put(memo_.size());
        return true;  // MEMOIZE
      case 'h':
        push(memo_get(u8()));
        return true;  // BINGET
      case 'j':
        push(memo_get(u32()));
        return true;  // LONG_BINGET
      default:
        return false;
    }
  }

  // Opcodes that build or fill tuples, lists and dicts.
  bool container_op(uint8_t op) {
    switch (op) {
      case '(':  // MARK
        if (marks_.size() > kMaxStack) error("too many nested marks");
        marks_.push_back(stack_.size());
        return true;
      case 't':
        push(tuple(pop_mark()));
        return true;  // TUPLE
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1, TUPLE2, TUPLE3
        size_t n = op - 0x84;
        if (stack_.size() < n + base()) error("stack underflow");
        std::vector<Value*> items(stack_.end() - n, stack_.end());
        stack_.resize(stack_.size() - n);
        push(tuple(std::move(items)));
        return true;
      }
      case 'a': {  // APPEND
        Value* item = pop();
        append(list_top(), {item});
        return true;
      }
      case 'e': {  // APPENDS
        std::vector<Value*> items = pop_mark();
        append(list_top(), items);
        return true;
      }
      case 's': {  // SETITEM
        Value* value = pop();
        Value* key = pop();
        set_items(dict_top(), {key, value});
        return true;
      }
      case 'u': {  // SETITEMS
        std::vector<Value*> items = pop_mark();
        if (items.size() % 2) error("SETITEMS with an odd number of items");
        set_items(dict_top(), items);
        return true;
      }
      default:
        return false;
    }
  }

  // Opcodes that name or "call" a global: only the allowed ones, and only to build values.
  bool call_op(uint8_t op) {
    switch (op) {
      case 'c': {  // GLOBAL
        std::string module = line(), name = line();
        push(global(module, name));
        return true;
      }
      case 0x93: {  // STACK_GLOBAL
        Value* name = pop();
        Value* module = pop();
        if (module->kind != Kind::String || name->kind != Kind::String) error("STACK_GLOBAL needs two strings");
        push(global(module->text, name->text));
        return true;
      }
      case 'Q':
        push(persistent_load(pop()));
        return true;  // BINPERSID
      case 'R': {     // REDUCE
        Value* args = pop();
        Value* callable = pop();
        push(reduce(callable, args));
        return true;
      }
      case 'b': {  // BUILD
        // OrderedDict's instance state: the state_dict's _metadata (module
        // versions), which a weight import has no use for. Only a dict may be built.
        pop();
        if (top()->kind != Kind::Dict)
          error("BUILD on a ", kind_name(top()->kind), " (only a dict's state is accepted)");
        return true;
      }
      default:
        return false;
    }
  }

  template <typename... Args>
  [[noreturn]] void error(const Args&... args) const {
    fail(origin_, args..., " (data.pkl offset ", op_offset_, ")");
  }

  static std::string hex(uint8_t op) {
    const char* digits = "0123456789abcdef";
    return {digits[op >> 4], digits[op & 15]};
  }
  static std::string printable(uint8_t op) { return op >= 0x20 && op < 0x7f ? std::string(" '") + char(op) + "'" : ""; }

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

  // Every value is made here, so the count limit holds for all of them.
  Value* make(Kind kind) {
    if (arena_.size() >= kMaxValues)
      error("the pickle builds more than ", kMaxValues, " values, far more than a state_dict needs; refused");
    arena_.emplace_back();
    arena_.back().kind = kind;
    return &arena_.back();
  }
  Value* number(Kind kind, int64_t i) {
    Value* v = make(kind);
    v->integer = i;
    return v;
  }
  Value* string(std::string s) {
    Value* v = make(Kind::String);
    v->text = std::move(s);
    return v;
  }

  // A container now holds `child`: it nests one level deeper than the child does.
  void nest(Value* container, const Value* child) {
    if (child->depth + 1 > container->depth) container->depth = child->depth + 1;
    if (container->depth > kMaxNesting)
      error("values nest more than ", kMaxNesting, " levels deep, far deeper than a state_dict; refused");
  }
  Value* tuple(std::vector<Value*> items) {
    Value* t = make(Kind::Tuple);
    for (const Value* item : items) nest(t, item);
    t->items = std::move(items);
    return t;
  }
  void append(Value* list, const std::vector<Value*>& items) {
    for (Value* item : items) {
      nest(list, item);
      list->items.push_back(item);
    }
  }
  void set_items(Value* dict, const std::vector<Value*>& items) {
    for (size_t i = 0; i < items.size(); i += 2) {
      nest(dict, items[i]);
      nest(dict, items[i + 1]);
      dict->dict.emplace_back(items[i], items[i + 1]);
    }
  }

  Value* global(const std::string& module, const std::string& name) {
    std::string full = module + "." + name;
    if (!allowed_callable(full) && !storage_types().count(full))
      error("forbidden global ", quote_name(full),
            ": a state_dict needs only OrderedDict, tensors and storages; refused");
    Value* v = make(Kind::Global);
    v->text = full;
    return v;
  }

  size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Value* v) {
    if (stack_.size() > kMaxStack) error("the pickle's stack is too deep");
    stack_.push_back(v);
  }
  Value* pop() {
    if (stack_.size() <= base()) error("stack underflow");
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value* top() const {
    if (stack_.size() <= base()) error("stack underflow");
    return stack_.back();
  }
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) error("no MARK to pop to");
    size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + mark, stack_.end());
    stack_.resize(mark);
    return items;
  }
  Value* dict_top() const {
    Value* d = top();
    if (d->kind != Kind::Dict) error("SETITEM(S) on a ", kind_name(d->kind), ", not a dict");
    return d;
  }
  Value* list_top() const {
    Value* l = top();
    if (l->kind != Kind::List) error("APPEND(S) on a ", kind_name(l->kind), ", not a list");
    return l;
  }
  void memo_put(size_t index) {
    if (memo_.size() >= kMaxValues && !memo_.count(index))
      error("the pickle fills more than ", kMaxValues, " memo slots; refused");
    memo_[index] = top();
  }
  Value* memo_get(size_t index) const {
    auto it = memo_.find(index);
    if (it == memo_.end()) error("memo entry ", index, " was never stored");
    return it->second;
  }

  // ('storage', torch.FloatStorage, key, location, numel)
  Value* persistent_load(const Value* pid) {
    if (pid->kind != Kind::Tuple || pid->items.size() != 5 || pid->items[0]->kind != Kind::String ||
        pid->items[0]->text != "storage")
      error("persistent id is not ('storage', type, key, location, size)");
    const Value* type = pid->items[1];
    const Value* key = pid->items[2];
    const Value* numel = pid->items[4];
    if (type->kind != Kind::Global || !storage_types().count(type->text))
      error("persistent id's storage type is not a torch storage class");
    if (key->kind != Kind::String || key->text.empty() || key->text.find_first_of("/\\") != std::string::npos ||
        key->text.find("..") != std::string::npos)
      error("persistent id's storage key is not a plain name");
    if (numel->kind != Kind::Int || numel->integer < 0) error("persistent id's storage size is not a count");
    Value* s = make(Kind::Storage);
    s->dtype = &storage_types().at(type->text);
    s->text = key->text;
    s->integer = numel->integer;
    return s;
  }

  std::vector<int64_t> int_tuple(const Value* v, const char* what) const {
    if (v->kind != Kind::Tuple) error(what, " is a ", kind_name(v->kind), ", not a tuple of integers");
    if (v->items.size() > 16) error(what, " has ", v->items.size(), " dimensions");
    std::vector<int64_t> out;
    for (const Value* i : v->items) {
      if (i->kind != Kind::Int) error(what, " holds a ", kind_name(i->kind));
      out.push_back(i->integer);
    }
    return out;
  }

  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  Value* rebuild_tensor(const std::vector<Value*>& a) {
    if (a.size() != 6 && a.size() != 7) error("_rebuild_tensor_v2 with ", a.size(), " arguments");
    if (a[0]->kind != Kind::Storage) error("_rebuild_tensor_v2's first argument is a ", kind_name(a[0]->kind));
    if (a[1]->kind != Kind::Int) error("_rebuild_tensor_v2's storage offset is a ", kind_name(a[1]->kind));
    Value* t = make(Kind::Tensor);
    t->view = std::make_unique<TensorView>();
    TensorView& view = *t->view;
    view.storage = a[0];
    view.offset = a[1]->integer;
    view.sizes = int_tuple(a[2], "the tensor's size");
    view.strides = int_tuple(a[3], "the tensor's stride");
    if (view.sizes.size() != view.strides.size()) error("the tensor's size and stride differ in length");
    return t;
  }

  Value* reduce(const Value* callable, const Value* args) {
    if (callable->kind != Kind::Global) error("REDUCE on a ", kind_name(callable->kind), ", not a global");
    if (args->kind != Kind::Tuple) error("REDUCE with ", kind_name(args->kind), " arguments");
    const std::string& name = callable->text;
    const std::vector<Value*>& a = args->items;
    if (name == "collections.OrderedDict") {
      if (!a.empty()) error("OrderedDict called with arguments; only OrderedDict() is accepted");
      return make(Kind::Dict);
    }
    if (name == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(a);
    if (name == "torch._utils._rebuild_parameter") {
      // (data, requires_grad, backward_hooks)
      if (a.size() != 3 || a[0]->kind != Kind::Tensor) error("_rebuild_parameter without a tensor");
      return a[0];
    }
    error(quote_name(name), " cannot be called");
  }

  const std::string& data_;
  std::string origin_;
  size_t pos_ = 0, op_offset_ = 0;
  std::deque<Value> arena_;  // owns every value; a deque never moves them
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<size_t, Value*> memo_;
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

template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

float element(const std::string& dtype, const char* p) {
  if (dtype == "F32") return load<float>(p);
  if (dtype == "F64") return static_cast<float>(load<double>(p));
  if (dtype == "F16") return half_to_float(load<uint16_t>(p));
  if (dtype == "BF16") {
    uint32_t bits = uint32_t(load<uint16_t>(p)) << 16;
    return load<float>(reinterpret_cast<const char*>(&bits));
  }
  if (dtype == "I64") return static_cast<float>(load<int64_t>(p));
  if (dtype == "I32") return static_cast<float>(load<int32_t>(p));
  if (dtype == "I16") return static_cast<float>(load<int16_t>(p));
  if (dtype == "I8") return static_cast<float>(static_cast<int8_t>(*p));
  return static_cast<float>(static_cast<uint8_t>(*p));  // U8, BOOL
}

// The number of elements a tensor's view selects, after checking, in 64-bit
// arithmetic that cannot overflow, that every one of them lies inside a
// storage of `storage_elements`.
int64_t view_elements(const TensorView& t, int64_t storage_elements, const std::string& key, const std::string& path) {
  const std::string name = quote_name(key);
  int64_t numel = 1;
  for (int64_t d : t.sizes) {
    if (d < 0) fail(path, "tensor ", name, " has a negative size");
    if (!checked_mul(numel, d, &numel))
      fail(path, "tensor ", name, " is implausibly large: its element count overflows 64 bits");
  }
  if (numel == 0) return 0;
  // A state_dict tensor never holds more elements than its storage (only an
  // expanded view, stride 0, could), which bounds what is allocated by the storage's size.
  if (numel > storage_elements)
    fail(path, "tensor ", name, " of ", numel, " elements has more elements than its storage of ", storage_elements);
  if (t.offset < 0 || t.offset >= storage_elements)
    fail(path, "tensor ", name, " starts at element ", t.offset, " of a storage of ", storage_elements);
  // The last element's index in the storage must lie inside it.
  int64_t last = t.offset;
  for (size_t i = 0; i < t.sizes.size(); ++i) {
    if (t.strides[i] < 0) fail(path, "tensor ", name, " has a negative stride");
    int64_t step = 0;
    if (!checked_mul(t.sizes[i] - 1, t.strides[i], &step) || !checked_add(last, step, &last))
      fail(path, "tensor ", name, " has a stride of ", t.strides[i], " over ", t.sizes[i],
           " elements, past 64-bit offsets; refused");
    if (last >= storage_elements)
      fail(path, "tensor ", name, " reaches past its storage of ", storage_elements, " elements");
  }
  return numel;
}

bool is_contiguous(const TensorView& t) {
  int64_t expected = 1;
  for (size_t i = t.sizes.size(); i-- > 0;) {
    if (t.sizes[i] != 1 && t.strides[i] != expected) return false;
    expected *= t.sizes[i];  // cannot overflow: the element count was checked
  }
  return true;
}

// A float32 copy of a view already checked by view_elements against `bytes`,
// the storage's contents.
Tensor materialize(const TensorView& t, const std::string& bytes, int64_t numel) {
  const std::string& dtype = *t.storage->dtype;
  const int esize = dtype_size(dtype);
  Tensor out(Shape(t.sizes.begin(), t.sizes.end()));
  if (numel == 0) return out;
  float* dst = out.data();
  if (is_contiguous(t)) {
    const char* src = bytes.data() + t.offset * esize;
    if (dtype == "F32")
      std::memcpy(dst, src, size_t(numel) * 4);
    else
      for (int64_t i = 0; i < numel; ++i) dst[i] = element(dtype, src + i * esize);
    return out;
  }
  std::vector<int64_t> index(t.sizes.size(), 0);
  for (int64_t i = 0; i < numel; ++i) {
    int64_t at = t.offset;
    for (size_t d = 0; d < index.size(); ++d) at += index[d] * t.strides[d];
    dst[i] = element(dtype, bytes.data() + at * esize);
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < t.sizes[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

bool is_legacy_pth(const std::string& bytes) {
  // The legacy format opens with the pickled magic number 0x1950a86a20f9469cfc6c.
  static const unsigned char magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c,
                                        0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  return bytes.size() >= sizeof(magic) && std::memcmp(bytes.data(), magic, sizeof(magic)) == 0;
}

// ---------------------------------------------------------------------------
// The state_dict.

// The archive's folder ("archive/"), the one holding data.pkl.
std::string archive_prefix(const ZipArchive& zip, const std::string& path) {
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
  return prefix;
}

std::string read_pickle(ZipArchive& zip, const std::string& prefix, const std::string& path) {
  if (zip.contains(prefix + "byteorder")) {
    std::string order = zip.read(prefix + "byteorder");
    if (order != "little") fail(path, "byte order ", quote_name(order), " is not supported (only little-endian)");
  }
  const std::string name = prefix + "data.pkl";
  if (zip.size(name) > kMaxPickleBytes)
    fail(path, "data.pkl is ", zip.size(name), " bytes, more than the ", kMaxPickleBytes,
         " a state_dict's pickle needs; refused");
  return zip.read(name);
}

// The dict holding the tensors: the root, or a checkpoint's "state_dict" or
// "model" when the root holds no tensors itself.
const Value& state_dict(const Value* root, const std::string& path) {
  if (root->kind != Kind::Dict) fail(path, "the pickle holds a ", kind_name(root->kind), ", not a state_dict");
  for (const auto& [k, v] : root->dict)
    if (v->kind == Kind::Tensor) return *root;
  for (const auto& [k, v] : root->dict)
    if (k->kind == Kind::String && (k->text == "state_dict" || k->text == "model") && v->kind == Kind::Dict) return *v;
  return *root;
}

// One state_dict entry, checked against its storage's entry in the archive.
struct PlannedTensor {
  std::string name;
  const Value* tensor = nullptr;
  std::string entry;  // the storage's archive entry
  int64_t numel = 0;
  int same_as = -1;  // an earlier entry with the identical view (tied weights): shared, not copied
};

// Every tensor's view checked against its storage's real size, on every use
// of that storage (a key may be named by many tensors, each with its own
// dtype and element count), and the total the tensors expand to checked
// against what the storages declare, all before any storage is read.
std::vector<PlannedTensor> plan_tensors(const Value& dict, const ZipArchive& zip, const std::string& prefix,
                                        const std::string& path) {
  using ViewKey = std::tuple<std::string, std::string, int64_t, std::vector<int64_t>, std::vector<int64_t>>;
  std::vector<PlannedTensor> plan;
  std::map<std::string, size_t> seen;
  std::map<ViewKey, int> views;
  std::map<std::string, int64_t> storage_elements;  // by key: the most any tensor declares
  int64_t expanded = 0;
  for (const auto& [k, v] : dict.dict) {
    if (k->kind != Kind::String) fail(path, "the state_dict has a ", kind_name(k->kind), " key, not a string");
    const std::string name = quote_name(k->text);
    if (v->kind != Kind::Tensor) fail(path, "state_dict entry ", name, " is a ", kind_name(v->kind), ", not a tensor");
    if (!seen.emplace(k->text, plan.size()).second) fail(path, "state_dict key ", name, " repeats");
    const TensorView& view = *v->view;
    const Value& storage = *view.storage;
    const std::string& dtype = *storage.dtype;
    PlannedTensor p{k->text, v, prefix + "data/" + storage.text};
    if (!zip.contains(p.entry))
      fail(path, "tensor ", name, " needs storage ", quote_name(p.entry), ", which the archive lacks");
    int64_t want = 0;
    const uint64_t holds = zip.size(p.entry);
    if (!checked_mul(storage.integer, dtype_size(dtype), &want) || holds != uint64_t(want))
      fail(path, "storage ", quote_name(p.entry), " holds ", holds, " bytes but tensor ", name, " declares it as ",
           storage.integer, " elements of ", dtype, " (", storage.integer, " x ", dtype_size(dtype), " bytes)");
    p.numel = view_elements(view, storage.integer, k->text, path);
    int64_t& declared = storage_elements[storage.text];
    declared = std::max(declared, storage.integer);
    auto [it, fresh] =
        views.emplace(ViewKey{storage.text, dtype, view.offset, view.sizes, view.strides}, int(plan.size()));
    if (!fresh)
      p.same_as = it->second;
    else
      expanded += p.numel;  // each term is at most a storage's size, so the sum cannot overflow
    plan.push_back(std::move(p));
  }
  int64_t budget = 0;
  for (const auto& [key, n] : storage_elements) budget += n;  // each n is bounded by the archive's size
  if (expanded > budget)
    fail(path, "its tensors expand to ", expanded, " elements, more than the ", budget,
         " its storages declare (views overlapping the same data); refused");
  return plan;
}

}  // namespace

std::vector<PthEntry> parse_pth(const std::string& bytes, const std::string& path) {
  if (is_legacy_pth(bytes))
    fail(path,
         "the legacy (before PyTorch 1.6) .pth format is not supported; re-save it with a current PyTorch: "
         "torch.save(torch.load(f), f)");
  if (bytes.size() < 4 || bytes.compare(0, 2, "PK") != 0)
    fail(path, "not a PyTorch .pth file (a torch.save file is a zip archive starting 'PK')");
  ZipArchive zip(bytes, path);
  const std::string prefix = archive_prefix(zip, path);
  const std::string pickle = read_pickle(zip, prefix, path);
  Unpickler unpickler(pickle, path);  // owns the values until the tensors are built
  const Value& dict = state_dict(unpickler.run(), path);
  const std::vector<PlannedTensor> plan = plan_tensors(dict, zip, prefix, path);

  std::vector<PthEntry> entries;
  std::map<std::string, std::string> storages;  // entry -> bytes, each read once
  for (const PlannedTensor& p : plan) {
    const TensorView& view = *p.tensor->view;
    const std::string& dtype = *view.storage->dtype;
    if (p.same_as >= 0) {
      entries.push_back({p.name, dtype, entries[p.same_as].tensor});
      continue;
    }
    auto it = storages.find(p.entry);
    if (it == storages.end()) it = storages.emplace(p.entry, zip.read(p.entry)).first;
    // Checked in the plan; checked again here, where the bytes are used, because
    // a key shared by tensors of other dtypes or counts must fit each of them.
    const int64_t declared = view.storage->integer;
    if (it->second.size() / dtype_size(dtype) != uint64_t(declared) || it->second.size() % dtype_size(dtype) != 0)
      fail(path, "storage ", quote_name(p.entry), " holds ", it->second.size(), " bytes, not the ", declared,
           " elements of ", dtype, " tensor ", quote_name(p.name), " declares");
    entries.push_back({p.name, dtype, materialize(view, it->second, p.numel)});
  }
  return entries;
}

std::vector<PthEntry> read_pth(const std::string& path) {
  std::vector<uint8_t> bytes;
  std::string error;
  if (!read_file(path, &bytes, &error)) fail(path, error);
  return parse_pth(std::string(bytes.begin(), bytes.end()), path);
}

}  // namespace nebula
