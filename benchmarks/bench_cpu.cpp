// CPU benchmarks: one whole training step of the study's models (forward, MSE,
// backward, Adamax) and the heavy layers on cnn1's shapes. items_per_second is
// images per second. Compare with benchmarks/compare_pytorch.py on the same machine.
#include <benchmark/benchmark.h>

#include "base/random.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "engine/optimizer.h"
#include "models/model_file.h"

namespace nebula {
namespace {

Tensor random_tensor(Shape shape, uint64_t seed) {
  Generator g(seed);
  std::vector<float> v(numel(shape));
  for (float& x : v) x = g.uniform(0.0f, 1.0f);
  return Tensor::from_vector(shape, v);
}

void training_step(benchmark::State& state, const char* name) {
  const int batch = static_cast<int>(state.range(0));
  manual_seed(1);
  Model model = load_model(name, 37);
  Adamax optimizer(single_group(*model.network));
  Variable x(random_tensor(model.input_shape(batch), 2));
  Variable target(random_tensor({batch, 37}, 3));
  for (auto _ : state) {
    optimizer.zero_grad();
    Variable loss = mse_loss((*model.network)(x), target);
    backward(loss);
    optimizer.step();
    benchmark::DoNotOptimize(loss.value().data());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_train_step_cnn1(benchmark::State& state) { training_step(state, "cnn1"); }
void BM_train_step_cnn2(benchmark::State& state) { training_step(state, "cnn2"); }
void BM_train_step_cnn3(benchmark::State& state) { training_step(state, "cnn3"); }
BENCHMARK(BM_train_step_cnn1)->Arg(100)->Unit(benchmark::kMillisecond)->MinTime(5.0)->UseRealTime();
BENCHMARK(BM_train_step_cnn2)->Arg(100)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();
BENCHMARK(BM_train_step_cnn3)->Arg(100)->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();

// cnn1's convolutions, batch 100: (in channels, out channels, input size).
const std::vector<std::vector<int64_t>> cnn1_convs = {{3, 32, 100}, {32, 64, 49}, {64, 128, 23}, {128, 128, 10}};

Conv2dParams conv_case(const benchmark::State& state) {
  const auto& c = cnn1_convs.at(state.range(0));
  return conv2d_params(100, int(c[0]), int(c[2]), int(c[2]), int(c[1]), 3, 1, Padding::Valid);
}

void set_conv_counters(benchmark::State& state, const Conv2dParams& p) {
  double flops = 2.0 * p.batch * p.out_channels * p.out_h * p.out_w * p.in_channels * 9;
  state.counters["GFLOP/s"] = benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}

void BM_conv2d_forward(benchmark::State& state) {
  Conv2dParams p = conv_case(state);
  Tensor x = random_tensor({p.batch, p.in_channels, p.in_h, p.in_w}, 1);
  Tensor w = random_tensor({p.out_channels, p.in_channels, 3, 3}, 2), b = random_tensor({p.out_channels}, 3);
  Tensor y({p.batch, p.out_channels, p.out_h, p.out_w});
  for (auto _ : state) dispatch::conv2d_forward(p, x, w, &b, y);
  set_conv_counters(state, p);
}

void BM_conv2d_backward_data(benchmark::State& state) {
  Conv2dParams p = conv_case(state);
  Tensor dy = random_tensor({p.batch, p.out_channels, p.out_h, p.out_w}, 1);
  Tensor w = random_tensor({p.out_channels, p.in_channels, 3, 3}, 2);
  Tensor dx({p.batch, p.in_channels, p.in_h, p.in_w});
  for (auto _ : state) dispatch::conv2d_backward_data(p, dy, w, dx);
  set_conv_counters(state, p);
}

void BM_conv2d_backward_filter(benchmark::State& state) {
  Conv2dParams p = conv_case(state);
  Tensor x = random_tensor({p.batch, p.in_channels, p.in_h, p.in_w}, 1);
  Tensor dy = random_tensor({p.batch, p.out_channels, p.out_h, p.out_w}, 2);
  Tensor dw({p.out_channels, p.in_channels, 3, 3}), db({p.out_channels});
  for (auto _ : state) dispatch::conv2d_backward_filter(p, x, dy, dw, &db);
  set_conv_counters(state, p);
}

BENCHMARK(BM_conv2d_forward)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_conv2d_backward_data)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_conv2d_backward_filter)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->UseRealTime();

// cnn1's first dense layer: 2048 -> 512, batch 100.
void BM_dense_forward_backward(benchmark::State& state) {
  Tensor x = random_tensor({100, 2048}, 1), w = random_tensor({512, 2048}, 2), b = random_tensor({512}, 3);
  Tensor y({100, 512}), dx({100, 2048}), dw({512, 2048}), db({512});
  for (auto _ : state) {
    dispatch::dense_forward(x, w, &b, y);
    dispatch::dense_backward_data(y, w, dx);
    dispatch::dense_backward_weight(x, y, dw, &db);
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(3 * 2.0 * 100 * 2048 * 512 * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_dense_forward_backward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_maxpool2d_forward_backward(benchmark::State& state) {
  Pool2dParams p = pool2d_params(100, 32, 98, 98, 2, 2, 0);
  Tensor x = random_tensor({100, 32, 98, 98}, 1), y({100, 32, 49, 49}), dx({100, 32, 98, 98});
  for (auto _ : state) {
    dispatch::maxpool2d_forward(p, x, y);
    dispatch::maxpool2d_backward(p, x, y, dx);
  }
  state.counters["GB/s"] = benchmark::Counter(
      (x.numel() * 3.0 + y.numel() * 2.0) * sizeof(float) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_maxpool2d_forward_backward)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nebula

BENCHMARK_MAIN();
