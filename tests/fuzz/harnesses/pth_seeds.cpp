// Seed .pth files: state_dicts pickled the way torch.save pickles them (protocol
// 2, tensors through _rebuild_tensor_v2, storages as persistent ids), each both
// as an archive and as its bare data.pkl (fuzz_pth wraps those; see there).
#include <cstdint>
#include <string>
#include <vector>

#include "pth_archive.h"
#include "seeds.h"

namespace nebula::fuzz {
namespace {

// Writes pickle opcodes.
class Pickle {
 public:
  Pickle& op(uint8_t c) {
    bytes_ += char(c);
    return *this;
  }
  Pickle& u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) op(uint8_t(v >> (8 * i)));
    return *this;
  }
  Pickle& global(const std::string& module, const std::string& name) {
    op('c');
    bytes_ += module + "\n" + name + "\n";
    return *this;
  }
  Pickle& str(const std::string& s) {
    op('X').u32(uint32_t(s.size()));
    bytes_ += s;
    return *this;
  }
  Pickle& integer(int64_t v) {
    if (v >= 0 && v < 256) return op('K').op(uint8_t(v));
    if (v >= 0 && v < 65536) return op('M').op(uint8_t(v)).op(uint8_t(v >> 8));
    return op('J').u32(uint32_t(v));
  }
  Pickle& ints(const std::vector<int64_t>& v) {  // a tuple, as TUPLE1-3 where it fits, as torch writes it
    if (v.empty()) return op(')');
    if (v.size() > 3) op('(');
    for (int64_t i : v) integer(i);
    return op(v.size() > 3 ? 't' : uint8_t(0x84 + v.size()));
  }
  Pickle& put(uint32_t slot) { return slot < 256 ? op('q').op(uint8_t(slot)) : op('r').u32(slot); }
  Pickle& get(uint32_t slot) { return slot < 256 ? op('h').op(uint8_t(slot)) : op('j').u32(slot); }
  // ('storage', torch.<type>, key, 'cpu', numel) as a persistent id, memoized in `slot`.
  Pickle& storage(const std::string& type, const std::string& key, int64_t numel, uint32_t slot) {
    op('(').str("storage").global("torch", type).str(key).str("cpu").integer(numel).op('t');
    return op('Q').put(slot);
  }
  // _rebuild_tensor_v2(<storage pushed by the caller>, offset, size, stride, False, OrderedDict())
  Pickle& begin_tensor() { return global("torch._utils", "_rebuild_tensor_v2").op('('); }
  Pickle& end_tensor(int64_t offset, const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
    integer(offset).ints(size).ints(stride).op(0x89);
    return global("collections", "OrderedDict").op(')').op('R').op('t').op('R');
  }
  Pickle& ordered_dict() { return global("collections", "OrderedDict").op(')').op('R'); }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// conv.weight [4, 2, 2, 2] and conv.bias [4] in one float storage.
std::string plain() {
  Pickle p;
  p.op(0x80).op(2).ordered_dict().put(0).op('(');
  p.str("conv.weight").begin_tensor().storage("FloatStorage", "0", 64, 1).end_tensor(0, {4, 2, 2, 2}, {8, 4, 2, 1});
  p.str("conv.bias").begin_tensor().get(1).end_tensor(32, {4}, {1});
  return p.op('u').op('.').bytes();
}

// Every storage type, a transposed view, a scalar, a tied weight (the same
// tensor twice, through the memo), a parameter, and the _metadata BUILD.
std::string mixed() {
  Pickle p;
  p.op(0x80).op(2).ordered_dict().put(0).op('(');
  p.str("t").begin_tensor().storage("FloatStorage", "0", 64, 1).end_tensor(0, {8, 8}, {1, 8}).put(2);
  p.str("tied").get(2);
  p.str("h").begin_tensor().storage("HalfStorage", "1", 16, 3).end_tensor(0, {4, 4}, {4, 1});
  p.str("bn.num_batches_tracked").begin_tensor().storage("LongStorage", "2", 8, 4).end_tensor(0, {}, {});
  p.str("d").begin_tensor().storage("DoubleStorage", "3", 8, 5).end_tensor(0, {2, 4}, {4, 1});
  p.str("p").global("torch._utils", "_rebuild_parameter").op('(');
  p.begin_tensor().get(4).end_tensor(1, {7}, {1}).op(0x88).ordered_dict().op('t').op('R');
  p.op('u');
  p.op('}').str("_metadata").ordered_dict().str("").op('}').str("version").integer(1).op('s').op('s').op('s');
  return p.op('b').op('.').bytes();
}

// A training checkpoint: {"epoch": 3, "state_dict": OrderedDict(...)}, unwrapped by the reader.
std::string checkpoint() {
  Pickle p;
  p.op(0x80).op(2).op('}').put(0).op('(').str("epoch").integer(3).str("state_dict").ordered_dict().put(1);
  p.str("fc.weight").begin_tensor().storage("FloatStorage", "0", 64, 2).end_tensor(0, {16, 4}, {4, 1}).op('s');
  return p.op('u').op('.').bytes();
}

}  // namespace

void write_pth_seeds(const std::string& dir) {
  const std::pair<const char*, std::string> pickles[] = {
      {"plain", plain()}, {"mixed", mixed()}, {"checkpoint", checkpoint()}};
  for (const auto& [name, pickle] : pickles) {
    write_seed(dir, std::string(name) + ".pkl", pickle);
    write_seed(dir, std::string(name) + ".pth", pth_archive(pickle, seed_storages()));
  }
  write_seed(dir, "mixed_deflated.pth", pth_archive(mixed(), seed_storages(), true));
}

}  // namespace nebula::fuzz
