// The .pth reader on archives built here, byte by byte: a state_dict with
// float32, float16, int64 and strided tensors reads back exactly, and hostile or
// broken files (a forbidden global, an unknown opcode, a storage shorter than
// its tensor, a truncated zip, a zip without data.pkl, the legacy format...) are
// refused with an error naming the file and what is wrong. The hostile files
// of issue 10 are rebuilt here as described: a storage reused with another
// size, strides that overflow 64 bits, pickles nested 200,000 deep, memo
// cycles, memo and deflate amplification; each is refused in one line,
// quickly and without the memory it asks for.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <zip.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <functional>
#include <sstream>

#include "base/error.h"
#include "models/import_weights.h"
#include "models/pth_reader.h"

namespace nebula {
namespace {

// Writes pickle protocol 2 opcodes, as torch.save does.
class Pickle {
 public:
  Pickle& proto(int v = 2) { return op(0x80).byte(v); }
  Pickle& op(uint8_t c) { return byte(c); }
  Pickle& global(const std::string& module, const std::string& name) {
    op('c');
    bytes_ += module + "\n" + name + "\n";
    return *this;
  }
  Pickle& str(const std::string& s) {
    op('X');
    u32(static_cast<uint32_t>(s.size()));
    bytes_ += s;
    return *this;
  }
  Pickle& integer(int64_t v) {
    if (v >= 0 && v < 256) return op('K').byte(static_cast<uint8_t>(v));
    if (v < INT32_MIN || v > INT32_MAX) {  // LONG1 of 8 bytes, little-endian two's complement
      op(0x8a).byte(8);
      for (int i = 0; i < 8; ++i) byte(static_cast<uint8_t>(uint64_t(v) >> (8 * i)));
      return *this;
    }
    op('J');
    return u32(static_cast<uint32_t>(v));
  }
  Pickle& put(uint8_t slot) { return op('q').byte(slot); }  // BINPUT
  Pickle& get(uint8_t slot) { return op('h').byte(slot); }  // BINGET
  Pickle& repeat(uint8_t c, size_t n) {
    bytes_.append(n, static_cast<char>(c));
    return *this;
  }
  Pickle& mark() { return op('('); }
  Pickle& tuple() { return op('t'); }
  Pickle& ints(const std::vector<int64_t>& v) {
    mark();
    for (int64_t i : v) integer(i);
    return tuple();
  }
  // key, then _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())
  Pickle& tensor(const std::string& key, const std::string& storage_type, const std::string& storage_key,
                 int64_t storage_numel, int64_t offset, const std::vector<int64_t>& size,
                 const std::vector<int64_t>& stride) {
    return tensor(
        key, [&](Pickle& p) { p.storage(storage_type, storage_key, storage_numel); }, offset, size, stride);
  }
  // The same with the storage pushed by `push_storage` (a persistent id, or a
  // BINGET of one memoized earlier, as torch.save writes a shared storage).
  Pickle& tensor(const std::string& key, const std::function<void(Pickle&)>& push_storage, int64_t offset,
                 const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
    str(key);
    global("torch._utils", "_rebuild_tensor_v2").mark();
    push_storage(*this);
    integer(offset).ints(size).ints(stride).op(0x89);
    global("collections", "OrderedDict").op(')').op('R');
    return tuple().op('R');
  }
  Pickle& storage(const std::string& type, const std::string& key, int64_t numel) {
    mark().str("storage").global("torch", type).str(key).str("cpu").integer(numel).tuple();
    return op('Q');
  }
  Pickle& begin_state_dict() { return proto().global("collections", "OrderedDict").op(')').op('R').mark(); }
  Pickle& end_state_dict() { return op('u').op('.'); }
  const std::string& bytes() const { return bytes_; }

 private:
  Pickle& byte(int v) {
    bytes_ += static_cast<char>(v);
    return *this;
  }
  Pickle& u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_ += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
  std::string bytes_;
};

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "nebula_pth_" + name; }

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A libzip source of `size` zero bytes, made as they are read, so that a
// deflate bomb is written without holding what it inflates to.
zip_int64_t zeros_source(void* state, void* data, zip_uint64_t length, zip_source_cmd_t command) {
  auto* remaining = static_cast<uint64_t*>(state);  // [size, still to read]
  switch (command) {
    case ZIP_SOURCE_OPEN:
      remaining[1] = remaining[0];
      return 0;
    case ZIP_SOURCE_READ: {
      uint64_t n = std::min<uint64_t>(length, remaining[1]);
      std::memset(data, 0, n);
      remaining[1] -= n;
      return static_cast<zip_int64_t>(n);
    }
    case ZIP_SOURCE_CLOSE:
      return 0;
    case ZIP_SOURCE_STAT: {
      auto* st = static_cast<zip_stat_t*>(data);
      zip_stat_init(st);
      st->size = remaining[0];
      st->valid |= ZIP_STAT_SIZE;
      return sizeof(zip_stat_t);
    }
    case ZIP_SOURCE_ERROR: {
      zip_error_t none;
      zip_error_init(&none);
      return zip_error_to_data(&none, data, length);
    }
    case ZIP_SOURCE_FREE:
      delete[] remaining;
      return 0;
    case ZIP_SOURCE_SUPPORTS:
      return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
                                            ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
      return -1;
  }
}

// Writes a zip archive entry by entry: stored as torch.save does, or
// deflated as a hostile (or re-zipped) file might be.
class ZipWriter {
 public:
  explicit ZipWriter(const std::string& name) : path_(temp_path(name)) {
    std::remove(path_.c_str());
    int error = 0;
    zip_ = zip_open(path_.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
    EXPECT_NE(zip_, nullptr);
  }
  void add(const std::string& entry, const std::string& data, bool deflate = false) {
    data_.push_back(data);  // libzip reads it at close
    add_source(entry, zip_source_buffer(zip_, data_.back().data(), data_.back().size(), 0), deflate);
  }
  void add_zeros(const std::string& entry, uint64_t size) {
    add_source(entry, zip_source_function(zip_, zeros_source, new uint64_t[2]{size, size}), true);
  }
  std::string close() {
    EXPECT_EQ(zip_close(zip_), 0);
    return path_;
  }

 private:
  void add_source(const std::string& entry, zip_source_t* source, bool deflate) {
    zip_int64_t index = zip_file_add(zip_, entry.c_str(), source, ZIP_FL_OVERWRITE);
    EXPECT_GE(index, 0);
    zip_set_file_compression(zip_, static_cast<zip_uint64_t>(index), deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                             deflate ? 9 : 0);
  }
  std::string path_;
  zip_t* zip_ = nullptr;
  std::deque<std::string> data_;
};

// A zip archive of the given entries, stored uncompressed as torch.save does.
std::string make_zip(const std::string& name, const std::vector<std::pair<std::string, std::string>>& entries) {
  ZipWriter zip(name);
  for (const auto& [entry, data] : entries) zip.add(entry, data);
  return zip.close();
}

// Peak resident memory so far, in MB.
double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // KB on Linux
}

std::string floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

std::string pth(const std::string& name, const Pickle& pickle,
                const std::vector<std::pair<std::string, std::string>>& storages) {
  std::vector<std::pair<std::string, std::string>> entries = {{"archive/data.pkl", pickle.bytes()},
                                                              {"archive/byteorder", "little"}};
  for (const auto& [key, data] : storages) entries.emplace_back("archive/data/" + key, data);
  entries.emplace_back("archive/version", "3\n");
  return make_zip(name, entries);
}

void expect_refused(const std::string& path, const std::vector<std::string>& fragments) {
  try {
    read_pth(path);
    FAIL() << path << ": expected an error";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << "the error must name the file: " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "the error must be one line: " << what;
    for (const std::string& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << what;
  }
}

TEST(PthReader, ReadsFloatHalfLongAndStridedTensors) {
  // Storage 0: eight floats 0..7. "wt" is elements 0..5 as the transpose of a
  // [2, 3] (a strided view); "tail" elements 6..7 via an offset. "w" is
  // storage 4 as [2, 3].
  Pickle p;
  p.begin_state_dict()
      .tensor("w", "FloatStorage", "4", 6, 0, {2, 3}, {3, 1})
      .tensor("wt", "FloatStorage", "0", 8, 0, {3, 2}, {1, 3})
      .tensor("tail", "FloatStorage", "0", 8, 6, {2}, {1})
      .tensor("h", "HalfStorage", "1", 3, 0, {3}, {1})
      .tensor("bn.num_batches_tracked", "LongStorage", "2", 1, 0, {}, {})
      .tensor("d", "DoubleStorage", "3", 2, 0, {2}, {1})
      .end_state_dict();
  const uint16_t half[] = {0x3c00, 0xc000, 0x3555};  // 1, -2, 0.333252
  const int64_t count = 7;
  const double doubles[] = {0.25, -1e300};
  std::string path = pth("good.pth", p,
                         {{"0", floats({0, 1, 2, 3, 4, 5, 6, 7})},
                          {"1", std::string(reinterpret_cast<const char*>(half), 6)},
                          {"2", std::string(reinterpret_cast<const char*>(&count), 8)},
                          {"3", std::string(reinterpret_cast<const char*>(doubles), 16)},
                          {"4", floats({0, 1, 2, 3, 4, 5})}});
  std::vector<PthEntry> e = read_pth(path);
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[0].name, "w");
  EXPECT_EQ(e[0].dtype, "F32");
  EXPECT_EQ(e[0].tensor.shape(), (Shape{2, 3}));
  EXPECT_EQ(e[0].tensor.to_vector(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(e[1].tensor.shape(), (Shape{3, 2}));
  EXPECT_EQ(e[1].tensor.to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(e[2].tensor.to_vector(), (std::vector<float>{6, 7}));
  EXPECT_EQ(e[3].dtype, "F16");
  EXPECT_EQ(e[3].tensor.to_vector(), (std::vector<float>{1.0f, -2.0f, 0.333251953125f}));
  EXPECT_EQ(e[4].name, "bn.num_batches_tracked");
  EXPECT_EQ(e[4].dtype, "I64");
  EXPECT_EQ(e[4].tensor.shape(), Shape{});
  EXPECT_EQ(e[4].tensor.to_vector(), std::vector<float>{7.0f});
  EXPECT_EQ(e[5].tensor.to_vector()[0], 0.25f);
  EXPECT_TRUE(std::isinf(e[5].tensor.to_vector()[1]));
  // The format is recognised by content, whatever the extension.
  std::string format;
  EXPECT_EQ(read_weights(path, &format).size(), 6u);
  EXPECT_EQ(format, "pth");
}

TEST(PthReader, AcceptsACheckpointDictAroundTheStateDict) {
  Pickle p;
  p.proto().op('}').mark().str("epoch").integer(3).str("state_dict");
  p.global("collections", "OrderedDict").op(')').op('R').mark();
  p.tensor("w", "FloatStorage", "0", 2, 0, {2}, {1}).op('u');
  p.op('u').op('.');
  std::vector<PthEntry> e = read_pth(pth("wrapped.pth", p, {{"0", floats({1, 2})}}));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].name, "w");
}

TEST(PthReader, RefusesAForbiddenGlobal) {
  // The classic: cos\nsystem\n(S'rm -rf ~'\ntR.  Refused at GLOBAL, before anything runs.
  Pickle p;
  p.proto().global("os", "system").mark().str("touch /tmp/nebula_pwned").tuple().op('R').op('.');
  expect_refused(pth("os_system.pth", p, {}), {"forbidden global 'os.system'", "offset 2"});

  Pickle q;
  q.begin_state_dict().str("w").global("builtins", "eval");
  expect_refused(pth("eval.pth", q, {}), {"forbidden global 'builtins.eval'"});

  // Protocol 4's STACK_GLOBAL goes through the same check.
  Pickle r;
  r.proto(4).op(0x8c).op(5);
  std::string bytes = r.bytes() + "posix";
  Pickle s;
  s.op(0x8c).op(6);
  bytes += s.bytes() + "system" + "\x93";
  std::string path = make_zip("stack_global.pth", {{"archive/data.pkl", bytes}});
  expect_refused(path, {"forbidden global 'posix.system'"});
}

TEST(PthReader, RefusesUnknownOpcodesAndCalls) {
  Pickle p;
  p.begin_state_dict().op(0x81);  // NEWOBJ: builds arbitrary objects
  expect_refused(pth("newobj.pth", p, {}), {"opcode 0x81", "refused"});

  Pickle q;
  q.proto().op('i');  // INST
  expect_refused(pth("inst.pth", q, {}), {"opcode 0x69 'i'"});

  Pickle r;  // a storage class is accepted as a name, never called
  r.proto().global("torch", "FloatStorage").op(')').op('R').op('.');
  expect_refused(pth("call_storage.pth", r, {}), {"'torch.FloatStorage' cannot be called"});

  Pickle s;  // OrderedDict with arguments could run iteration code: only OrderedDict()
  s.proto().global("collections", "OrderedDict").mark().str("x").tuple().op('R').op('.');
  expect_refused(pth("odict_args.pth", s, {}), {"OrderedDict called with arguments"});
}

TEST(PthReader, RefusesBrokenPickles) {
  Pickle p;
  p.begin_state_dict().str("w");
  std::string truncated = p.bytes().substr(0, p.bytes().size() - 1);
  expect_refused(make_zip("trunc_pickle.pth", {{"archive/data.pkl", truncated}}), {"truncated"});

  Pickle q;
  q.begin_state_dict();  // no SETITEMS, no STOP
  expect_refused(pth("no_stop.pth", q, {}), {"without STOP"});

  Pickle r;
  r.proto().op('h').op(9);  // BINGET of a memo slot never written
  expect_refused(pth("memo.pth", r, {}), {"memo entry 9"});

  Pickle s;
  s.proto().op('s');  // SETITEM on an empty stack
  expect_refused(pth("underflow.pth", s, {}), {"stack underflow"});

  Pickle t;
  t.proto().integer(5).op('.');
  expect_refused(pth("not_a_dict.pth", t, {}), {"holds a int, not a state_dict"});

  Pickle u;
  u.begin_state_dict().str("w").integer(3).end_state_dict();
  expect_refused(pth("not_a_tensor.pth", u, {}), {"entry 'w' is a int, not a tensor"});
}

TEST(PthReader, RefusesTensorsThatDoNotFitTheirStorage) {
  Pickle p;  // storage declares 6 floats, the archive holds 5
  p.begin_state_dict().tensor("w", "FloatStorage", "0", 6, 0, {6}, {1}).end_state_dict();
  expect_refused(pth("short_storage.pth", p, {{"0", floats({1, 2, 3, 4, 5})}}),
                 {"storage 'archive/data/0' holds 20 bytes", "6 elements of F32"});

  Pickle q;  // a billion elements over a storage of six
  q.begin_state_dict().tensor("w", "FloatStorage", "0", 6, 0, {1000000000}, {1}).end_state_dict();
  expect_refused(pth("huge.pth", q, {{"0", floats({1, 2, 3, 4, 5, 6})}}),
                 {"tensor 'w'", "more elements than its storage"});

  Pickle r;  // an offset past the end
  r.begin_state_dict().tensor("w", "FloatStorage", "0", 6, 5, {2}, {1}).end_state_dict();
  expect_refused(pth("offset.pth", r, {{"0", floats({1, 2, 3, 4, 5, 6})}}), {"reaches past its storage"});

  Pickle s;  // sizes whose product overflows
  s.begin_state_dict()
      .tensor("w", "FloatStorage", "0", 6, 0, {2000000000, 2000000000, 2000000000}, {1, 1, 1})
      .end_state_dict();
  expect_refused(pth("overflow.pth", s, {{"0", floats({1, 2, 3, 4, 5, 6})}}), {"implausibly large"});

  Pickle t;  // the storage's entry is absent
  t.begin_state_dict().tensor("w", "FloatStorage", "7", 1, 0, {1}, {1}).end_state_dict();
  expect_refused(pth("no_storage.pth", t, {}), {"needs storage 'archive/data/7'"});

  Pickle u;  // a storage key that walks out of the archive's folder
  u.begin_state_dict().tensor("w", "FloatStorage", "../../etc/passwd", 1, 0, {1}, {1}).end_state_dict();
  expect_refused(pth("traversal.pth", u, {}), {"storage key is not a plain name"});
}

TEST(PthReader, RefusesBrokenArchives) {
  Pickle p;
  p.begin_state_dict().tensor("w", "FloatStorage", "0", 2, 0, {2}, {1}).end_state_dict();
  std::string good = read_all(pth("whole.pth", p, {{"0", floats({1, 2})}}));
  ASSERT_NO_THROW(parse_pth(good, "whole.pth"));

  std::string truncated = temp_path("truncated.pth");
  std::ofstream(truncated, std::ios::binary) << good.substr(0, good.size() / 2);
  expect_refused(truncated, {"not a readable zip archive"});

  expect_refused(make_zip("no_pickle.pth", {{"archive/data/0", floats({1, 2})}}), {"no <name>/data.pkl"});
  expect_refused(make_zip("two_pickles.pth", {{"a/data.pkl", p.bytes()}, {"b/data.pkl", p.bytes()}}),
                 {"2 data.pkl files"});
  expect_refused(make_zip("big_endian.pth", {{"archive/data.pkl", p.bytes()}, {"archive/byteorder", "big"}}),
                 {"byte order 'big'"});

  std::string garbage = temp_path("garbage.pth");
  std::ofstream(garbage, std::ios::binary) << "this is not a weight file at all";
  expect_refused(garbage, {"not a PyTorch .pth file"});

  // The legacy format opens with a pickled magic number.
  std::string legacy = temp_path("legacy.pth");
  std::ofstream(legacy, std::ios::binary)
      << std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  expect_refused(legacy, {"legacy", "re-save"});

  expect_refused(temp_path("does_not_exist.pth"), {"missing file"});

  // A FIFO is refused at once (opening it for reading would wait for a writer).
  std::string fifo = temp_path("fifo.pth");
  std::remove(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  expect_refused(fifo, {"not a regular file (a FIFO)"});
  std::remove(fifo.c_str());
}

TEST(PthReader, ReadWeightsNamesTheFileForGarbageSafetensors) {
  std::string path = temp_path("garbage.safetensors");
  std::ofstream(path, std::ios::binary) << std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
  try {
    read_weights(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

// Issue 10: fc.bias names the 8-byte storage of fc.weight again, declaring it
// 1,000 floats. Checked only at its first use, 4,000 bytes of the heap became
// weights; every use is checked against the storage's real size now.
TEST(PthReader, ChecksAStorageOnEveryUse) {
  Pickle p;
  p.begin_state_dict()
      .tensor("fc.weight", "FloatStorage", "5", 2, 0, {2}, {1})
      .tensor("fc.bias", "FloatStorage", "5", 1000, 0, {1000}, {1})
      .end_state_dict();
  expect_refused(pth("reused_storage.pth", p, {{"5", floats({1, 2})}}),
                 {"storage 'archive/data/5' holds 8 bytes", "tensor 'fc.bias'", "1000 elements of F32"});

  Pickle q;  // the same key again as another dtype, past its end
  q.begin_state_dict()
      .tensor("fc.weight", "FloatStorage", "5", 2, 0, {2}, {1})
      .tensor("fc.bias", "DoubleStorage", "5", 2, 0, {2}, {1})
      .end_state_dict();
  expect_refused(pth("reused_as_double.pth", q, {{"5", floats({1, 2})}}),
                 {"holds 8 bytes", "tensor 'fc.bias'", "2 elements of F64"});

  Pickle r;  // the key named again with the same declaration, for the other half: a split torch can write
  r.begin_state_dict()
      .tensor("q", "FloatStorage", "5", 2, 0, {1}, {1})
      .tensor("k", "FloatStorage", "5", 2, 1, {1}, {1})
      .end_state_dict();
  std::vector<PthEntry> e = read_pth(pth("reused_fits.pth", r, {{"5", floats({3, 4})}}));
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].tensor.to_vector(), std::vector<float>{3.0f});
  EXPECT_EQ(e[1].tensor.to_vector(), std::vector<float>{4.0f});
}

// Issue 10: a stride of 2^40 over 2^23+1 elements puts the last element at
// 2^63, which overflowed the bounds arithmetic (then a segfault).
TEST(PthReader, RefusesStridesPast64BitOffsets) {
  const int64_t n = (int64_t(1) << 23) + 1;
  Pickle p;
  p.begin_state_dict().tensor("w", "ByteStorage", "0", n, 0, {n}, {int64_t(1) << 40}).end_state_dict();
  ZipWriter zip("stride_overflow.pth");
  zip.add("archive/data.pkl", p.bytes());
  zip.add_zeros("archive/data/0", uint64_t(n));  // 8 MB of zeros, deflated to about 8 KB
  expect_refused(zip.close(), {"tensor 'w'", "stride of 1099511627776", "past 64-bit offsets"});

  Pickle q;  // the product itself overflows
  q.begin_state_dict().tensor("w", "FloatStorage", "0", 4, 0, {3}, {int64_t(1) << 62}).end_state_dict();
  expect_refused(pth("stride_2_62.pth", q, {{"0", floats({1, 2, 3, 4})}}), {"past 64-bit offsets"});

  Pickle r;  // in range of 64 bits but past the storage
  r.begin_state_dict().tensor("w", "FloatStorage", "0", 4, 0, {2, 2}, {2, 2}).end_state_dict();
  expect_refused(pth("stride_past.pth", r, {{"0", floats({1, 2, 3, 4})}}), {"reaches past its storage of 4"});
}

// Issue 10: a pickle nested 200,000 deep overflowed the stack when its values
// were freed. Nesting is bounded, and values are freed without recursion.
TEST(PthReader, RefusesDeepNestingWithoutOverflowingTheStack) {
  const size_t depth = 200000;
  Pickle tuples;  // ((((None,),),),...) by TUPLE1
  tuples.proto().op('N').repeat(0x85, depth).op('.');
  expect_refused(pth("deep_tuple1.pth", tuples, {}), {"nest more than 100 levels"});

  Pickle marks;  // MARK ... MARK TUPLE ... TUPLE
  marks.proto().repeat('(', depth).repeat('t', depth).op('.');
  expect_refused(pth("deep_marks.pth", marks, {}), {"nest more than 100 levels"});

  Pickle lists;  // [[[...]]] by EMPTY_LIST ... APPEND ...
  lists.proto().repeat(']', depth).repeat('a', depth - 1).op('.');
  expect_refused(pth("deep_lists.pth", lists, {}), {"nest more than 100 levels"});

  Pickle dicts;  // {0: {0: {...}}} by EMPTY_DICT, key, ... SETITEM ...
  dicts.proto();
  for (size_t i = 0; i < depth; ++i) dicts.op('}').integer(0);
  dicts.op('}').repeat('s', depth).op('.');
  expect_refused(pth("deep_dicts.pth", dicts, {}), {"nest more than 100 levels"});

  Pickle shallow;  // nesting a state_dict can have is fine
  shallow.begin_state_dict().str("meta").op('N').repeat(0x85, 50).end_state_dict();
  expect_refused(pth("shallow.pth", shallow, {}), {"entry 'meta' is a tuple, not a tensor"});
}

// Issue 10: memo cycles (a list appended to itself, a dict holding itself)
// leaked. The values live in an arena the reader frees whole; the ASan build
// checks that nothing leaks.
TEST(PthReader, RefusesMemoCyclesWithoutLeaking) {
  Pickle list;
  list.proto().op(']').put(0).get(0).op('a').op('.');
  expect_refused(pth("cycle_list.pth", list, {}), {"holds a list, not a state_dict"});

  Pickle dict;  // d["state_dict"] = d: the unwrapping must not loop either
  dict.proto().op('}').put(0).str("state_dict").get(0).op('s').op('.');
  expect_refused(pth("cycle_dict.pth", dict, {}), {"entry 'state_dict' is a dict, not a tensor"});

  Pickle deep;  // appending the list to itself again and again deepens it until refused
  deep.proto().op(']').put(0);
  for (int i = 0; i < 200; ++i) deep.get(0).op('a');
  deep.op('.');
  expect_refused(pth("cycle_deep.pth", deep, {}), {"nest more than 100 levels"});
}

// Issue 10: a 17.7 KB file whose memo is referenced 100 times grew to 1.9 GB:
// a 19 MB storage of zeros, deflated, viewed by 100 tensors.
TEST(PthReader, BoundsMemoAmplification) {
  const int64_t n = 19000000 / 4;
  const double before = peak_rss_mb();
  {
    Pickle p;  // 100 entries, each a BINGET of one memoized tensor
    p.begin_state_dict().tensor("t0", "FloatStorage", "0", n, 0, {n}, {1}).put(1);
    for (int i = 1; i < 100; ++i) p.str("t" + std::to_string(i)).get(1);
    p.end_state_dict();
    ZipWriter zip("memo_tensor.pth");
    zip.add("archive/data.pkl", p.bytes());
    zip.add_zeros("archive/data/0", uint64_t(n) * 4);
    expect_refused(zip.close(), {"inflates to 19000000 bytes", "decompression bomb"});
  }
  {
    Pickle p;  // 100 distinct views of one memoized storage
    p.begin_state_dict().tensor("t0", [&](Pickle& q) { q.storage("FloatStorage", "0", n).put(2); }, 0, {n - 100}, {1});
    for (int i = 1; i < 100; ++i) p.tensor("t" + std::to_string(i), [](Pickle& q) { q.get(2); }, i, {n - 100}, {1});
    p.end_state_dict();
    ZipWriter zip("memo_storage.pth");
    zip.add("archive/data.pkl", p.bytes());
    zip.add_zeros("archive/data/0", uint64_t(n) * 4);
    expect_refused(zip.close(), {"expand to 474990000 elements", "more than the 4750000 its storages declare"});
  }
  EXPECT_LT(peak_rss_mb() - before, 150) << "refusing the file must not build what it asks for";
}

// The budget itself, on stored entries: overlapping views past the storages'
// size are refused; the identical view named twice (tied weights) is shared.
TEST(PthReader, SharesTiedTensorsAndRefusesOverlappingExpansion) {
  std::vector<float> values(1000);
  for (int i = 0; i < 1000; ++i) values[i] = float(i);
  Pickle over;
  over.begin_state_dict().tensor("t0", [](Pickle& q) { q.storage("FloatStorage", "0", 1000).put(2); }, 0, {900}, {1});
  for (int i = 1; i < 100; ++i) over.tensor("t" + std::to_string(i), [](Pickle& q) { q.get(2); }, i, {900}, {1});
  over.end_state_dict();
  expect_refused(pth("overlap.pth", over, {{"0", floats(values)}}), {"expand to 90000 elements", "1000"});

  Pickle tied;
  tied.begin_state_dict().tensor("embed.weight", "FloatStorage", "0", 1000, 0, {10, 100}, {100, 1}).put(1);
  for (int i = 0; i < 100; ++i) tied.str("copy" + std::to_string(i) + ".weight").get(1);
  tied.tensor("head.weight", [](Pickle& q) { q.storage("FloatStorage", "0", 1000); }, 0, {10, 100}, {100, 1});
  tied.end_state_dict();
  std::vector<PthEntry> e = read_pth(pth("tied.pth", tied, {{"0", floats(values)}}));
  ASSERT_EQ(e.size(), 102u);
  for (const PthEntry& entry : e) {
    EXPECT_EQ(entry.tensor.data(), e[0].tensor.data()) << entry.name << " must share the one copy";
    EXPECT_EQ(entry.tensor.shape(), (Shape{10, 100}));
  }
  EXPECT_EQ(e[101].tensor.to_vector()[999], 999.0f);
}

// Issue 10: a 261 KB deflate bomb inflated to 1.5 GB (a 269 MB byte storage,
// 1.08 GB as float32) and 13 s of CPU before a bare std::bad_alloc.
TEST(PthReader, RefusesADeflateBombBeforeInflatingIt) {
  const int64_t n = 269000000;
  Pickle p;
  p.begin_state_dict().tensor("w", "ByteStorage", "0", n, 0, {n}, {1}).end_state_dict();
  ZipWriter zip("bomb.pth");
  zip.add("archive/data.pkl", p.bytes());
  zip.add_zeros("archive/data/0", uint64_t(n));
  const std::string path = zip.close();
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  EXPECT_LT(file.tellg(), 300000) << "the bomb is a small file";
  const double before = peak_rss_mb();
  const auto start = std::chrono::steady_clock::now();
  expect_refused(path, {"entry 'archive/data/0' inflates to 269000000 bytes", "decompression bomb"});
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 2.0);
  EXPECT_LT(peak_rss_mb() - before, 50);

  // A pickle past its limit is refused by its stated size, before it is inflated.
  ZipWriter big("big_pickle.pth");
  big.add_zeros("archive/data.pkl", uint64_t(17) << 20);
  expect_refused(big.close(), {"data.pkl is 17825792 bytes", "refused"});

  // Deflated entries within the bound read as stored ones do.
  Pickle q;
  q.begin_state_dict().tensor("w", "FloatStorage", "0", 3, 0, {3}, {1}).end_state_dict();
  ZipWriter deflated("deflated.pth");
  deflated.add("archive/data.pkl", q.bytes(), true);
  deflated.add("archive/data/0", floats({1, 2, 3}), true);
  EXPECT_EQ(read_pth(deflated.close())[0].tensor.to_vector(), (std::vector<float>{1, 2, 3}));
}

TEST(PthReader, BoundsTheValuesAPickleBuilds) {
  Pickle p;  // half a million Nones: more values than any state_dict
  p.proto().repeat('N', (size_t(1) << 19) + 1).op('.');
  expect_refused(pth("many_values.pth", p, {}), {"more than 524288 values"});

  Pickle q;  // a name with a newline stays one line in the message
  q.begin_state_dict().str("bad\nname").integer(1).end_state_dict();
  expect_refused(pth("newline_key.pth", q, {}), {"entry 'bad\\x0aname' is a int"});
}

}  // namespace
}  // namespace nebula
