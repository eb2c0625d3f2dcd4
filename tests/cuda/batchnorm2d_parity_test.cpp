// BatchNorm2d on the GPU against the CPU: training forward (output, saved
// statistics, running statistics), evaluation forward, backward in both modes,
// and a forward-backward chain on the GPU's own saved statistics, on every
// case of the op's table (tests/cases/batchnorm2d_cases.h: a large mean
// relative to the spread, 1e4-scale values, constant channels, channels of two
// values...), the model layers at batch 4, and shapes drawn from the seeds.
#include <cmath>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "kernels/batchnorm2d.h"
#include "tests/cases/batchnorm2d_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::expect_parity;
using test::Output;
using test::TensorList;
using test::written;

using BnCase = cases::BatchNorm2dCase;

std::vector<BnCase> all_cases() {
  std::vector<BnCase> all = cases::batchnorm2d_edge_cases();
  for (const BnCase& c : cases::batchnorm2d_model_cases(4)) all.push_back(c);
  for (uint64_t seed : test::test_seeds()) {
    Generator g(seed);
    BnCase c{"seed " + std::to_string(seed),
             {test::pick(g, 1, 8), test::pick(g, 1, 40), test::pick(g, 1, 20), test::pick(g, 1, 20)}};
    if (c.x[0] * c.x[2] * c.x[3] == 1) c.x[0] = 2;  // one value a channel has no variance estimate
    c.mean = g.uniform(-5.0f, 5.0f);
    c.stddev = g.uniform(0.1f, 3.0f);
    all.push_back(c);
  }
  return all;
}

struct BnInputs {
  Tensor x, gamma, beta, running_mean, running_var;
};

BnInputs make_inputs(const BnCase& c, uint64_t seed) {
  const Shape ch = c.channel_shape();
  return {test::normal_tensor(c.x, seed, c.mean, c.stddev), test::uniform_tensor(ch, seed + 1, 0.5f, 1.5f),
          test::uniform_tensor(ch, seed + 2, -0.5f, 0.5f),
          test::uniform_tensor(ch, seed + 3, c.mean - 0.5f, c.mean + 0.5f),
          test::uniform_tensor(ch, seed + 4, 0.5f * c.stddev * c.stddev + 0.1f, 2.0f * c.stddev * c.stddev + 0.1f)};
}

void check_forward_train(const BnCase& c, uint64_t seed) {
  const BatchNormParams p = c.params();
  const BnInputs in = make_inputs(c, seed);
  expect_parity(cases::describe(c) + ", forward (train)", {in.x, in.gamma, in.beta},
                {written("y", c.x), written("save_mean", c.channel_shape()), written("save_invstd", c.channel_shape()),
                 Output{"running_mean", in.running_mean}, Output{"running_var", in.running_var}},
                [p](TensorList& in, TensorList& out) {
                  dispatch::batchnorm2d_forward_train(p, in[0], in[1], in[2], out[0], out[1], out[2], out[3], out[4]);
                });
}

void check_forward_eval(const BnCase& c, uint64_t seed) {
  const BatchNormParams p = c.params();
  const BnInputs in = make_inputs(c, seed);
  expect_parity(cases::describe(c) + ", forward (eval)", {in.x, in.gamma, in.beta, in.running_mean, in.running_var},
                {written("y", c.x)}, [p](TensorList& in, TensorList& out) {
                  dispatch::batchnorm2d_forward_eval(p, in[0], in[1], in[2], in[3], in[4], out[0]);
                });
}

struct SavedStatistics {
  Tensor mean, invstd;
};

// The statistics a backward reads: the CPU's training forward's, or the
// running statistics for evaluation.
SavedStatistics saved_statistics(const BnCase& c, const BnInputs& in, bool training) {
  const BatchNormParams p = c.params();
  SavedStatistics saved{Tensor(c.channel_shape()), Tensor(c.channel_shape())};
  if (training) {
    Tensor y(c.x), rm = in.running_mean.clone(), rv = in.running_var.clone();
    dispatch::batchnorm2d_forward_train(p, in.x, in.gamma, in.beta, y, saved.mean, saved.invstd, rm, rv);
  } else {
    saved.mean.copy_from(in.running_mean);
    std::vector<float> invstd = in.running_var.to_vector();
    for (float& v : invstd) v = static_cast<float>(1.0 / std::sqrt(double(v) + p.eps));
    saved.invstd = Tensor::from_vector(c.channel_shape(), invstd);
  }
  return saved;
}

// dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)). Where the terms
// cancel (two values a channel leave dx at about 1e-5 of them) dx's rounding
// error is relative to the terms, not to dx: the floor is 1e-5 of the largest.
Output dx_output(const BnCase& c, const Tensor& dy, const Tensor& gamma, const Tensor& invstd) {
  test::Tolerance tol;
  tol.atol_floor = 1e-5 * double(test::max_abs(dy.to_vector())) * test::max_abs(gamma.to_vector()) *
                   test::max_abs(invstd.to_vector());
  return written("dx", c.x, tol);
}

// Backward on saved statistics given as inputs, so only the backward is compared.
void check_backward(const BnCase& c, uint64_t seed, bool training) {
  const BatchNormParams p = c.params();
  const BnInputs in = make_inputs(c, seed);
  const SavedStatistics saved = saved_statistics(c, in, training);
  const Tensor dy = test::uniform_tensor(c.x, seed + 5);
  expect_parity(cases::describe(c) + (training ? ", backward (train)" : ", backward (eval)"),
                {in.x, dy, in.gamma, saved.mean, saved.invstd},
                {dx_output(c, dy, in.gamma, saved.invstd), written("dgamma", c.channel_shape()),
                 written("dbeta", c.channel_shape())},
                [p, training](TensorList& in, TensorList& out) {
                  dispatch::batchnorm2d_backward(p, training, in[0], in[1], in[2], in[3], in[4], out[0], out[1],
                                                 out[2]);
                });
}

using BatchNormParity = test::CudaTest;

TEST_F(BatchNormParity, ForwardTrain) {
  uint64_t seed = 1;
  for (const BnCase& c : all_cases()) check_forward_train(c, 10 * seed++);
}

TEST_F(BatchNormParity, ForwardEval) {
  uint64_t seed = 1;
  for (const BnCase& c : all_cases()) check_forward_eval(c, 10 * seed++);
}

TEST_F(BatchNormParity, BackwardTrain) {
  uint64_t seed = 1;
  for (const BnCase& c : all_cases()) check_backward(c, 10 * seed++, true);
}

// cuDNN has no evaluation-mode backward; both settings run the native kernel.
TEST_F(BatchNormParity, BackwardEval) {
  uint64_t seed = 1;
  for (const BnCase& c : all_cases()) check_backward(c, 10 * seed++, false);
}

// Forward then backward, each device on its own saved statistics, as a
// training step runs them.
TEST_F(BatchNormParity, TrainForwardThenBackward) {
  uint64_t seed = 1;
  for (const BnCase& c : all_cases()) {
    const BatchNormParams p = c.params();
    const BnInputs in = make_inputs(c, 10 * seed);
    const Tensor dy = test::uniform_tensor(c.x, 10 * seed + 5);
    const Tensor invstd = saved_statistics(c, in, true).invstd;
    ++seed;
    expect_parity(
        cases::describe(c) + ", forward then backward (train)", {in.x, in.gamma, in.beta, dy},
        {written("y", c.x), written("save_mean", c.channel_shape()), written("save_invstd", c.channel_shape()),
         Output{"running_mean", in.running_mean}, Output{"running_var", in.running_var},
         dx_output(c, dy, in.gamma, invstd), written("dgamma", c.channel_shape()), written("dbeta", c.channel_shape())},
        [p](TensorList& in, TensorList& out) {
          dispatch::batchnorm2d_forward_train(p, in[0], in[1], in[2], out[0], out[1], out[2], out[3], out[4]);
          dispatch::batchnorm2d_backward(p, true, in[0], in[3], in[1], out[1], out[2], out[5], out[6], out[7]);
        });
  }
}

}  // namespace
}  // namespace nebula
