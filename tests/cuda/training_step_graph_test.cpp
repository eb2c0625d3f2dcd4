// The caching allocator and the training step replayed as a CUDA graph. The
// graph must give the very numbers the eager steps give, whatever happens
// between replays (eager steps of another batch size, a learning-rate schedule,
// a step count set by a checkpoint, a parameter frozen), a capture that throws
// must leave nothing behind, and memory a graph uses must never go to anyone
// else while it lives.
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/random.h"
#include "cuda_test_util.h"
#include "engine/device.h"
#include "engine/dispatch.h"
#include "engine/layers.h"
#include "engine/optimizer.h"
#include "engine/training_step.h"
#include "kernels/cuda/allocator.h"
#include "kernels/cuda/runtime.h"
#include "models/model_file.h"

namespace nebula {
namespace {

// Skips without a GPU and leaves the Native backend behind it.
using GraphTest = test::CudaTest;

TEST_F(GraphTest, FreedBlocksAreReusedWithoutCudaMalloc) {
  { Tensor warm({1000, 1000}, Device::CUDA); }
  size_t before = gpu::allocator_stats().cuda_malloc_calls;
  for (int i = 0; i < 10; ++i) Tensor t({1000, 1000}, Device::CUDA);
  EXPECT_EQ(gpu::allocator_stats().cuda_malloc_calls, before);
}

TEST_F(GraphTest, PoolBlocksStayInThePoolUntilReleased) {
  const size_t bytes = 3 << 20;
  int pool = gpu::begin_graph_pool();
  void* inside = gpu::device_allocate(bytes);
  gpu::device_release(inside, bytes);
  gpu::end_graph_pool();
  void* outside = gpu::device_allocate(bytes);
  EXPECT_NE(outside, inside) << "a graph's block went to an allocation outside the graph";
  gpu::device_release(outside, bytes);
  gpu::release_graph_pool(pool);
  // Released, the block is an ordinary cached block again.
  void* a = gpu::device_allocate(bytes);
  void* b = gpu::device_allocate(bytes);
  EXPECT_TRUE(a == inside || b == inside);
  gpu::device_release(a, bytes);
  gpu::device_release(b, bytes);
}

struct TrainingRun {
  std::vector<float> losses;
  std::vector<std::vector<float>> parameters;
  bool captured = false;
};

// What changes during a run, applied identically to the eager and the graphed one.
struct Schedule {
  explicit Schedule(std::vector<int> batch_sizes, std::vector<float> rates = {})
      : batches(std::move(batch_sizes)), lrs(std::move(rates)) {}
  std::vector<int> batches;          // each step's batch size
  std::vector<float> lrs;            // each step's learning rate (empty: the default throughout)
  int jump_steps_at = -1;            // before this step, set_steps(steps + 5), as loading a checkpoint does
  int freeze_first_at = -1;          // before this step, the first parameter stops training
  std::string optimizer = "adamax";  // or adamw, sgd-nesterov
};

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<ParameterGroup> groups) {
  if (name == "adamw") {
    AdamParams p;
    p.weight_decay = 0.05f;  // decoupled: reads each replay's learning rate too
    return std::make_unique<AdamW>(std::move(groups), p);
  }
  if (name == "sgd-nesterov") {
    SgdParams p;
    p.lr = 1e-2f, p.momentum = 0.9f, p.nesterov = true, p.weight_decay = 1e-4f;
    return std::make_unique<Sgd>(std::move(groups), p);
  }
  return std::make_unique<Adamax>(std::move(groups));
}

// cnn1 (which has dropout) trained on fixed random batches, eagerly or through
// GraphedTrainingStep, following the schedule.
TrainingRun train_cnn1(Backend backend, bool graphed, const Schedule& schedule) {
  set_backend(backend);
  manual_seed(5);
  Model model = load_model("cnn1", 37);
  model.network->to(Device::CUDA);
  std::unique_ptr<Optimizer> made = make_optimizer(schedule.optimizer, single_group(*model.network));
  Optimizer& optimizer = *made;
  GraphedTrainingStep graph(*model.network, optimizer);
  Generator g(9);
  TrainingRun run;
  int64_t jumped = 0;
  for (size_t s = 0; s < schedule.batches.size(); ++s) {
    if (!schedule.lrs.empty()) optimizer.set_lr(schedule.lrs[s]);
    if (int(s) == schedule.jump_steps_at) {
      optimizer.set_steps(optimizer.steps() + 5);
      jumped = 5;
    }
    if (int(s) == schedule.freeze_first_at) model.network->parameters().front().variable.set_requires_grad(false);
    const int batch = schedule.batches[s];
    std::vector<float> x(numel(model.input_shape(batch))), y(size_t(batch) * 37);
    for (float& v : x) v = g.uniform();
    for (float& v : y) v = g.uniform();
    Tensor xt = Tensor::from_vector(model.input_shape(batch), x, Device::CUDA);
    Tensor yt = Tensor::from_vector({batch, 37}, y, Device::CUDA);
    StepResult r = graphed ? graph.run(xt, yt) : training_step(*model.network, optimizer, xt, yt);
    run.losses.push_back(r.loss.to_vector()[0]);
  }
  run.captured = graph.captured();
  for (const NamedParameter& p : model.network->parameters()) run.parameters.push_back(p.variable.value().to_vector());
  const int64_t steps = int64_t(schedule.batches.size());
  EXPECT_EQ(optimizer.steps(), steps + jumped);
  for (Dropout* d : dropout_layers(*model.network)) EXPECT_EQ(d->calls, uint64_t(steps));
  set_backend(Backend::Native);
  return run;
}

void expect_same_training(const Schedule& schedule) {
  for (Backend backend : {Backend::Native, Backend::Cudnn}) {
    SCOPED_TRACE(backend_name(backend));
    TrainingRun eager = train_cnn1(backend, false, schedule);
    TrainingRun graphed = train_cnn1(backend, true, schedule);
    EXPECT_TRUE(graphed.captured);
    ASSERT_EQ(eager.losses.size(), graphed.losses.size());
    for (size_t i = 0; i < eager.losses.size(); ++i) EXPECT_EQ(eager.losses[i], graphed.losses[i]) << "step " << i;
    ASSERT_EQ(eager.parameters.size(), graphed.parameters.size());
    for (size_t i = 0; i < eager.parameters.size(); ++i)
      EXPECT_EQ(0, std::memcmp(eager.parameters[i].data(), graphed.parameters[i].data(),
                               eager.parameters[i].size() * sizeof(float)))
          << "parameter " << i << " differs after graphed steps";
  }
}

TEST_F(GraphTest, ReplayedStepsMatchEagerStepsBitForBit) { expect_same_training(Schedule({8, 8, 8, 8, 8, 3})); }

// An eager step (a smaller batch) between replays: the next replays draw the
// dropout masks and take the optimizer steps that follow it.
TEST_F(GraphTest, ReplaysAfterAnEagerStepStayInStep) { expect_same_training(Schedule({8, 8, 3, 8, 8, 8, 3, 8})); }

// A learning-rate schedule: every replay uses the rate of its own step.
TEST_F(GraphTest, ALearningRateChangedBetweenReplaysIsUsed) {
  expect_same_training(Schedule({8, 8, 8, 8, 8, 8}, {1e-3f, 1e-3f, 1e-3f, 5e-4f, 2e-4f, 1e-4f}));
}

// The other optimizers, under a schedule: AdamW's decay and SGD's Nesterov
// momentum replay as they step eagerly.
TEST_F(GraphTest, AdamWAndNesterovSgdReplayTheirScheduledSteps) {
  for (const char* name : {"adamw", "sgd-nesterov"}) {
    SCOPED_TRACE(name);
    Schedule schedule({8, 8, 8, 8, 3, 8}, {1e-3f, 2e-3f, 3e-3f, 2e-3f, 1e-3f, 5e-4f});
    schedule.optimizer = name;
    expect_same_training(schedule);
  }
}

// The step count set after the capture (a loaded checkpoint sets it) reaches the replays.
TEST_F(GraphTest, AStepCountSetAfterCaptureReachesTheReplays) {
  Schedule schedule({8, 8, 8, 8, 8, 8});
  schedule.jump_steps_at = 4;
  expect_same_training(schedule);
}

// Freezing a parameter after the capture: the graph is captured again, so the
// frozen parameter stays as it is, as in eager training.
TEST_F(GraphTest, FreezingAfterCaptureCapturesAgain) {
  Schedule schedule({8, 8, 8, 8, 8, 8, 8});
  schedule.freeze_first_at = 3;
  expect_same_training(schedule);
}

// A module that throws a non-Nebula exception on its second forward: the capture.
class ThrowsOnSecondCall : public Module {
 public:
  const char* kind() const override { return "ThrowsOnSecondCall"; }
  Shape output_shape(const Shape& input) const override { return input; }

 protected:
  Variable forward(const Variable& x) override {
    if (++calls_ == 2) throw std::out_of_range("thrown inside the capture on purpose");
    return x;
  }

 private:
  int calls_ = 0;
};

TEST_F(GraphTest, AnExceptionInsideTheCaptureUnwindsIt) {
  manual_seed(3);
  Sequential net;
  net.emplace<Dense>(6, 4);
  net.emplace<Dropout>(0.5f);
  net.emplace<ThrowsOnSecondCall>();
  net.to(Device::CUDA);
  Adamax optimizer(single_group(net));
  GraphedTrainingStep graph(net, optimizer);
  Tensor x = Tensor::full({5, 6}, 0.5f, Device::CUDA), y = Tensor::full({5, 4}, 0.25f, Device::CUDA);
  for (int s = 0; s < 4; ++s) graph.run(x, y);  // warm-up, failed capture (then eager), eager, eager
  EXPECT_FALSE(graph.captured());
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusActive;
  ASSERT_EQ(cudaStreamIsCapturing(gpu::stream(), &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusNone);
  EXPECT_EQ(optimizer.steps(), 4);  // the failed capture's step was undone and ran eagerly
  EXPECT_EQ(dropout_layers(net)[0]->calls, 4u);
  EXPECT_EQ(gpu::allocator_stats().open_graph_pool, 0);
  // And the device is sound: an ordinary eager step still runs.
  StepResult r = training_step(net, optimizer, x, y);
  EXPECT_TRUE(std::isfinite(r.loss.to_vector()[0]));
}

// Out of GPU memory outside the graph: the graph's pool is given back (the
// graph is dropped) and training goes on eagerly, with the same numbers.
TEST_F(GraphTest, OutOfMemoryOutsideTheGraphDropsItAndTrainsOn) {
  manual_seed(5);
  Model model = load_model("cnn1", 37);
  model.network->to(Device::CUDA);
  Adamax optimizer(single_group(*model.network));
  GraphedTrainingStep graph(*model.network, optimizer);
  Tensor x = Tensor::full(model.input_shape(8), 0.5f, Device::CUDA), y = Tensor::full({8, 37}, 0.3f, Device::CUDA);
  for (int s = 0; s < 3; ++s) graph.run(x, y);
  ASSERT_TRUE(graph.captured());
  // Room for less than one more conv1 output beyond what is in use: only the pool's blocks can serve it.
  const gpu::AllocatorStats before = gpu::allocator_stats();
  gpu::set_memory_limit(before.bytes_in_use + (size_t(12) << 20));
  {
    Tensor big({8, 32, 100, 100}, Device::CUDA);  // 10 MiB, as the graph's first activation
    big.fill(1.0f);
  }
  EXPECT_FALSE(graph.captured()) << "the graph's memory was not given back";
  StepResult r = graph.run(x, y);  // eager now
  EXPECT_TRUE(std::isfinite(r.loss.to_vector()[0]));
  EXPECT_EQ(optimizer.steps(), 4);
  gpu::set_memory_limit(0);
}

}  // namespace
}  // namespace nebula
