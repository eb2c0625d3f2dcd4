// Kernel benchmarks: each GPU op on the model layers of its case table
// (tests/cases/<op>_cases.h: the study's cnn1 at 3x100x100, cnn2, ResNet-18 and
// ResNet-50 at 70x70, the multi-view models) at batch 100, the hand-written kernel
// (`native`) beside the library (`cudnn`, or `cublas` for dense) on the same
// arguments: BM_conv2d_forward/native/cnn1_conv2, then .../cudnn/cnn1_conv2.
//
// Timing. A benchmark allocates enough copies of the buffers one launch uses
// that the copies together exceed twice the L2 cache, and launch i works on copy
// i, so every launch finds its operands in DRAM, as in a training step. One
// sample is one launch per copy, queued back to back on gpu::stream() between
// two CUDA events, so the GPU never idles waiting for the host between them; the
// time reported is the median over --samples samples (default 21) of the
// sample's time divided by its launches, after untimed passes (the first lets
// cuDNN pick its algorithms; the rest, 20 ms or so, let the clocks ramp up). Google Benchmark runs one iteration that
// reports that median as manual time, so the CPU column says nothing here.
//
// Counters: GFLOP/s for conv and dense (2 N K OH OW C R S, and 2 N in out), GB/s
// for the memory-bound ops (each operand read once and each result written once:
// the traffic the op cannot avoid), peak_share (that rate over the card's FP32
// or DRAM peak, gpu_peak.h; the console prints 0.45 as 450m), and copies.
//
//   build/benchmarks/bench_kernels [--samples=N] [--benchmark_filter=conv2d.*cnn1]
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
#include "engine/view_tables.h"
#include "kernels/activation.h"
#include "kernels/batchnorm2d.h"
#include "kernels/conv2d.h"
#include "kernels/cuda/runtime.h"
#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/maxout.h"
#include "kernels/maxpool2d.h"
#include "kernels/optimizer_update.h"
#include "kernels/view_merge.h"
#include "kernels/views.h"
#include "tests/cases/activation_cases.h"
#include "tests/cases/batchnorm2d_cases.h"
#include "tests/cases/conv2d_cases.h"
#include "tests/cases/dense_cases.h"
#include "tests/cases/dropout_cases.h"
#include "tests/cases/maxout_cases.h"
#include "tests/cases/maxpool2d_cases.h"
#include "tests/cases/optimizer_update_cases.h"
#include "tests/cases/view_merge_cases.h"
#include "tests/cases/views_cases.h"

namespace nebula {
namespace {

int samples = 21;
GpuPeak peak;

// One operand of a launch: its size in floats and the range of its random values.
struct BufferSpec {
  int64_t count = 0;
  float low = -1.0f, high = 1.0f;
};

// `copies` sets of the operands one launch needs, each set in its own memory,
// with copies chosen so the sets together exceed twice the L2 cache.
class RotatingBuffers {
 public:
  RotatingBuffers(const std::vector<BufferSpec>& specs, int64_t l2_bytes) {
    for (const BufferSpec& spec : specs) {
      offsets_.push_back(set_bytes_);
      set_bytes_ += (spec.count * int64_t(sizeof(float)) + 255) / 256 * 256;  // 256-byte aligned operands
    }
    set_bytes_ = std::max<int64_t>(set_bytes_, 256);
    copies_ = static_cast<int>(std::max<int64_t>(2, 2 * l2_bytes / set_bytes_ + 1));
    NEBULA_CUDA_CHECK(cudaMalloc(&base_, size_t(set_bytes_) * copies_), "bench_kernels: allocating ", copies_, " x ",
                      set_bytes_, " bytes");
    try {
      fill(specs);
    } catch (...) {
      cudaFree(base_);
      throw;
    }
  }
  ~RotatingBuffers() { cudaFree(base_); }
  RotatingBuffers(const RotatingBuffers&) = delete;
  RotatingBuffers& operator=(const RotatingBuffers&) = delete;

  int copies() const { return copies_; }
  float* operator()(int copy, int operand) const {
    return reinterpret_cast<float*>(base_ + int64_t(copy) * set_bytes_ + offsets_.at(operand));
  }

 private:
  // Random values through a 1 Mi-float host pattern (values repeating past it
  // change no kernel's speed), then the first set copied to the others.
  void fill(const std::vector<BufferSpec>& specs) {
    constexpr int64_t kPattern = 1 << 20;
    std::vector<float> pattern;
    for (size_t i = 0; i < specs.size(); ++i) {
      Generator generator(1000 + i);
      pattern.resize(std::min(kPattern, specs[i].count));
      for (float& v : pattern) v = generator.uniform(specs[i].low, specs[i].high);
      float* dst = (*this)(0, int(i));
      for (int64_t done = 0; done < specs[i].count; done += kPattern) {
        int64_t n = std::min(kPattern, specs[i].count - done);
        NEBULA_CUDA_CHECK(cudaMemcpy(dst + done, pattern.data(), n * sizeof(float), cudaMemcpyHostToDevice),
                          "bench_kernels: filling an operand");
      }
    }
    for (int c = 1; c < copies_; ++c)
      NEBULA_CUDA_CHECK(cudaMemcpy(base_ + int64_t(c) * set_bytes_, base_, set_bytes_, cudaMemcpyDeviceToDevice),
                        "bench_kernels: copying the operands");
    NEBULA_CUDA_CHECK(cudaDeviceSynchronize(), "bench_kernels: filling the operands");
  }

  char* base_ = nullptr;
  std::vector<int64_t> offsets_;
  int64_t set_bytes_ = 0;
  int copies_ = 0;
};

// Queues one launch of the op on copy `copy` of its operands.
using Launch = std::function<void(const RotatingBuffers& b, int copy)>;

// The median seconds of one launch, as the top comment describes.
double median_launch_seconds(const RotatingBuffers& b, const Launch& launch) {
  for (int c = 0; c < b.copies(); ++c) launch(b, c);
  NEBULA_CUDA_CHECK(cudaStreamSynchronize(gpu::stream()), "bench_kernels: warm-up pass");
  GpuTimer events;
  // A few more untimed passes, so the clocks have ramped up whatever ran before.
  double warm = 0;
  for (int pass = 0; pass < 50 && warm < 0.02; ++pass) {
    events.start();
    for (int c = 0; c < b.copies(); ++c) launch(b, c);
    warm += events.stop();
  }
  std::vector<double> seconds;
  for (int s = 0; s < samples; ++s) {
    events.start();
    for (int c = 0; c < b.copies(); ++c) launch(b, c);
    seconds.push_back(events.stop() / b.copies());
  }
  return median(seconds);
}

// What one launch does, for the counters: FP32 operations, or DRAM bytes.
struct Work {
  double flops = 0, bytes = 0;
};

Work flops(double f) { return Work{f, 0}; }
Work bytes(double floats) { return Work{0, floats * sizeof(float)}; }

void add(const std::string& name, Work work, std::vector<BufferSpec> specs, Launch launch) {
  benchmark::RegisterBenchmark(name.c_str(),
                               [=](benchmark::State& state) {
                                 double seconds = 0;
                                 int copies = 0;
                                 try {
                                   RotatingBuffers buffers(specs, peak.l2_bytes);
                                   copies = buffers.copies();
                                   seconds = median_launch_seconds(buffers, launch);
                                 } catch (const std::exception& e) {
                                   state.SkipWithError(e.what());
                                   return;
                                 }
                                 for (auto _ : state) state.SetIterationTime(seconds);
                                 if (work.flops > 0) {
                                   state.counters["GFLOP/s"] = work.flops / seconds / 1e9;
                                   state.counters["peak_share"] = work.flops / seconds / peak.fp32_flops;
                                 } else {
                                   state.counters["GB/s"] = work.bytes / seconds / 1e9;
                                   state.counters["peak_share"] = work.bytes / seconds / peak.memory_bytes;
                                 }
                                 state.counters["copies"] = copies;
                               })
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

std::string bench_name(const char* op, const char* implementation, const std::string& shape) {
  return std::string("BM_") + op + "/" + implementation + "/" + shape;
}

// ---- conv2d ----------------------------------------------------------------

// The model layers of the op's case table, at the study's batch of 100.
std::vector<cases::Conv2dCase> conv_cases() { return cases::conv2d_model_cases(100); }

double conv_flops(const Conv2dParams& p) {
  return 2.0 * p.batch * p.out_channels * p.out_h * p.out_w * p.in_channels * p.kernel_h * p.kernel_w;
}

void add_conv_benchmarks() {
  for (const cases::Conv2dCase& c : conv_cases()) {
    const Conv2dParams p = c.p;
    const int64_t x = int64_t(p.batch) * p.in_channels * p.in_h * p.in_w;
    const int64_t w = int64_t(p.out_channels) * p.in_channels * p.kernel_h * p.kernel_w;
    const int64_t y = int64_t(p.batch) * p.out_channels * p.out_h * p.out_w;
    const int64_t bias = c.bias ? p.out_channels : 0;
    const bool has_bias = c.bias;
    for (bool library : {false, true})
      add(bench_name("conv2d_forward", library ? "cudnn" : "native", c.name), flops(conv_flops(p)),
          {{x}, {w}, {bias}, {y}}, [p, has_bias, library](const RotatingBuffers& b, int i) {
            const float* bias_ptr = has_bias ? b(i, 2) : nullptr;
            if (library)
              cudnn::conv2d_forward(p, b(i, 0), b(i, 1), bias_ptr, b(i, 3), false);
            else
              cuda::conv2d_forward(p, b(i, 0), b(i, 1), bias_ptr, b(i, 3), false);
          });
  }
  for (const cases::Conv2dCase& c : conv_cases()) {
    const Conv2dParams p = c.p;
    const int64_t dx = int64_t(p.batch) * p.in_channels * p.in_h * p.in_w;
    const int64_t w = int64_t(p.out_channels) * p.in_channels * p.kernel_h * p.kernel_w;
    const int64_t dy = int64_t(p.batch) * p.out_channels * p.out_h * p.out_w;
    for (bool library : {false, true})
      add(bench_name("conv2d_backward_data", library ? "cudnn" : "native", c.name), flops(conv_flops(p)),
          {{dy}, {w}, {dx}}, [p, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::conv2d_backward_data(p, b(i, 0), b(i, 1), b(i, 2));
            else
              cuda::conv2d_backward_data(p, b(i, 0), b(i, 1), b(i, 2));
          });
  }
  for (const cases::Conv2dCase& c : conv_cases()) {
    const Conv2dParams p = c.p;
    const int64_t x = int64_t(p.batch) * p.in_channels * p.in_h * p.in_w;
    const int64_t dw = int64_t(p.out_channels) * p.in_channels * p.kernel_h * p.kernel_w;
    const int64_t dy = int64_t(p.batch) * p.out_channels * p.out_h * p.out_w;
    const int64_t dbias = c.bias ? p.out_channels : 0;
    const bool has_bias = c.bias;
    for (bool library : {false, true})
      add(bench_name("conv2d_backward_filter", library ? "cudnn" : "native", c.name), flops(conv_flops(p)),
          {{x}, {dy}, {dw}, {dbias}}, [p, has_bias, library](const RotatingBuffers& b, int i) {
            float* dbias_ptr = has_bias ? b(i, 3) : nullptr;
            if (library)
              cudnn::conv2d_backward_filter(p, b(i, 0), b(i, 1), b(i, 2), dbias_ptr);
            else
              cuda::conv2d_backward_filter(p, b(i, 0), b(i, 1), b(i, 2), dbias_ptr);
          });
  }
}

// ---- max-pool --------------------------------------------------------------

void add_pool_benchmarks() {
  std::vector<std::pair<std::string, Pool2dParams>> layers;  // the op's table, at batch 100
  for (const cases::MaxPool2dCase& c : cases::maxpool2d_model_cases(100)) layers.push_back({c.name, c.p});
  for (const auto& [name, p] : layers) {
    const int64_t x = int64_t(p.batch) * p.channels * p.in_h * p.in_w;
    const int64_t y = int64_t(p.batch) * p.channels * p.out_h * p.out_w;
    for (bool library : {false, true})
      add(bench_name("maxpool2d_forward", library ? "cudnn" : "native", name), bytes(x + y), {{x}, {y}},
          [p = p, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::maxpool2d_forward(p, b(i, 0), b(i, 1));
            else
              cuda::maxpool2d_forward(p, b(i, 0), b(i, 1));
          });
  }
  for (const auto& [name, p] : layers) {
    const int64_t x = int64_t(p.batch) * p.channels * p.in_h * p.in_w;
    const int64_t y = int64_t(p.batch) * p.channels * p.out_h * p.out_w;
    // x and dy read, dx written (cuDNN also recomputes y: counted as the native kernel's traffic).
    for (bool library : {false, true})
      add(bench_name("maxpool2d_backward", library ? "cudnn" : "native", name), bytes(2 * x + y), {{x}, {y}, {x}},
          [p = p, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::maxpool2d_backward(p, b(i, 0), b(i, 1), b(i, 2));
            else
              cuda::maxpool2d_backward(p, b(i, 0), b(i, 1), b(i, 2));
          });
  }
}

// ---- relu, sigmoid ---------------------------------------------------------

// (name, element count) of the model layers of a case table, at batch 100.
template <typename Case>
std::vector<std::pair<std::string, int64_t>> counts(const std::vector<Case>& model_cases) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const Case& c : model_cases) out.push_back({c.name, c.count()});
  return out;
}

void add_activation_benchmarks() {
  const std::vector<std::pair<std::string, int64_t>> relu_cases = counts(cases::relu_model_cases(100));
  const std::vector<std::pair<std::string, int64_t>> sigmoid_cases = counts(cases::sigmoid_model_cases(100));
  for (const auto& [name, n] : relu_cases)
    for (bool library : {false, true})
      add(bench_name("relu_forward", library ? "cudnn" : "native", name), bytes(2 * n), {{n}, {n}},
          [n = n, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::relu_forward(n, b(i, 0), b(i, 1));
            else
              cuda::relu_forward(n, b(i, 0), b(i, 1));
          });
  for (const auto& [name, n] : relu_cases)
    for (bool library : {false, true})
      add(bench_name("relu_backward", library ? "cudnn" : "native", name), bytes(3 * n), {{n}, {n}, {n}},
          [n = n, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::relu_backward(n, b(i, 0), b(i, 1), b(i, 2));
            else
              cuda::relu_backward(n, b(i, 0), b(i, 1), b(i, 2));
          });
  for (const auto& [name, n] : sigmoid_cases)
    for (bool library : {false, true})
      add(bench_name("sigmoid_forward", library ? "cudnn" : "native", name), bytes(2 * n), {{n}, {n}},
          [n = n, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::sigmoid_forward(n, b(i, 0), b(i, 1));
            else
              cuda::sigmoid_forward(n, b(i, 0), b(i, 1));
          });
  for (const auto& [name, n] : sigmoid_cases)
    for (bool library : {false, true})
      add(bench_name("sigmoid_backward", library ? "cudnn" : "native", name), bytes(3 * n), {{n, 0.0f, 1.0f}, {n}, {n}},
          [n = n, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::sigmoid_backward(n, b(i, 0), b(i, 1), b(i, 2));
            else
              cuda::sigmoid_backward(n, b(i, 0), b(i, 1), b(i, 2));
          });
}

// ---- batch norm ------------------------------------------------------------

void add_batchnorm_benchmarks() {
  std::vector<std::pair<std::string, BatchNormParams>> layers;  // the op's table, at batch 100
  for (const cases::BatchNorm2dCase& c : cases::batchnorm2d_model_cases(100)) layers.push_back({c.name, c.params()});
  for (const auto& [name, p] : layers) {
    const int64_t n = int64_t(p.batch) * p.channels * p.spatial;
    const int64_t c = p.channels;
    // x read, y written; per channel: gamma, beta read, the saved and running statistics written.
    for (bool library : {false, true})
      add(bench_name("batchnorm2d_forward_train", library ? "cudnn" : "native", name), bytes(2 * n + 8 * c),
          {{n}, {c}, {c}, {n}, {c}, {c}, {c}, {c, 0.5f, 1.5f}}, [p = p, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::batchnorm2d_forward_train(p, b(i, 0), b(i, 1), b(i, 2), b(i, 3), b(i, 4), b(i, 5), b(i, 6),
                                               b(i, 7));
            else
              cuda::batchnorm2d_forward_train(p, b(i, 0), b(i, 1), b(i, 2), b(i, 3), b(i, 4), b(i, 5), b(i, 6),
                                              b(i, 7));
          });
  }
  for (const auto& [name, p] : layers) {
    const int64_t n = int64_t(p.batch) * p.channels * p.spatial;
    const int64_t c = p.channels;
    // x and dy read, dx written; per channel: gamma and the saved statistics read, dgamma and dbeta written.
    for (bool library : {false, true})
      add(bench_name("batchnorm2d_backward", library ? "cudnn" : "native", name), bytes(3 * n + 5 * c),
          {{n}, {n}, {c}, {c}, {c, 0.5f, 1.5f}, {n}, {c}, {c}}, [p = p, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::batchnorm2d_backward_train(p, b(i, 0), b(i, 1), b(i, 2), b(i, 3), b(i, 4), b(i, 5), b(i, 6),
                                                b(i, 7));
            else
              cuda::batchnorm2d_backward(p, true, b(i, 0), b(i, 1), b(i, 2), b(i, 3), b(i, 4), b(i, 5), b(i, 6),
                                         b(i, 7));
          });
  }
}

// ---- dropout (native only: cuDNN's mask is not the engine's Philox stream) --

void add_dropout_benchmarks() {
  const uint64_t seed = 1;
  for (const cases::DropoutCase& c : cases::dropout_model_cases(100)) {
    const std::string& name = c.name;
    const int64_t n = c.count();
    const float rate = c.rate;
    add(bench_name("dropout_forward", "native", name), bytes(2 * n), {{n}, {n}},
        [n = n, rate, seed](const RotatingBuffers& b, int i) {
          cuda::dropout_forward(n, rate, seed, uint64_t(i) * n, nullptr, b(i, 0), b(i, 1));
        });
    add(bench_name("dropout_backward", "native", name), bytes(2 * n), {{n}, {n}},
        [n = n, rate, seed](const RotatingBuffers& b, int i) {
          cuda::dropout_backward(n, rate, seed, uint64_t(i) * n, nullptr, b(i, 0), b(i, 1));
        });
  }
}

// ---- dense -----------------------------------------------------------------

void add_dense_benchmarks() {
  for (const cases::DenseCase& c : cases::dense_model_cases(100)) {
    const std::string& name = c.name;
    const DenseParams p = c.params();
    const int64_t x = int64_t(p.batch) * p.in_features, w = int64_t(p.out_features) * p.in_features;
    const int64_t y = int64_t(p.batch) * p.out_features, bias = p.out_features;
    const double f = 2.0 * p.batch * p.in_features * p.out_features;
    for (bool library : {false, true})
      add(bench_name("dense_forward", library ? "cublas" : "native", name), flops(f), {{x}, {w}, {bias}, {y}},
          [p = p, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::dense_forward(p, b(i, 0), b(i, 1), b(i, 2), b(i, 3));
            else
              cuda::dense_forward(p, b(i, 0), b(i, 1), b(i, 2), b(i, 3));
          });
    for (bool library : {false, true})
      add(bench_name("dense_backward_data", library ? "cublas" : "native", name), flops(f), {{y}, {w}, {x}},
          [p = p, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::dense_backward_data(p, b(i, 0), b(i, 1), b(i, 2));
            else
              cuda::dense_backward_data(p, b(i, 0), b(i, 1), b(i, 2));
          });
    for (bool library : {false, true})
      add(bench_name("dense_backward_weight", library ? "cublas" : "native", name), flops(f), {{x}, {y}, {w}, {bias}},
          [p = p, library](const RotatingBuffers& b, int i) {
            if (library)
              cudnn::dense_backward_weight(p, b(i, 0), b(i, 1), b(i, 2), b(i, 3));
            else
              cuda::dense_backward_weight(p, b(i, 0), b(i, 1), b(i, 2), b(i, 3));
          });
  }
}

// ---- views, their merge, maxout (the multi-view models) ----------------------

void add_multi_view_benchmarks() {
  for (const cases::ViewsCase& c : cases::views_model_cases(100)) {
    // The table lives as long as the benchmarks that read it: to the end of the run.
    static std::vector<std::unique_ptr<ViewTables>> tables;
    tables.push_back(std::make_unique<ViewTables>(make_view_table(c.kind, c.in_size, c.out_size)));
    const ViewTableArrays t = tables.back()->arrays(Device::CUDA);
    const int64_t x = numel(c.x()), y = numel(c.y());
    const int64_t batch = c.batch, channels = c.channels;
    add(bench_name("views_forward", "native", c.name), bytes(x + y), {{x}, {y}},
        [t, batch, channels](const RotatingBuffers& b, int i) {
          cuda::views_forward(t, batch, channels, b(i, 0), b(i, 1));
        });
    add(bench_name("views_backward", "native", c.name), bytes(x + y), {{y}, {x}},
        [t, batch, channels](const RotatingBuffers& b, int i) {
          cuda::views_backward(t, batch, channels, b(i, 0), b(i, 1));
        });
  }
  for (const cases::ViewMergeCase& c : cases::view_merge_model_cases(100)) {
    const int64_t x = numel(c.x()), y = numel(c.y());
    add(bench_name("view_merge_forward", "native", c.name), bytes(x + y), {{x}, {y}},
        [p = c.p](const RotatingBuffers& b, int i) { cuda::view_merge_forward(p, b(i, 0), b(i, 1)); });
    add(bench_name("view_merge_backward", "native", c.name), bytes(x + y), {{y}, {x}},
        [p = c.p](const RotatingBuffers& b, int i) { cuda::view_merge_backward(p, b(i, 0), b(i, 1)); });
  }
  for (const cases::MaxoutCase& c : cases::maxout_model_cases(100)) {
    const int64_t x = numel(c.x()), y = numel(c.y());
    const int pieces = c.pieces;
    add(bench_name("maxout_forward", "native", c.name), bytes(x + y), {{x}, {y}},
        [y, pieces](const RotatingBuffers& b, int i) { cuda::maxout_forward(y, pieces, b(i, 0), b(i, 1)); });
    add(bench_name("maxout_backward", "native", c.name), bytes(2 * x + y), {{x}, {y}, {x}},
        [y, pieces](const RotatingBuffers& b, int i) {
          cuda::maxout_backward(y, pieces, b(i, 0), b(i, 1), b(i, 2));
        });
  }
}

// ---- Adamax over a model's parameters ---------------------------------------

void add_adamax_benchmarks() {
  for (const cases::OptimizerUpdateCase& c : cases::optimizer_update_model_cases()) {
    const std::vector<int64_t> sizes = c.sizes;
    const int count = int(sizes.size());
    std::vector<BufferSpec> specs;  // per tensor: w, g, m, u (u >= 0, as the rule keeps it)
    int64_t total = 0;
    for (int64_t n : sizes) {
      specs.insert(specs.end(), {{n}, {n}, {n}, {n, 0.0f, 1.0f}});
      total += n;
    }
    // w, g, m, u read; w, m, u written.
    add(bench_name("adamax", "native", c.name), bytes(7.0 * total), specs,
        [sizes, count](const RotatingBuffers& b, int i) {
          std::vector<ParameterSlots> tensors(static_cast<size_t>(count));
          for (int t = 0; t < count; ++t)
            tensors[t] = ParameterSlots{b(i, 4 * t), b(i, 4 * t + 1), b(i, 4 * t + 2), b(i, 4 * t + 3), sizes[t]};
          cuda::adamax_update(AdamaxParams{}, 10, DeviceStepValues{}, tensors.data(), count);
        });
  }
}

}  // namespace
}  // namespace nebula

int main(int argc, char** argv) {
  using namespace nebula;
  if (!cuda_available()) {
    std::printf("bench_kernels: nothing to measure: %s\n", cuda_unavailable_reason().c_str());
    return 0;
  }
  samples = take_count_flag(&argc, argv, "samples", samples);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    peak = gpu_peak();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kernels: %s\n", e.what());
    return 1;
  }
  benchmark::AddCustomContext("gpu", describe(peak));
  benchmark::AddCustomContext("timing", "median of " + std::to_string(samples) +
                                            " samples, each one launch per L2-rotated copy between CUDA events");
  add_conv_benchmarks();
  add_pool_benchmarks();
  add_activation_benchmarks();
  add_batchnorm_benchmarks();
  add_dropout_benchmarks();
  add_dense_benchmarks();
  add_multi_view_benchmarks();
  add_adamax_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
