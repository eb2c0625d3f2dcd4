// Modules and optimizers on the GPU against the CPU. The same small network
// (conv, batch norm, ReLU, max pool, dense) is built twice from one seed and one
// copy moved with Module::to. The optimizers (Adamax with Keras's and
// PyTorch's rule, Adam, AdamW, SGD with and without momentum, Nesterov's,
// weight decay) then take several steps on gradients set by hand, the same on both devices, so the
// comparison isolates the update from the gradients' rounding. Two parameter
// groups with their own learning rates, a frozen parameter, a parameter with no
// gradient for a step, a resumed step count and a learning rate changed between
// steps (a schedule) are all part of every run.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/random.h"
#include "engine/autograd.h"
#include "engine/layers.h"
#include "engine/ops.h"
#include "engine/optimizer.h"
#include "engine/sequential.h"
#include "tests/cases/optimizer_update_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::Tolerance;

const Shape kInput = {2, 3, 8, 8};

// conv_bias: a bias before batch norm has a gradient that is zero but for
// rounding, so a backward through it compares rounding alone; torchvision
// leaves it out. The optimizer tests keep it, as a parameter to freeze.
std::unique_ptr<Sequential> small_net(uint64_t seed, bool conv_bias = true) {
  manual_seed(seed);
  auto net = std::make_unique<Sequential>();
  net->emplace<Conv2d>(Conv2dOptions{3, 4, 3, 1, Padding::Same, -1, conv_bias});
  net->emplace<BatchNorm2d>(4);
  net->emplace<ReLU>();
  net->emplace<MaxPool2d>(2);
  net->emplace<Flatten>();
  net->emplace<Dense>(4 * 4 * 4, 5);
  return net;
}

// Every parameter and buffer of the two networks, by name.
void expect_same_state(Module& cpu, Module& gpu, const Tolerance& tol, const std::string& what) {
  std::vector<NamedParameter> cp = cpu.parameters(), gp = gpu.parameters();
  ASSERT_EQ(cp.size(), gp.size()) << what;
  for (size_t i = 0; i < cp.size(); ++i) {
    EXPECT_EQ(gp[i].variable.value().device(), Device::CUDA) << what << ": " << gp[i].name;
    EXPECT_TRUE(test::compare(cp[i].variable.value(), gp[i].variable.value(), tol)) << what << ": " << cp[i].name;
  }
  std::vector<NamedBuffer> cb = cpu.buffers(), gb = gpu.buffers();
  ASSERT_EQ(cb.size(), gb.size()) << what;
  for (size_t i = 0; i < cb.size(); ++i) {
    EXPECT_EQ(gb[i].tensor.device(), Device::CUDA) << what << ": " << gb[i].name;
    EXPECT_TRUE(test::compare(cb[i].tensor, gb[i].tensor, tol)) << what << ": " << cb[i].name;
  }
}

using ModuleParity = test::CudaTest;

TEST_F(ModuleParity, ToMovesParametersGradientsAndBuffers) {
  auto cpu = small_net(3), gpu = small_net(3);
  ASSERT_FALSE(gpu->buffers().empty());
  // Gradients made on the CPU travel too.
  for (Sequential* net : {cpu.get(), gpu.get()}) {
    Variable loss = mse_loss((*net)(Variable(test::uniform_tensor(kInput, 4))), Variable(Tensor::zeros({2, 5})));
    backward(loss);
  }
  gpu->to(Device::CUDA);
  expect_same_state(*cpu, *gpu, Tolerance::equal(), "after to(cuda)");
  std::vector<NamedParameter> cp = cpu->parameters(), gp = gpu->parameters();
  for (size_t i = 0; i < cp.size(); ++i) {
    ASSERT_TRUE(gp[i].variable.grad().defined()) << gp[i].name;
    EXPECT_EQ(gp[i].variable.grad().device(), Device::CUDA) << gp[i].name;
    EXPECT_TRUE(test::compare(cp[i].variable.grad(), gp[i].variable.grad(), Tolerance::equal())) << gp[i].name;
  }
  // And back, bit for bit.
  gpu->to(Device::CPU);
  for (const NamedParameter& p : gpu->parameters()) EXPECT_EQ(p.variable.value().device(), Device::CPU) << p.name;
  cp = cpu->parameters();
  gp = gpu->parameters();
  for (size_t i = 0; i < cp.size(); ++i)
    EXPECT_TRUE(test::same_bits(cp[i].variable.value().to_vector(), gp[i].variable.value().to_vector())) << cp[i].name;
}

// One forward and backward of the small network in training mode: the output,
// every gradient and the running statistics.
TEST_F(ModuleParity, ForwardBackward) {
  const Tensor x = test::uniform_tensor(kInput, 5), target = test::uniform_tensor({2, 5}, 6, 0.0f, 1.0f);
  auto cpu = small_net(7, false);
  Variable cpu_out = (*cpu)(Variable(x));
  Variable cpu_loss = mse_loss(cpu_out, Variable(target));
  backward(cpu_loss);
  for (Backend backend : test::kBackends) {
    test::BackendScope scope(backend);
    const std::string what = "small network (" + test::describe_backend(backend) + ")";
    auto gpu = small_net(7, false);
    gpu->to(Device::CUDA);
    Variable gpu_out = (*gpu)(Variable(x.to(Device::CUDA)));
    Variable gpu_loss = mse_loss(gpu_out, Variable(target.to(Device::CUDA)));
    backward(gpu_loss);
    EXPECT_TRUE(test::compare(cpu_out.value(), gpu_out.value(), {})) << what << ": output";
    EXPECT_TRUE(test::compare(cpu_loss.value(), gpu_loss.value(), {})) << what << ": loss";
    std::vector<NamedParameter> cp = cpu->parameters(), gp = gpu->parameters();
    for (size_t i = 0; i < cp.size(); ++i)
      EXPECT_TRUE(test::compare(cp[i].variable.grad(), gp[i].variable.grad(), {})) << what << ": d " << cp[i].name;
    expect_same_state(*cpu, *gpu, {}, what);
  }
}

struct OptimizerCase {
  std::string name;
  std::function<std::unique_ptr<Optimizer>(std::vector<ParameterGroup>)> make;
};

std::vector<OptimizerCase> optimizer_cases() {
  AdamaxParams keras;
  AdamaxParams torch;
  torch.lr = 2e-3f;
  torch.eps_inside_max = true;
  torch.weight_decay = 1e-2f;
  AdamParams adam;
  adam.weight_decay = 1e-2f;
  SgdParams sgd;
  sgd.lr = 0.1f;
  SgdParams momentum;
  momentum.lr = 0.05f;
  momentum.momentum = 0.9f;
  momentum.weight_decay = 1e-3f;
  AdamParams adamw;
  adamw.lr = 1e-2f;
  adamw.weight_decay = 0.1f;
  SgdParams nesterov = momentum;
  nesterov.nesterov = true;
  return {
      {"Adamax (Keras rule)", [=](auto groups) { return std::make_unique<Adamax>(std::move(groups), keras); }},
      {"Adamax (PyTorch rule, weight decay)",
       [=](auto groups) { return std::make_unique<Adamax>(std::move(groups), torch); }},
      {"Adam (weight decay)", [=](auto groups) { return std::make_unique<Adam>(std::move(groups), adam); }},
      {"SGD", [=](auto groups) { return std::make_unique<Sgd>(std::move(groups), sgd); }},
      {"SGD (momentum, weight decay)", [=](auto groups) { return std::make_unique<Sgd>(std::move(groups), momentum); }},
      {"AdamW (decoupled weight decay)",
       [=](auto groups) { return std::make_unique<AdamW>(std::move(groups), adamw); }},
      {"SGD (Nesterov momentum, weight decay)",
       [=](auto groups) { return std::make_unique<Sgd>(std::move(groups), nesterov); }},
  };
}

// The backbone (conv, batch norm) at the optimizer's rate, the head (dense)
// at its own; the conv bias frozen.
std::vector<ParameterGroup> groups_of(Sequential& net) {
  std::vector<NamedParameter> backbone, head;
  for (NamedParameter& p : net.parameters()) (p.name.rfind("5.", 0) == 0 ? head : backbone).push_back(p);
  for (NamedParameter& p : backbone)
    if (p.name == "0.bias") p.variable.set_requires_grad(false);
  return {ParameterGroup{backbone, 0.0f}, ParameterGroup{head, 0.03f}};
}

// Gradients for step `step`, equal on both devices: random, with exact zeros
// and tiny values among them; the dense bias gets none on step 2.
void set_gradients(Sequential& net, int step, Device device) {
  std::vector<NamedParameter> params = net.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    Variable& v = params[i].variable;
    v.zero_grad();
    if (step == 2 && params[i].name == "5.bias") continue;
    std::vector<float> g = test::uniform_tensor(v.shape(), 1000 * step + i).to_vector();
    for (size_t j = 0; j < g.size(); j += 7) g[j] = 0.0f;
    for (size_t j = 3; j < g.size(); j += 11) g[j] *= 1e-9f;
    v.accumulate_grad(Tensor::from_vector(v.shape(), g, device));
  }
}

using OptimizerParity = test::CudaTest;

TEST_F(OptimizerParity, StepsMatchTheCpu) {
  for (const OptimizerCase& oc : optimizer_cases()) {
    for (Backend backend : test::kBackends) {
      test::BackendScope scope(backend);
      auto cpu = small_net(9), gpu = small_net(9);
      gpu->to(Device::CUDA);
      std::unique_ptr<Optimizer> cpu_opt = oc.make(groups_of(*cpu)), gpu_opt = oc.make(groups_of(*gpu));
      const float frozen = cpu->parameters()[1].variable.value().to_vector()[0];
      for (int step = 1; step <= 5; ++step) {
        // A resumed run: the step count jumps, and the GPU's device copy of t must follow.
        if (step == 4) {
          cpu_opt->set_steps(10);
          gpu_opt->set_steps(10);
        }
        // A schedule: the rate changes, and the GPU's device copy must follow (AdamW's decay reads it too).
        if (step == 3) {
          cpu_opt->set_lr(cpu_opt->lr() * 0.5f);
          gpu_opt->set_lr(gpu_opt->lr() * 0.5f);
        }
        set_gradients(*cpu, step, Device::CPU);
        set_gradients(*gpu, step, Device::CUDA);
        cpu_opt->step();
        gpu_opt->step();
        const std::string what =
            oc.name + " step " + std::to_string(step) + " (" + test::describe_backend(backend) + ")";
        EXPECT_EQ(cpu_opt->steps(), gpu_opt->steps()) << what;
        expect_same_state(*cpu, *gpu, {}, what);
        std::vector<NamedBuffer> cs = cpu_opt->state(), gs = gpu_opt->state();
        ASSERT_EQ(cs.size(), gs.size()) << what;
        for (size_t i = 0; i < cs.size(); ++i)
          EXPECT_TRUE(test::compare(cs[i].tensor, gs[i].tensor, {})) << what << ": " << cs[i].name;
      }
      EXPECT_EQ(gpu->parameters()[1].variable.value().to_vector()[0], frozen) << oc.name << ": the frozen bias moved";
    }
  }
}

// The fused update is one launch over a list of tensors: every list of the
// op's table (tests/cases/optimizer_update_cases.h), each tensor its own update.
TEST_F(OptimizerParity, ManyParameters) {
  auto group = [](std::vector<Variable>& params) {
    ParameterGroup g;
    for (size_t i = 0; i < params.size(); ++i) g.parameters.push_back({"p" + std::to_string(i), params[i]});
    return std::vector<ParameterGroup>{g};
  };
  std::vector<cases::OptimizerUpdateCase> lists = cases::optimizer_update_edge_cases();
  for (const cases::OptimizerUpdateCase& c : cases::optimizer_update_model_cases()) lists.push_back(c);
  for (const cases::OptimizerUpdateCase& c : lists)
    for (const OptimizerCase& oc : optimizer_cases()) {
      std::vector<Variable> cpu_params, gpu_params;
      for (size_t i = 0; i < c.sizes.size(); ++i) {
        const Tensor w = test::uniform_tensor({c.sizes[i]}, 5000 + i);
        cpu_params.push_back(Variable(w.clone(), true));
        gpu_params.push_back(Variable(w.to(Device::CUDA), true));
      }
      std::unique_ptr<Optimizer> cpu_opt = oc.make(group(cpu_params)), gpu_opt = oc.make(group(gpu_params));
      for (int step = 1; step <= 2; ++step) {
        for (size_t i = 0; i < cpu_params.size(); ++i) {
          const Tensor g = test::uniform_tensor(cpu_params[i].shape(), 9000 + 1000 * step + i);
          cpu_params[i].zero_grad();
          gpu_params[i].zero_grad();
          cpu_params[i].accumulate_grad(g.clone());
          gpu_params[i].accumulate_grad(g.to(Device::CUDA));
        }
        cpu_opt->step();
        gpu_opt->step();
        for (size_t i = 0; i < cpu_params.size(); ++i)
          EXPECT_TRUE(test::compare(cpu_params[i].value(), gpu_params[i].value(), {}))
              << cases::describe(c) << ", " << oc.name << " step " << step << ": parameter " << i;
      }
    }
}

}  // namespace
}  // namespace nebula
