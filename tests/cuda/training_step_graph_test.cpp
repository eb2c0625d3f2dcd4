// The caching allocator and the training step replayed as a CUDA graph. The
// graph must give the very numbers the eager steps give (the optimizer's step
// count and the dropout masks advance through device counters), and memory a
// graph uses must never go to anyone else while it lives.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "cuda_test_util.h"
#include "engine/device.h"
#include "engine/dispatch.h"
#include "engine/layers.h"
#include "engine/optimizer.h"
#include "base/random.h"
#include "engine/training_step.h"
#include "kernels/cuda/allocator.h"
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

// cnn1 (which has dropout) trained for `steps` steps on fixed random batches, the
// last one smaller, eagerly or through GraphedTrainingStep.
TrainingRun train_cnn1(Backend backend, bool graphed, int steps) {
  set_backend(backend);
  manual_seed(5);
  Model model = load_model("cnn1", 37);
  model.network->to(Device::CUDA);
  Adamax optimizer(single_group(*model.network));
  GraphedTrainingStep graph(*model.network, optimizer);
  Generator g(9);
  TrainingRun run;
  for (int s = 0; s < steps; ++s) {
    const int batch = s == steps - 1 ? 3 : 8;
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
  EXPECT_EQ(optimizer.steps(), steps);
  for (Dropout* d : dropout_layers(*model.network)) EXPECT_EQ(d->calls, uint64_t(steps));
  set_backend(Backend::Native);
  return run;
}

TEST_F(GraphTest, ReplayedStepsMatchEagerStepsBitForBit) {
  for (Backend backend : {Backend::Native, Backend::Cudnn}) {
    SCOPED_TRACE(backend_name(backend));
    TrainingRun eager = train_cnn1(backend, false, 6);
    TrainingRun graphed = train_cnn1(backend, true, 6);
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

}  // namespace
}  // namespace nebula
