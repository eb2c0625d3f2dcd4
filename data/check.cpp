#include "data/check.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace nebula::data {

CheckReport check_images(const Dataset& data, const CheckOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const size_t total = data.rows();
  int threads = options.threads > 0 ? options.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  threads = int(std::min<size_t>(size_t(threads), std::max<size_t>(1, total)));

  struct Result {
    bool ok = false;
    int width = 0, height = 0;
    std::string error;
  };
  std::vector<Result> results(total);
  std::atomic<size_t> next{0}, done{0};
  auto work = [&] {
    ImageDecoder decoder;
    std::vector<uint8_t> buffer;
    Image image;
    constexpr size_t kChunk = 64;
    while (true) {
      size_t begin = next.fetch_add(kChunk);
      if (begin >= total) return;
      size_t end = std::min(total, begin + kChunk);
      for (size_t row = begin; row < end; ++row) {
        Result& r = results[row];
        r.ok = load_image(data.files[row], Preprocess{}, 8, decoder, buffer, &image, &r.error);
        r.width = image.source_width;
        r.height = image.source_height;
      }
      done.fetch_add(end - begin);
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(work);
  if (options.progress) {
    // The calling thread reports progress while the pool works, then joins in.
    std::thread helper(work);
    while (done.load() < total) {
      options.progress(done.load(), total);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    helper.join();
    options.progress(total, total);
  } else {
    work();
  }
  for (std::thread& t : pool) t.join();

  CheckReport report;
  report.rows = total;
  for (size_t row = 0; row < total; ++row) {
    const Result& r = results[row];
    if (r.ok) {
      ++report.decoded;
      ++report.sizes[std::to_string(r.width) + "x" + std::to_string(r.height)];
    } else {
      report.broken.push_back({data.ids[row], data.files[row], r.error});
    }
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace nebula::data
