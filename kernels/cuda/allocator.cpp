#include "kernels/cuda/allocator.h"

#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "base/environment.h"
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
    const size_t size = rounded(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (void* ptr = allocate_locked(size, /*last_try=*/false)) return ptr;
      NEBULA_CHECK(active_pool_ == 0, "out of GPU memory while capturing the training step (", bytes, " bytes more; ",
                   stats_.bytes_reserved, " reserved): the capture is abandoned");
    }
    // Out of memory outside a capture: let the holders of reserved memory give it up.
    std::vector<std::function<bool()>> handlers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [id, handler] : handlers_) handlers.push_back(handler);
    }
    for (const auto& handler : handlers) handler();
    std::lock_guard<std::mutex> lock(mutex_);
    void* ptr = allocate_locked(size, /*last_try=*/true);
    return ptr;
  }

  void release(void* ptr, size_t bytes) {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    size_t size = rounded(bytes);
    stats_.bytes_in_use -= size;
    // Freed during a capture, a general block joins the capturing pool (the
    // graph may reuse its address); a block another graph owns stays that graph's.
    if (active_pool_ && !owner_.count(ptr)) owner_[ptr] = active_pool_;
    auto owner = owner_.find(ptr);
    if (owner != owner_.end())
      pools_[owner->second][size].push_back(ptr);
    else
      general_[size].push_back(ptr);
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    NEBULA_CUDA_CHECK(cudaStreamSynchronize(stream()), "emptying the GPU memory cache");
    free_general_cache();
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

  void set_limit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = bytes;
  }

  int add_handler(std::function<bool()> handler) {
    std::lock_guard<std::mutex> lock(mutex_);
    handlers_[++last_handler_] = std::move(handler);
    return last_handler_;
  }

  void remove_handler(int id) {
    std::lock_guard<std::mutex> lock(mutex_);
    handlers_.erase(id);
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    AllocatorStats out = stats_;
    out.open_graph_pool = active_pool_;
    return out;
  }

 private:
  // A cached block, else a new one from CUDA. Out of memory outside a capture,
  // the general cache is returned first and CUDA asked once more; then null, or
  // on the last try an error with the figures.
  void* allocate_locked(size_t size, bool last_try) {
    void* ptr = nullptr;
    if (active_pool_) ptr = take(pools_[active_pool_], size);
    if (!ptr) ptr = take(general_, size);
    if (!ptr) ptr = fresh(size);
    if (!ptr && !active_pool_) {
      NEBULA_CUDA_CHECK(cudaStreamSynchronize(stream()), "waiting for the GPU before returning its memory cache");
      free_general_cache();
      ptr = fresh(size);
    }
    if (!ptr) {
      NEBULA_CHECK(!last_try, "out of GPU memory: ", size, " bytes more (", stats_.bytes_in_use, " bytes in use, ",
                   stats_.bytes_reserved, " reserved",
                   limit_ ? detail::concat(", NEBULA_GPU_MEMORY_LIMIT ", limit_) : std::string(), ")");
      return nullptr;
    }
    if (active_pool_) owner_[ptr] = active_pool_;
    stats_.bytes_in_use += size;
    return ptr;
  }

  // A new block from CUDA, or null when CUDA (or the limit) has no room.
  void* fresh(size_t size) {
    if (limit_ && stats_.bytes_reserved + size > limit_) return nullptr;
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // not sticky: clear it
      return nullptr;
    }
    NEBULA_CUDA_CHECK(status, "allocating ", size, " bytes on the GPU");
    ++stats_.cuda_malloc_calls;
    stats_.bytes_reserved += size;
    return ptr;
  }

  void free_general_cache() {
    for (auto& [size, list] : general_)
      for (void* ptr : list) {
        NEBULA_CUDA_CHECK(cudaFree(ptr), "returning ", size, " bytes of cached GPU memory");
        stats_.bytes_reserved -= size;
      }
    general_.clear();
  }

  std::mutex mutex_;
  FreeLists general_;
  std::map<int, FreeLists> pools_;
  std::unordered_map<void*, int> owner_;  // blocks that belong to a graph pool
  int active_pool_ = 0, last_pool_ = 0;
  std::map<int, std::function<bool()>> handlers_;
  int last_handler_ = 0;
  size_t limit_ = memory_limit();
  AllocatorStats stats_;
};

CachingAllocator& allocator() {
  static CachingAllocator* instance = new CachingAllocator;  // never destroyed: tensors may outlive statics
  return *instance;
}

}  // namespace

size_t memory_limit() {
  static const size_t limit = size_t(positive_whole_from_environment(
      "NEBULA_GPU_MEMORY_LIMIT", 0, "the bytes of GPU memory the allocator may reserve"));
  return limit;
}

void* device_allocate(size_t bytes) { return allocator().allocate(bytes); }
void device_release(void* ptr, size_t bytes) { allocator().release(ptr, bytes); }
AllocatorStats allocator_stats() { return allocator().stats(); }
void empty_cache() { allocator().empty_cache(); }
int begin_graph_pool() { return allocator().begin_pool(); }
void end_graph_pool() { allocator().end_pool(); }
void release_graph_pool(int pool) { allocator().release_pool(pool); }
int add_memory_pressure_handler(std::function<bool()> handler) { return allocator().add_handler(std::move(handler)); }
void remove_memory_pressure_handler(int id) { allocator().remove_handler(id); }
void set_memory_limit(size_t bytes) { allocator().set_limit(bytes); }

}  // namespace gpu
}  // namespace nebula
