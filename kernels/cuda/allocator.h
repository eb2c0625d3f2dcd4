// Device memory through a caching allocator: a training step frees and
// reallocates the same activation sizes every time, and cudaMalloc/cudaFree
// synchronise the device, so freed blocks are kept, binned by size, and handed
// out again. All GPU work runs on one stream (runtime.h), so a block freed on
// the host while kernels that use it are still queued can be reused at once:
// the stream orders the old uses before the new ones.
//
// A CUDA graph bakes addresses into its kernels, so the blocks a captured step
// touches must never go to anyone else while the graph lives: between
// begin_graph_pool() and end_graph_pool() every block allocated or freed
// belongs to that pool, and returns to the general cache only through
// release_graph_pool(), once the graph is destroyed.
//
// Out of memory: outside a capture, the general cache is returned to CUDA, then
// the memory-pressure handlers run (a graphed training step drops its graph,
// whose pool is then free), and the allocation is tried again before it fails.
// Inside a capture nothing is synchronised or freed (that would invalidate the
// capture): the allocation fails at once, and the capture with it.
// NEBULA_GPU_MEMORY_LIMIT (bytes) caps what the allocator reserves, to try a
// smaller card's limits on a large one.
#pragma once
#include <cstddef>
#include <functional>

namespace nebula {
namespace gpu {

void* device_allocate(size_t bytes);
void device_release(void* ptr, size_t bytes);

struct AllocatorStats {
  size_t cuda_malloc_calls = 0;  // every cudaMalloc so far
  size_t bytes_reserved = 0;     // obtained from CUDA and not yet returned
  size_t bytes_in_use = 0;       // handed out and not yet released
  int open_graph_pool = 0;       // the pool a capture allocates from; 0 when none is open
};
AllocatorStats allocator_stats();

// Returns every cached (free) block of the general cache to CUDA.
void empty_cache();

// A handler frees what it can and says whether it freed anything; it runs
// without the allocator's lock held, so it may release memory and graph pools.
int add_memory_pressure_handler(std::function<bool()> handler);
void remove_memory_pressure_handler(int id);

// The reservation cap from NEBULA_GPU_MEMORY_LIMIT; 0 when unset (no cap).
size_t memory_limit();
// Replaces the cap (0: none), for tests of the out-of-memory paths.
void set_memory_limit(size_t bytes);

int begin_graph_pool();
void end_graph_pool();
void release_graph_pool(int pool);

}  // namespace gpu
}  // namespace nebula
