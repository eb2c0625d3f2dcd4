#include "kernels/cuda/allocator.h"

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/runtime.h"

namespace nebula {
namespace gpu {

namespace {

// Sizes are rounded up to 512 bytes below 1 MiB and to 2 MiB above, so nearby
// sizes share bins and the cache stays small.
size_t rounded(size_t bytes) {
  const size_t small = 512, large = size_t(2) << 20;
  if (bytes == 0) bytes = 1;
  size_t unit = bytes < (size_t(1) << 20) ? small : large;
  return (bytes + unit - 1) / unit * unit;
}

using FreeLists = std::map<size_t, std::vector<void*>>;

void* take(FreeLists& lists, size_t size) {
  auto it = lists.find(size);
  if (it == lists.end() || it->second.empty()) return nullptr;
  void* ptr = it->second.back();
  it->second.pop_back();
  return ptr;
}

class CachingAllocator {
 public:
  void* allocate(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t size = rounded(bytes);
    void* ptr = nullptr;
    if (active_pool_) ptr = take(pools_[active_pool_], size);
    if (!ptr) ptr = take(general_, size);
    if (!ptr) ptr = fresh(size, bytes);
    if (active_pool_) owner_[ptr] = active_pool_;
    stats_.bytes_in_use += size;
    return ptr;
  }

  void release(void* ptr, size_t bytes) {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    size_t size = rounded(bytes);
    stats_.bytes_in_use -= size;
    if (active_pool_) owner_[ptr] = active_pool_;
    auto owner = owner_.find(ptr);
    if (owner != owner_.end())
      pools_[owner->second][size].push_back(ptr);
    else
      general_[size].push_back(ptr);
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    NEBULA_CUDA_CHECK(cudaStreamSynchronize(stream()), "emptying the GPU memory cache");
    for (auto& [size, list] : general_)
      for (void* ptr : list) {
        cudaFree(ptr);
        stats_.bytes_reserved -= size;
      }
    general_.clear();
  }

  int begin_pool() {
    std::lock_guard<std::mutex> lock(mutex_);
    NEBULA_CHECK(active_pool_ == 0, "GPU memory: a graph pool is already open");
    active_pool_ = ++last_pool_;
    pools_[active_pool_];
    return active_pool_;
  }

  void end_pool() {
    std::lock_guard<std::mutex> lock(mutex_);
    active_pool_ = 0;
  }

  // The pool's free blocks go back to the general cache; blocks still in use
  // join it when they are released.
  void release_pool(int pool) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pools_.find(pool);
    if (it == pools_.end()) return;
    for (auto& [size, list] : it->second)
      for (void* ptr : list) {
        owner_.erase(ptr);
        general_[size].push_back(ptr);
      }
    pools_.erase(it);
    for (auto o = owner_.begin(); o != owner_.end();) o = o->second == pool ? owner_.erase(o) : std::next(o);
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    AllocatorStats out = stats_;
    out.open_graph_pool = active_pool_;
    return out;
  }

 private:
  // A new block from CUDA; when CUDA is out of memory, the cache is returned
  // first and the allocation tried once more.
  void* fresh(size_t size, size_t asked) {
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      cudaStreamSynchronize(stream());
      for (auto& [bin, list] : general_)
        for (void* p : list) {
          cudaFree(p);
          stats_.bytes_reserved -= bin;
        }
      general_.clear();
      status = cudaMalloc(&ptr, size);
    }
    NEBULA_CUDA_CHECK(status, "allocating ", asked, " bytes on the GPU (", stats_.bytes_in_use,
                      " bytes in use, ", stats_.bytes_reserved, " reserved)");
    ++stats_.cuda_malloc_calls;
    stats_.bytes_reserved += size;
    return ptr;
  }

  std::mutex mutex_;
  FreeLists general_;
  std::map<int, FreeLists> pools_;
  std::unordered_map<void*, int> owner_;  // blocks that belong to a graph pool
  int active_pool_ = 0, last_pool_ = 0;
  AllocatorStats stats_;
};

CachingAllocator& allocator() {
  static CachingAllocator* instance = new CachingAllocator;  // never destroyed: tensors may outlive statics
  return *instance;
}

}  // namespace

void* device_allocate(size_t bytes) { return allocator().allocate(bytes); }
void device_release(void* ptr, size_t bytes) { allocator().release(ptr, bytes); }
AllocatorStats allocator_stats() { return allocator().stats(); }
void empty_cache() { allocator().empty_cache(); }
int begin_graph_pool() { return allocator().begin_pool(); }
void end_graph_pool() { allocator().end_pool(); }
void release_graph_pool(int pool) { allocator().release_pool(pool); }

}  // namespace gpu
}  // namespace nebula
