// GPU training benchmarks: one whole training step (forward, MSE, backward,
// Adamax) of the study's cnn1 and cnn3 at batch 100, model and data on the GPU,
// on each GPU backend: BM_train_step/cnn1/native, BM_train_step/cnn1/cudnn.
// items_per_second is images per second. Compare with
// `benchmarks/compare_pytorch.py --device cuda --nebula-gpu build/benchmarks/bench_train`.
//
// Timing: each step sits between two CUDA events on gpu::stream(), and the host
// waits for the second after the step, outside it, so the time is the step's
// wall time on the GPU, host gaps inside the step included. The time reported
// is the median of --steps steps (default 30) after a few warm-up steps (cuDNN
// picks its algorithms, the allocator fills its cache). Google Benchmark runs one
// iteration that reports that median as manual time, so its CPU column says
// nothing here.
//
// A variant is a way of running the same step (eagerly, or replaying a captured
// CUDA graph); adding one is one function that returns its step, and a line in
// `variants` below.
//
//   build/benchmarks/bench_train [--steps=N] [--benchmark_filter=cnn1]
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/random.h"
#include "benchmarks/count_flag.h"
#include "benchmarks/gpu_peak.h"
#include "benchmarks/gpu_timer.h"
#include "engine/device.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "engine/optimizer.h"
#include "engine/training_step.h"
#include "kernels/cuda/runtime.h"
#include "models/model_file.h"

namespace nebula {
namespace {

int timed_steps = 30;
constexpr int kBatch = 100;
constexpr int kOutputs = 37;
constexpr int kWarmupSteps = 3;  // eager, before the variant prepares its step
constexpr int kVariantWarmupSteps = 2;

Tensor random_tensor(Shape shape, uint64_t seed) {
  Generator g(seed);
  std::vector<float> v(numel(shape));
  for (float& x : v) x = g.uniform(0.0f, 1.0f);
  return Tensor::from_vector(shape, v);
}

// A model, its optimizer and one batch, all on the GPU.
struct TrainingSetup {
  Model model;
  std::unique_ptr<Adamax> optimizer;
  Variable x, target;
};

std::unique_ptr<TrainingSetup> make_setup(const std::string& model_name) {
  manual_seed(1);
  auto setup = std::make_unique<TrainingSetup>();
  setup->model = load_model(model_name, kOutputs);
  setup->model.network->to(Device::CUDA);
  setup->optimizer = std::make_unique<Adamax>(single_group(*setup->model.network));
  setup->x = Variable(random_tensor(setup->model.input_shape(kBatch), 2).to(Device::CUDA));
  setup->target = Variable(random_tensor({kBatch, kOutputs}, 3).to(Device::CUDA));
  return setup;
}

// The step as the training loop runs it without a graph.
void eager_step(TrainingSetup& s) { training_step(*s.model.network, *s.optimizer, s.x.value(), s.target.value()); }

// A variant prepares its way of running a step on a warmed-up setup and
// returns it; the setup outlives the returned step.
using Step = std::function<void()>;
using Variant = Step (*)(TrainingSetup& s);

Step eager(TrainingSetup& s) {
  return [&s] { eager_step(s); };
}

// The step captured once as a CUDA graph and replayed, as train_cnn runs it.
// The capture happens on the first two calls (eager, then captured), which the
// variant warm-up takes.
Step graph(TrainingSetup& s) {
  auto graphed = std::make_shared<GraphedTrainingStep>(*s.model.network, *s.optimizer);
  return [&s, graphed] { graphed->run(s.x.value(), s.target.value()); };
}

struct NamedVariant {
  const char* suffix;  // appended to the benchmark's name; "" for the eager step
  Variant prepare;
};
const NamedVariant variants[] = {
    {"", eager},
    {"graph", graph},
};

// The median seconds of one step of `model` on `backend`, run by `variant`.
double median_step_seconds(const std::string& model, Backend backend, Variant variant) {
  set_backend(backend);
  std::unique_ptr<TrainingSetup> setup = make_setup(model);
  for (int i = 0; i < kWarmupSteps; ++i) eager_step(*setup);
  NEBULA_CUDA_CHECK(cudaStreamSynchronize(gpu::stream()), "bench_train: warm-up steps");
  Step step = variant(*setup);
  for (int i = 0; i < kVariantWarmupSteps; ++i) step();
  NEBULA_CUDA_CHECK(cudaStreamSynchronize(gpu::stream()), "bench_train: warm-up steps");
  GpuTimer events;
  std::vector<double> seconds;
  for (int i = 0; i < timed_steps; ++i) {
    events.start();
    step();
    seconds.push_back(events.stop());
  }
  return median(seconds);
}

void add(const std::string& model, Backend backend, const NamedVariant& variant) {
  std::string name = "BM_train_step/" + model + "/" + backend_name(backend);
  if (variant.suffix[0] != '\0') name += std::string("/") + variant.suffix;
  Variant prepare = variant.prepare;
  benchmark::RegisterBenchmark(name.c_str(),
                               [=](benchmark::State& state) {
                                 double seconds = 0;
                                 try {
                                   seconds = median_step_seconds(model, backend, prepare);
                                 } catch (const std::exception& e) {
                                   state.SkipWithError(e.what());
                                   return;
                                 }
                                 for (auto _ : state) state.SetIterationTime(seconds);
                                 state.SetItemsProcessed(state.iterations() * kBatch);
                               })
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace nebula

int main(int argc, char** argv) {
  using namespace nebula;
  if (!cuda_available()) {
    std::printf("bench_train: nothing to measure: %s\n", cuda_unavailable_reason().c_str());
    return 0;
  }
  timed_steps = take_count_flag(&argc, argv, "steps", timed_steps);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    benchmark::AddCustomContext("gpu", describe(gpu_peak()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_train: %s\n", e.what());
    return 1;
  }
  benchmark::AddCustomContext("timing", "median of " + std::to_string(timed_steps) +
                                            " steps, each between CUDA events, batch " + std::to_string(kBatch));
  for (const char* model : {"cnn1", "cnn3"})
    for (const NamedVariant& variant : variants)
      for (Backend backend : {Backend::Native, Backend::Cudnn}) add(model, backend, variant);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
