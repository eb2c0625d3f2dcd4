#include "engine/view_tables.h"

#include <utility>
#include <vector>

namespace nebula {

namespace {

// One host vector's copy on the GPU, freed with its owner.
template <typename T>
class GpuArray {
 public:
  explicit GpuArray(const std::vector<T>& host) : bytes_(host.size() * sizeof(T)) {
    if (bytes_ == 0) return;
    data_ = static_cast<T*>(allocate(Device::CUDA, bytes_));
    copy_bytes(data_, Device::CUDA, host.data(), Device::CPU, bytes_);
  }
  ~GpuArray() {
    if (data_) release(Device::CUDA, data_, bytes_);
  }
  GpuArray(const GpuArray&) = delete;
  GpuArray& operator=(const GpuArray&) = delete;
  const T* data() const { return data_; }

 private:
  size_t bytes_;
  T* data_ = nullptr;
};

}  // namespace

struct ViewTables::GpuCopy {
  explicit GpuCopy(const ViewTable& t)
      : index(t.index), weight(t.weight), start(t.start), entry(t.entry), entry_weight(t.entry_weight) {}
  GpuArray<int32_t> index;
  GpuArray<float> weight;
  GpuArray<int32_t> start, entry;
  GpuArray<float> entry_weight;
};

ViewTables::ViewTables(ViewTable table) : table_(std::move(table)) {}
ViewTables::~ViewTables() = default;

ViewTableArrays ViewTables::arrays(Device device) {
  ViewTableArrays a = host_arrays(table_);
  if (device == Device::CPU) return a;
  if (!gpu_) gpu_ = std::make_unique<GpuCopy>(table_);
  a.index = gpu_->index.data();
  a.weight = gpu_->weight.data();
  a.start = gpu_->start.data();
  a.entry = gpu_->entry.data();
  a.entry_weight = gpu_->entry_weight.data();
  return a;
}

}  // namespace nebula
