// The threaded, prefetching batch loader.
//
// Worker threads each make whole batches (read, decode at the DCT scale the
// output needs, one affine resample with the optional augmentation, rescale)
// and park them in a bounded ring of `prefetch` batches; next() hands them out
// in order. What a batch holds depends only on (seed, epoch, batch index):
// the per-epoch shuffle and every augmentation draw are counter-based, so 1
// or 16 threads give identical batches.
//
// A damaged or missing image is reported once (on_broken) and left out of its
// batch, which is then smaller; later epochs skip it without reading it again.
// An exception in a worker is raised by next() at the batch it belongs to.
//
// With device = CUDA (and a GPU present) batches are made in pinned host memory
// and copied asynchronously on Nebula's stream (engine/pinned_staging.h), which
// orders the copy before the step's kernels; next() returns without waiting.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/dataset.h"
#include "engine/tensor.h"

namespace nebula::data {

struct LoaderOptions {
  size_t batch_size = 100;
  Preprocess preprocess;
  bool augment = false;  // training only: validation and test get crop and resize alone
  AugmentRanges ranges;
  bool shuffle = false;    // a fresh permutation of the rows each epoch
  bool drop_last = false;  // leave out a final partial batch
  uint64_t seed = 0;
  int threads = 0;              // 0: every core
  int prefetch = 4;             // whole batches made ahead
  bool cache = false;           // keep decoded images in memory (the full set at 1/4: about 2 GB)
  Device device = Device::CPU;  // where batches land
  // Called once per broken image, from a worker thread (serialised). The default prints a warning line.
  std::function<void(const BrokenImage&)> on_broken;
};

struct Batch {
  Tensor images;             // [n, 3, size, size], values in [0, 1]
  Tensor labels;             // [n, columns]; undefined for an unlabelled data set
  std::vector<int64_t> ids;  // GalaxyID per sample
  std::vector<size_t> rows;  // data set row per sample
  int epoch = 0;
  size_t index = 0;  // batch index within the epoch

  size_t size() const { return ids.size(); }
};

class Loader {
 public:
  // `data` must outlive the loader. `rows` are the data set rows it serves (a split part).
  Loader(const Dataset& data, std::vector<size_t> rows, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Starts (or restarts) the production of an epoch's batches, from batch
  // `first_batch` (a resumed epoch: the batches are those a whole epoch has there).
  void start_epoch(int epoch, size_t first_batch = 0);
  // The next batch of the epoch, in order; false when the epoch is done.
  bool next(Batch* batch);

  size_t rows() const { return rows_.size(); }
  size_t batches_per_epoch() const;
  int threads() const { return int(workers_.size()); }
  // Images found broken so far, in the order found.
  std::vector<BrokenImage> broken() const;
  size_t skipped() const;

 private:
  struct Slot;
  struct Staging;
  struct CacheEntry;
  struct WorkerState;

  void worker_loop();
  void produce(size_t batch, int epoch, const std::vector<size_t>& order, Slot* slot, WorkerState& state);
  bool sample_image(size_t position, WorkerState& state, const Image** image);
  void mark_broken(size_t position, const std::string& reason);
  Staging* acquire_staging();
  void finish_copies();

  const Dataset& data_;
  std::vector<size_t> rows_;
  LoaderOptions options_;
  bool staged_ = false;  // batches for the GPU: made in pinned staging buffers, then copied

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;   // workers wait for work
  std::condition_variable batch_ready_;  // next() waits for a batch
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_{false};
  uint64_t generation_ = 0;  // bumped by start_epoch; stale results are dropped
  bool active_ = false;
  int epoch_ = 0;
  std::shared_ptr<const std::vector<size_t>> order_;  // positions into rows_, this epoch
  size_t total_batches_ = 0;
  size_t next_to_make_ = 0;
  size_t next_to_hand_ = 0;
  std::vector<std::unique_ptr<Slot>> ring_;

  std::vector<std::atomic<uint8_t>> broken_flags_;  // per position in rows_
  mutable std::mutex broken_mutex_;
  std::vector<BrokenImage> broken_;
  std::vector<std::unique_ptr<CacheEntry>> cache_;

  // CUDA path: pinned staging buffers, and the copies in flight.
  std::mutex staging_mutex_;
  std::condition_variable staging_free_;
  std::vector<std::unique_ptr<Staging>> staging_;
  std::vector<Staging*> free_staging_;
  std::vector<Staging*> copying_;
};

}  // namespace nebula::data
