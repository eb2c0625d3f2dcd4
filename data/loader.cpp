#include "data/loader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "base/counter_random.h"
#include "base/error.h"
#include "engine/device.h"
#include "engine/pinned_staging.h"

namespace nebula::data {

namespace {

constexpr uint64_t kShuffleStream = 0x5348554646ull;  // "SHUFF": apart from augmentation's draws

}  // namespace

// Pinned host memory for one batch on its way to the GPU.
struct Loader::Staging {
  Staging(size_t image_bytes, size_t label_bytes) : images(image_bytes), labels(label_bytes) {}
  PinnedBuffer images, labels;
  CopyDoneEvent copied;
};

struct Loader::Slot {
  uint64_t generation = 0;
  size_t index = 0;
  Batch batch;
  Staging* staging = nullptr;  // CUDA path: the batch's pixels are here, not in batch.images
  std::exception_ptr error;
};

struct Loader::CacheEntry {
  std::atomic<int> state{0};  // 0 empty, 1 being filled, 2 ready
  Image image;
};

struct Loader::WorkerState {
  ImageDecoder decoder;
  std::vector<uint8_t> buffer;
  Image image;
};

Loader::Loader(const Dataset& data, std::vector<size_t> rows, LoaderOptions options)
    : data_(data), rows_(std::move(rows)), options_(std::move(options)), broken_flags_(rows_.size()) {
  NEBULA_CHECK(options_.batch_size > 0, "loader: batch size must be positive");
  NEBULA_CHECK(options_.preprocess.size > 0, "loader: output size must be positive, got ", options_.preprocess.size);
  NEBULA_CHECK(options_.prefetch > 0, "loader: prefetch must be at least 1, got ", options_.prefetch);
  for (size_t row : rows_)
    NEBULA_CHECK(row < data_.rows(), "loader: row ", row, " is outside the data set's ", data_.rows(), " rows");
  for (auto& flag : broken_flags_) flag.store(0);
  if (!options_.on_broken) {
    options_.on_broken = [](const BrokenImage& broken) {
      std::fprintf(stderr, "warning: skipping broken image %s\n", describe(broken).c_str());
    };
  }
  if (options_.cache) {
    cache_.resize(rows_.size());
    for (auto& entry : cache_) entry = std::make_unique<CacheEntry>();
  }
  ring_.resize(size_t(options_.prefetch));

  // Pinned memory only where a GPU answers; without one, batches stay on the CPU.
  staged_ = options_.device == Device::CUDA;
  if (staged_) {
    NEBULA_CHECK(cuda_available(), "loader: batches cannot go to the GPU: ", cuda_unavailable_reason());
    const size_t s = size_t(options_.preprocess.size);
    const size_t image_bytes = options_.batch_size * 3 * s * s * sizeof(float);
    const size_t label_bytes = std::max<size_t>(1, options_.batch_size * data_.num_columns() * sizeof(float));
    // Every ring slot may hold one, and one more may be in its copy.
    for (int i = 0; i < options_.prefetch + 1; ++i) {
      auto staging = std::make_unique<Staging>(image_bytes, label_bytes);
      free_staging_.push_back(staging.get());
      staging_.push_back(std::move(staging));
    }
  }

  int threads = options_.threads > 0 ? options_.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_ready_.notify_all();
  {
    // A worker between its check of stop_ and its wait holds this mutex: taking it
    // here means the notification cannot fall in that gap.
    std::lock_guard<std::mutex> lock(staging_mutex_);
  }
  staging_free_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  // A copy still in flight reads its buffer: wait before the buffers go.
  for (Staging* staging : copying_) staging->copied.wait_quietly();
}

size_t Loader::batches_per_epoch() const {
  size_t n = rows_.size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void Loader::start_epoch(int epoch, size_t first_batch) {
  auto order = std::make_shared<std::vector<size_t>>(rows_.size());
  std::iota(order->begin(), order->end(), size_t(0));
  if (options_.shuffle) {
    CounterRandom random(options_.seed ^ kShuffleStream, uint64_t(epoch), 0);
    for (size_t i = order->size(); i > 1; --i) std::swap((*order)[i - 1], (*order)[random.below(i)]);
  }
  std::vector<std::unique_ptr<Slot>> stale;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++generation_;
    epoch_ = epoch;
    order_ = std::move(order);
    total_batches_ = batches_per_epoch();
    next_to_make_ = std::min(first_batch, total_batches_);
    next_to_hand_ = next_to_make_;
    active_ = true;
    for (auto& slot : ring_) stale.push_back(std::move(slot));
  }
  for (auto& slot : stale) {
    if (slot && slot->staging) {
      std::lock_guard<std::mutex> lock(staging_mutex_);
      free_staging_.push_back(slot->staging);
    }
  }
  staging_free_.notify_all();
  work_ready_.notify_all();
}

void Loader::worker_loop() {
  WorkerState state;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_ready_.wait(lock, [&] {
      return stop_ ||
             (active_ && next_to_make_ < total_batches_ && next_to_make_ < next_to_hand_ + size_t(options_.prefetch));
    });
    if (stop_) return;
    const size_t index = next_to_make_++;
    const uint64_t generation = generation_;
    const int epoch = epoch_;
    std::shared_ptr<const std::vector<size_t>> order = order_;
    lock.unlock();

    auto slot = std::make_unique<Slot>();
    slot->generation = generation;
    slot->index = index;
    try {
      produce(index, epoch, *order, slot.get(), state);
    } catch (...) {
      slot->error = std::current_exception();
    }

    lock.lock();
    if (generation != generation_ || stop_) {
      if (slot->staging) {
        std::lock_guard<std::mutex> staging_lock(staging_mutex_);
        free_staging_.push_back(slot->staging);
        staging_free_.notify_all();
      }
      continue;
    }
    ring_[index % ring_.size()] = std::move(slot);
    batch_ready_.notify_all();
  }
}

void Loader::mark_broken(size_t position, const std::string& reason) {
  if (broken_flags_[position].exchange(1) != 0) return;
  const size_t row = rows_[position];
  BrokenImage broken{data_.ids[row], data_.files[row], reason};
  std::lock_guard<std::mutex> lock(broken_mutex_);
  broken_.push_back(broken);
  options_.on_broken(broken);
}

bool Loader::sample_image(size_t position, WorkerState& state, const Image** image) {
  const std::string& path = data_.files[rows_[position]];
  std::string error;
  if (!cache_.empty()) {
    CacheEntry& entry = *cache_[position];
    int expected = 0;
    if (entry.state.load(std::memory_order_acquire) == 2) {
      *image = &entry.image;
      return true;
    }
    if (entry.state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      if (!load_image(path, options_.preprocess, 0, state.decoder, state.buffer, &entry.image, &error)) {
        entry.image = Image{};
        entry.state.store(0, std::memory_order_release);
        mark_broken(position, error);
        return false;
      }
      entry.image.pixels.shrink_to_fit();
      entry.state.store(2, std::memory_order_release);
      *image = &entry.image;
      return true;
    }
    // Another worker is filling this entry (the same row in the next epoch's first batches): decode our own copy.
  }
  if (!load_image(path, options_.preprocess, 0, state.decoder, state.buffer, &state.image, &error)) {
    mark_broken(position, error);
    return false;
  }
  *image = &state.image;
  return true;
}

Loader::Staging* Loader::acquire_staging() {
  std::unique_lock<std::mutex> lock(staging_mutex_);
  while (true) {
    NEBULA_CHECK(!stop_, "loader: stopping");
    if (!free_staging_.empty()) {
      Staging* staging = free_staging_.back();
      free_staging_.pop_back();
      return staging;
    }
    if (!copying_.empty()) {
      // The oldest copy has long been issued; waiting for it frees its buffer.
      Staging* staging = copying_.front();
      copying_.erase(copying_.begin());
      staging->copied.wait();
      return staging;
    }
    staging_free_.wait(lock);
  }
}

void Loader::finish_copies() {
  std::lock_guard<std::mutex> lock(staging_mutex_);
  for (auto it = copying_.begin(); it != copying_.end();) {
    if ((*it)->copied.query() == CopyDoneEvent::State::pending) {
      ++it;
      continue;
    }
    free_staging_.push_back(*it);
    it = copying_.erase(it);
  }
  staging_free_.notify_all();
}

void Loader::produce(size_t index, int epoch, const std::vector<size_t>& order, Slot* slot, WorkerState& state) {
  const size_t begin = index * options_.batch_size;
  const size_t planned = std::min(options_.batch_size, order.size() - begin);
  const int s = options_.preprocess.size;
  const size_t sample_floats = size_t(3) * s * s;
  const size_t columns = data_.num_columns();
  const bool labelled = data_.labelled();

  Batch& batch = slot->batch;
  batch.epoch = epoch;
  batch.index = index;
  float* images;
  float* labels = nullptr;
  if (staged_) {
    slot->staging = acquire_staging();
    images = slot->staging->images.floats();
    labels = slot->staging->labels.floats();
  } else {
    batch.images = Tensor({int64_t(planned), 3, s, s});
    images = batch.images.data();
    if (labelled) {
      batch.labels = Tensor({int64_t(planned), int64_t(columns)});
      labels = batch.labels.data();
    }
  }

  size_t count = 0;
  for (size_t i = 0; i < planned; ++i) {
    const size_t position = order[begin + i];
    if (broken_flags_[position].load(std::memory_order_relaxed)) continue;
    const Image* image = nullptr;
    if (!sample_image(position, state, &image)) continue;
    const size_t row = rows_[position];
    const int64_t id = data_.ids[row];
    float* out = images + count * sample_floats;
    if (options_.augment) {
      AugmentParams params = draw_augment(options_.ranges, s, s, options_.seed, uint64_t(epoch), uint64_t(id));
      render_sample(*image, options_.preprocess, &params, out);
    } else {
      render_sample(*image, options_.preprocess, nullptr, out);
    }
    if (labelled) std::memcpy(labels + count * columns, data_.label_row(row), columns * sizeof(float));
    batch.ids.push_back(id);
    batch.rows.push_back(row);
    ++count;
  }

  if (!staged_ && count < planned) {
    // Broken images left holes: keep the batch dense.
    Tensor dense({int64_t(count), 3, s, s});
    std::memcpy(dense.data(), images, count * sample_floats * sizeof(float));
    batch.images = dense;
    if (labelled) {
      Tensor dense_labels({int64_t(count), int64_t(columns)});
      std::memcpy(dense_labels.data(), labels, count * columns * sizeof(float));
      batch.labels = dense_labels;
    }
  }
}

bool Loader::next(Batch* out) {
  std::unique_ptr<Slot> slot;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      NEBULA_CHECK(active_, "loader: call start_epoch() before next()");
      if (next_to_hand_ >= total_batches_) return false;
      const size_t index = next_to_hand_;
      auto& place = ring_[index % ring_.size()];
      batch_ready_.wait(lock, [&] { return place && place->index == index; });
      slot = std::move(place);
      ++next_to_hand_;
    }
    work_ready_.notify_all();
    if (slot->error) {
      if (slot->staging) {
        std::lock_guard<std::mutex> lock(staging_mutex_);
        free_staging_.push_back(slot->staging);
      }
      std::rethrow_exception(slot->error);
    }
    if (slot->batch.size() > 0) break;
    // Every image of this batch was broken (each already reported): go on to the next.
    if (slot->staging) {
      std::lock_guard<std::mutex> lock(staging_mutex_);
      free_staging_.push_back(slot->staging);
    }
  }

  Batch& batch = slot->batch;
  if (slot->staging) {
    const int s = options_.preprocess.size;
    const int64_t n = int64_t(batch.size());
    batch.images = Tensor({n, 3, s, s}, Device::CUDA);
    copy_to_device_async(batch.images, slot->staging->images.floats());
    if (data_.labelled()) {
      batch.labels = Tensor({n, int64_t(data_.num_columns())}, Device::CUDA);
      copy_to_device_async(batch.labels, slot->staging->labels.floats());
    }
    slot->staging->copied.record();
    {
      std::lock_guard<std::mutex> lock(staging_mutex_);
      copying_.push_back(slot->staging);
    }
    finish_copies();
  }
  *out = std::move(batch);
  return true;
}

std::vector<BrokenImage> Loader::broken() const {
  std::lock_guard<std::mutex> lock(broken_mutex_);
  return broken_;
}

size_t Loader::skipped() const {
  std::lock_guard<std::mutex> lock(broken_mutex_);
  return broken_.size();
}

}  // namespace nebula::data
