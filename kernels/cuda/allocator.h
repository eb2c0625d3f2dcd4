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
#pragma once
#include <cstddef>

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

int begin_graph_pool();
void end_graph_pool();
void release_graph_pool(int pool);

}  // namespace gpu
}  // namespace nebula
