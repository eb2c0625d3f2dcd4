// The .pth reader on archives built here, byte by byte: a state_dict with
// float32, float16, int64 and strided tensors reads back exactly, and hostile or
// broken files (a forbidden global, an unknown opcode, a storage shorter than
// its tensor, a truncated zip, a zip without data.pkl, the legacy format...) are
// refused with an error naming the file and what is wrong.
#include <gtest/gtest.h>
#include <zip.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
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
    op('J');
    return u32(static_cast<uint32_t>(v));
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
    str(key);
    global("torch._utils", "_rebuild_tensor_v2").mark();
    mark().str("storage").global("torch", storage_type).str(storage_key).str("cpu").integer(storage_numel).tuple();
    op('Q');
    integer(offset).ints(size).ints(stride).op(0x89);
    global("collections", "OrderedDict").op(')').op('R');
    return tuple().op('R');
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

// A zip archive of the given entries, stored uncompressed as torch.save does.
std::string make_zip(const std::string& name, const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string path = temp_path(name);
  std::remove(path.c_str());
  int error = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  EXPECT_NE(z, nullptr);
  for (const auto& [entry, data] : entries) {
    zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
    zip_int64_t index = zip_file_add(z, entry.c_str(), src, ZIP_FL_OVERWRITE);
    EXPECT_GE(index, 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  EXPECT_EQ(zip_close(z), 0);
  return path;
}

std::string floats(const std::vector<float>& v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4); }

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
    for (const std::string& f : fragments) EXPECT_NE(what.find(f), std::string::npos) << what;
  }
}

TEST(PthReader, ReadsFloatHalfLongAndStridedTensors) {
  // Storage 0: six floats 0..5. "w" is it as [2, 3]; "wt" its transpose (a
  // strided view of the same storage); "tail" elements 4..5 via an offset.
  Pickle p;
  p.begin_state_dict()
      .tensor("w", "FloatStorage", "0", 6, 0, {2, 3}, {3, 1})
      .tensor("wt", "FloatStorage", "0", 6, 0, {3, 2}, {1, 3})
      .tensor("tail", "FloatStorage", "0", 6, 4, {2}, {1})
      .tensor("h", "HalfStorage", "1", 3, 0, {3}, {1})
      .tensor("bn.num_batches_tracked", "LongStorage", "2", 1, 0, {}, {})
      .tensor("d", "DoubleStorage", "3", 2, 0, {2}, {1})
      .end_state_dict();
  const uint16_t half[] = {0x3c00, 0xc000, 0x3555};  // 1, -2, 0.333252
  const int64_t count = 7;
  const double doubles[] = {0.25, -1e300};
  std::string path = pth("good.pth", p,
                         {{"0", floats({0, 1, 2, 3, 4, 5})},
                          {"1", std::string(reinterpret_cast<const char*>(half), 6)},
                          {"2", std::string(reinterpret_cast<const char*>(&count), 8)},
                          {"3", std::string(reinterpret_cast<const char*>(doubles), 16)}});
  std::vector<PthEntry> e = read_pth(path);
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[0].name, "w");
  EXPECT_EQ(e[0].dtype, "F32");
  EXPECT_EQ(e[0].tensor.shape(), (Shape{2, 3}));
  EXPECT_EQ(e[0].tensor.to_vector(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(e[1].tensor.shape(), (Shape{3, 2}));
  EXPECT_EQ(e[1].tensor.to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(e[2].tensor.to_vector(), (std::vector<float>{4, 5}));
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
  expect_refused(pth("huge.pth", q, {{"0", floats({1, 2, 3, 4, 5, 6})}}), {"tensor 'w'", "more elements than its storage"});

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
  std::ofstream(legacy, std::ios::binary) << std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  expect_refused(legacy, {"legacy", "re-save"});

  expect_refused(temp_path("does_not_exist.pth"), {"cannot open"});
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

}  // namespace
}  // namespace nebula
