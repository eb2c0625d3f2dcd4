// Whole training steps of the study's cnn1 (batch 8, MSE, Adamax with Keras's
// rule) on the GPU: against the same step on the CPU, and against a rerun of
// itself, bit for bit (training_step_graph_test.cpp compares graphed steps with
// eager ones). The model is built twice from manual_seed(1), so both copies
// start from the same weights and dropout streams; one is moved with Module::to.
#include <cmath>
#include <string>
#include <vector>

#include "base/random.h"
#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/optimizer.h"
#include "kernels/optimizer_update.h"
#include "models/model_file.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

constexpr int kBatch = 8;
constexpr int kOutputs = 37;

Model cnn1_on(Device device) {
  manual_seed(1);
  Model model = load_model("cnn1", kOutputs);
  if (device == Device::CUDA) model.network->to(device);
  return model;
}

// Images in [0, 1) and targets in [0, 1), as the Galaxy Zoo data; `seed`
// picks the batch.
Tensor images(const Model& model, uint64_t seed) {
  return test::uniform_tensor(model.input_shape(kBatch), 2 * seed, 0.0f, 1.0f);
}
Tensor targets(uint64_t seed) { return test::uniform_tensor({kBatch, kOutputs}, 2 * seed + 1, 0.0f, 1.0f); }

struct TrainingRun {
  std::vector<std::string> names;
  std::vector<std::vector<float>> initial;  // parameters before the first step
  std::vector<float> losses;                // one a step
  std::vector<std::vector<float>> grads;    // after the last backward
  std::vector<std::vector<float>> params;   // after the last step
};

std::vector<std::vector<float>> values_of(Model& model) {
  std::vector<std::vector<float>> out;
  for (const NamedParameter& p : model.network->parameters()) out.push_back(p.variable.value().to_vector());
  return out;
}

// `steps` training steps written out as the benchmarks write them, each on
// its own batch, under the current backend.
TrainingRun train(Device device, int steps) {
  Model model = cnn1_on(device);
  Adamax optimizer(single_group(*model.network));
  TrainingRun run;
  for (const NamedParameter& p : model.network->parameters()) run.names.push_back(p.name);
  run.initial = values_of(model);
  for (int step = 1; step <= steps; ++step) {
    Variable x(images(model, step).to(device)), target(targets(step).to(device));
    optimizer.zero_grad();
    Variable loss = mse_loss((*model.network)(x), target);
    backward(loss);
    run.losses.push_back(loss.value().to_vector()[0]);
    if (step == steps) {
      run.grads.clear();
      for (const NamedParameter& p : model.network->parameters()) run.grads.push_back(p.variable.grad().to_vector());
    }
    optimizer.step();
  }
  run.params = values_of(model);
  return run;
}

using Cnn1Step = test::CudaTest;

// The loss and every gradient to the usual tolerance (1e-4 relative, atol
// 1e-5 of the tensor's largest value). The parameters after the step must be
// the CPU's Adamax step applied to the GPU's own gradients, to the same
// tolerance scaled by the parameter's largest value. Comparing them with the
// CPU's parameters instead would fail at random: Adamax's first step moves a
// weight by lr g / (|g| + eps), about lr whatever |g|, so a gradient within
// rounding of zero may step either way; the gradients are compared already.
TEST_F(Cnn1Step, OneStepMatchesTheCpu) {
  const TrainingRun cpu = train(Device::CPU, 1);
  for (Backend backend : test::kBackends) {
    test::BackendScope scope(backend);
    const std::string what = "cnn1 step (" + test::describe_backend(backend) + ")";
    const TrainingRun gpu = train(Device::CUDA, 1);
    ASSERT_EQ(gpu.names, cpu.names) << what;
    EXPECT_NEAR(gpu.losses[0], cpu.losses[0], 1e-4 * std::fabs(cpu.losses[0])) << what << ": loss";
    for (size_t i = 0; i < cpu.names.size(); ++i) {
      const Shape shape = {int64_t(cpu.initial[i].size())};
      const std::string name = what + ": " + cpu.names[i];
      ASSERT_TRUE(test::same_bits(cpu.initial[i], gpu.initial[i])) << name << " starts from other weights";
      EXPECT_TRUE(test::compare(cpu.grads[i], gpu.grads[i], shape, {})) << name << " gradient";
      std::vector<float> expected = gpu.initial[i], m(expected.size(), 0.0f), u(expected.size(), 0.0f);
      ref::adamax_update(AdamaxParams{}, 1, int64_t(expected.size()), expected.data(), gpu.grads[i].data(), m.data(),
                         u.data());
      EXPECT_TRUE(test::compare(expected, gpu.params[i], shape, {})) << name << " after the Adamax step";
    }
  }
}

// Three steps (dropout streams and optimizer state carried along), twice:
// every loss, gradient and parameter bit for bit.
TEST_F(Cnn1Step, RerunIsBitIdentical) {
  for (Backend backend : test::kBackends) {
    test::BackendScope scope(backend);
    const std::string what = "cnn1, 3 steps, rerun (" + test::describe_backend(backend) + ")";
    const TrainingRun first = train(Device::CUDA, 3), second = train(Device::CUDA, 3);
    EXPECT_TRUE(test::same_bits(first.losses, second.losses)) << what << ": losses";
    for (size_t i = 0; i < first.names.size(); ++i) {
      EXPECT_TRUE(test::same_bits(first.grads[i], second.grads[i])) << what << ": " << first.names[i] << " gradient";
      EXPECT_TRUE(test::same_bits(first.params[i], second.params[i])) << what << ": " << first.names[i];
    }
  }
}

}  // namespace
}  // namespace nebula
