// Loader benchmarks on real JPEGs (by default the Galaxy Zoo sample in
// ../shared/data/galaxyzoo): decoding at each DCT scale, the one-affine
// augmentation, decode + augment per core, and the whole threaded loader for
// 1, 2, ... threads. items_per_second is images per second. Ends with one
// summary line; benchmarks/compare_loader.py runs the same pipeline with PIL.
//
//   bench_loader [--data DIR | --images DIR --labels FILE] [--images-used N] [benchmark flags]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <thread>

#include "base/error.h"
#include "base/file_io.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/loader.h"

namespace nebula::data {
namespace {

struct Setup {
  Dataset data;
  std::vector<std::vector<uint8_t>> files;  // the first images' bytes, in memory
  std::map<std::string, double> rates;      // benchmark name -> images/s of its last run
};
Setup* setup = nullptr;

// Times the loop itself so the summary can quote the last run's rate: in this
// thread's CPU time for the one-core benchmarks (other processes on the machine
// then barely move the figure), in wall time for the threaded loader.
class Rate {
 public:
  explicit Rate(bool cpu_time) : cpu_time_(cpu_time), start_(now()) {}
  void record(const std::string& name, double images) {
    double seconds = now() - start_;
    if (seconds > 0) setup->rates[name] = images / seconds;
  }

 private:
  double now() const {
    if (!cpu_time_) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
  }
  bool cpu_time_;
  double start_;
};

void BM_read_file(benchmark::State& state) {
  std::vector<uint8_t> buffer;
  std::string error;
  size_t i = 0;
  for (auto _ : state) {
    read_file(setup->data.files[i++ % setup->files.size()], &buffer, &error);
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_decode(benchmark::State& state) {
  const int scale = int(state.range(0));
  ImageDecoder decoder;
  Image image;
  std::string error;
  size_t i = 0;
  Rate rate(true);
  for (auto _ : state) {
    const auto& bytes = setup->files[i++ % setup->files.size()];
    if (!decoder.decode(bytes.data(), bytes.size(), scale, &image, &error)) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(image.pixels.data());
  }
  state.SetItemsProcessed(state.iterations());
  rate.record("decode_1/" + std::to_string(scale), double(state.iterations()));
}

// The resample alone, from images already decoded at the scale the output needs.
void BM_augment(benchmark::State& state) {
  Preprocess pre{int(state.range(0)), int(state.range(1))};
  const bool augment = state.range(2) != 0;
  pre.antialias = state.range(3) != 0;
  pre.resize_first = state.range(4) != 0;
  ImageDecoder decoder;
  std::vector<Image> images(std::min<size_t>(64, setup->files.size()));
  std::string error;
  for (size_t i = 0; i < images.size(); ++i)
    decode_for(setup->files[i].data(), setup->files[i].size(), pre, 0, decoder, &images[i], &error);
  std::vector<float> out(size_t(3) * pre.size * pre.size);
  AugmentRanges ranges;
  uint64_t i = 0;
  for (auto _ : state) {
    AugmentParams params = draw_augment(ranges, pre.size, pre.size, 1, 0, i);
    render_sample(images[i++ % images.size()], pre, augment ? &params : nullptr, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

// One core's whole job per image: decode (at the right scale, only the crop's
// window), augment, rescale.
void BM_decode_augment(benchmark::State& state) {
  const Preprocess pre{int(state.range(0)), int(state.range(1))};
  ImageDecoder decoder;
  Image image;
  std::string error;
  std::vector<float> out(size_t(3) * pre.size * pre.size);
  AugmentRanges ranges;
  uint64_t i = 0;
  Rate rate(true);
  for (auto _ : state) {
    const auto& bytes = setup->files[i % setup->files.size()];
    if (!decode_for(bytes.data(), bytes.size(), pre, 0, decoder, &image, &error)) state.SkipWithError(error.c_str());
    AugmentParams params = draw_augment(ranges, pre.size, pre.size, 1, 0, i++);
    render_sample(image, pre, &params, out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  rate.record("decode_augment/" + std::to_string(pre.crop) + "/" + std::to_string(pre.size),
              double(state.iterations()));
}

// The threaded loader over the whole data set: files from the page cache,
// batches of 100 with augmentation, shuffled.
void BM_loader(benchmark::State& state) {
  const int threads = int(state.range(0));
  const bool cached = state.range(1) != 0;
  LoaderOptions options;
  options.batch_size = 100;
  options.preprocess = Preprocess{250, 70};
  options.augment = true;
  options.shuffle = true;
  options.threads = threads;
  options.cache = cached;
  std::vector<size_t> rows(setup->data.rows());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  Loader loader(setup->data, rows, options);
  int epoch = 0;
  size_t images = 0;
  if (cached) {  // the first epoch fills the cache; later ones only resample
    loader.start_epoch(epoch++);
    Batch batch;
    while (loader.next(&batch)) {
    }
  }
  Rate rate(false);
  for (auto _ : state) {
    loader.start_epoch(epoch++);
    Batch batch;
    while (loader.next(&batch)) images += batch.size();
  }
  state.SetItemsProcessed(int64_t(images));
  rate.record(std::string(cached ? "cached_loader/" : "loader/") + std::to_string(threads), double(images));
}

}  // namespace
}  // namespace nebula::data

int main(int argc, char** argv) {
  using namespace nebula::data;
  std::string data_dir, images_dir, labels;
  size_t used = 5000;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_loader: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      *out = argv[++i];
    };
    std::string number;
    if (arg == "--data")
      value(&data_dir);
    else if (arg == "--images")
      value(&images_dir);
    else if (arg == "--labels")
      value(&labels);
    else if (arg == "--images-used")
      value(&number), used = std::stoul(number);
    else
      rest.push_back(argv[i]);
  }
  if (data_dir.empty() && images_dir.empty()) {
    const std::string sample = std::string(NEBULA_SOURCE_DIR) + "/../shared/data/galaxyzoo";
    images_dir = sample + "/images";
    labels = sample + "/labels_partial.csv";
  }
  int rest_argc = int(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());

  Setup state;
  try {
    state.data = data_dir.empty() ? open_dataset(images_dir, labels) : open_kaggle(data_dir);
    if (state.data.rows() > used) {
      state.data.ids.resize(used);
      state.data.files.resize(used);
      state.data.labels.resize(used * state.data.num_columns());
    }
    std::string error;
    for (size_t i = 0; i < std::min<size_t>(state.data.rows(), 1000); ++i) {
      std::vector<uint8_t> bytes;
      if (nebula::read_file(state.data.files[i], &bytes, &error)) state.files.push_back(std::move(bytes));
    }
    NEBULA_CHECK(!state.files.empty(), "no readable image in ", state.data.images_dir);
    // Warm the page cache so the loader measures decoding, not the disk.
    std::vector<uint8_t> bytes;
    for (const std::string& file : state.data.files) nebula::read_file(file, &bytes, &error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_loader: error: %s\n", e.what());
    return 1;
  }
  setup = &state;
  std::printf("bench_loader: %zu images from %s\n", state.data.rows(), state.data.images_dir.c_str());

  benchmark::RegisterBenchmark("read_file", BM_read_file);
  benchmark::RegisterBenchmark("decode", BM_decode)->ArgName("scale_denominator")->Arg(1)->Arg(2)->Arg(4)->Arg(8);
  benchmark::RegisterBenchmark("resample", BM_augment)
      ->ArgNames({"crop", "size", "augment", "antialias", "resize_first"})
      ->Args({250, 70, 0, 1, 0})
      ->Args({250, 70, 1, 0, 0})
      ->Args({250, 70, 1, 1, 0})
      ->Args({250, 70, 1, 1, 1})
      ->Args({0, 100, 1, 1, 0});
  benchmark::RegisterBenchmark("decode_augment", BM_decode_augment)
      ->ArgNames({"crop", "size"})
      ->Args({250, 70})
      ->Args({0, 100})
      ->Args({0, 70});
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  for (int cached : {0, 1}) {
    auto* loader = benchmark::RegisterBenchmark(cached ? "loader_cached" : "loader", BM_loader);
    loader->ArgNames({"threads", "cache"})->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(cached ? 4 : 2);
    for (int t = 1; t <= cores; t *= 2) loader->Args({t, cached});
    if ((cores & (cores - 1)) != 0) loader->Args({cores, cached});
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  auto rate = [&](const std::string& name) {
    auto it = state.rates.find(name);
    return it == state.rates.end() ? 0.0 : it->second;
  };
  std::printf(
      "bench_loader: decode+augment to 70x70 (crop 250, 1/%d scale): %.0f img/s per core; "
      "to 100x100: %.0f img/s per core (in CPU time)\n",
      decode_scale_for(424, 424, Preprocess{250, 70}), rate("decode_augment/250/70"), rate("decode_augment/0/100"));
  for (const char* kind : {"loader", "cached_loader"}) {
    std::string line;
    for (int t = 1; t <= cores; ++t) {
      double r = rate(std::string(kind) + "/" + std::to_string(t));
      if (r > 0)
        line += (line.empty() ? "" : ", ") + std::to_string(int(r + 0.5)) + " img/s with " + std::to_string(t) +
                (t == 1 ? " thread" : " threads");
    }
    std::printf("bench_loader: %s (crop 250, 70x70, augmented, batches of 100): %s\n",
                std::string(kind) == "loader" ? "loader" : "loader with the decoded images cached", line.c_str());
  }
  return 0;
}
