// Dropout on the GPU against the CPU: the same Philox mask, every element
// compared for equality, on every shape of the op's table
// (tests/cases/dropout_cases.h): its edge cases at every rate, seed and
// offset, the model layers at batch 2; and with the offset read from device
// memory, as a replayed CUDA graph does.
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "tests/cases/dropout_cases.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using cases::DropoutCase;
using test::expect_parity;
using test::TensorList;
using test::Tolerance;
using test::written;

// The mask is a pure function of (seed, offset + i), and the scale is one
// multiplication by 1/(1 - rate) formed in float, so the GPU matches the CPU
// exactly. x has no zeros, so a zero marks a dropped element.
void check_dropout(const DropoutCase& c, float rate, uint64_t seed, uint64_t offset) {
  const Tensor x = test::uniform_tensor(c.x, 21, 0.5f, 1.5f);
  const std::string what = cases::describe(c, rate, seed, offset);
  expect_parity(what + ", forward", {x}, {written("y", c.x, Tolerance::equal())},
                [=](TensorList& in, TensorList& out) { dispatch::dropout_forward(rate, seed, offset, in[0], out[0]); });
  expect_parity(
      what + ", backward", {x}, {written("dx", c.x, Tolerance::equal())},
      [=](TensorList& in, TensorList& out) { dispatch::dropout_backward(rate, seed, offset, in[0], out[0]); });
}

using DropoutParity = test::CudaTest;

TEST_F(DropoutParity, EdgeCasesAtEveryRateSeedAndOffset) {
  for (const DropoutCase& c : cases::dropout_edge_cases())
    for (float rate : cases::dropout_rates())
      for (uint64_t seed : cases::dropout_seeds())
        for (uint64_t offset : cases::dropout_offsets()) check_dropout(c, rate, seed, offset);
}

TEST_F(DropoutParity, ModelLayers) {
  for (const DropoutCase& c : cases::dropout_model_cases(2))
    for (uint64_t offset : cases::dropout_offsets()) check_dropout(c, c.rate, cases::dropout_seeds()[1], offset);
}

// Clears the device offset counter however the test ends.
struct DropoutCounterScope {
  explicit DropoutCounterScope(const uint64_t* counter) { dispatch::set_dropout_offset_counter(counter); }
  ~DropoutCounterScope() { dispatch::set_dropout_offset_counter(nullptr); }
};

// A replayed graph cannot change kernel arguments, so the GPU adds a counter
// read from device memory to the offset: the mask must be the CPU's at
// offset + counter.
TEST_F(DropoutParity, OffsetFromDevice) {
  const DropoutCase c = cases::dropout_edge_cases().back();  // many blocks
  const int64_t n = c.count();
  const float rate = 0.5f;
  const uint64_t seed = 77, offset = 1000;
  const Tensor x = test::uniform_tensor(c.x, 22, 0.5f, 1.5f), gx = x.to(Device::CUDA);
  for (uint64_t added : {uint64_t(0), uint64_t(1), uint64_t(n), (uint64_t(1) << 32) + 7}) {
    Tensor counter({2}, Device::CUDA);  // 8 bytes: one uint64_t
    copy_bytes(counter.data(), Device::CUDA, &added, Device::CPU, sizeof added);
    Tensor expected_y(x.shape()), expected_dx(x.shape());
    dispatch::dropout_forward(rate, seed, offset + added, x, expected_y);
    dispatch::dropout_backward(rate, seed, offset + added, x, expected_dx);
    for (Backend backend : test::kBackends) {
      test::BackendScope scope(backend);
      Tensor y = test::garbage(x.shape()).to(Device::CUDA), dx = test::garbage(x.shape()).to(Device::CUDA);
      {
        DropoutCounterScope counting(reinterpret_cast<const uint64_t*>(counter.data()));
        dispatch::dropout_forward(rate, seed, offset, gx, y);
        dispatch::dropout_backward(rate, seed, offset, gx, dx);
      }
      const std::string what = cases::describe(c, rate, seed, offset) + " with " + std::to_string(added) +
                               " added from device memory (" + test::describe_backend(backend) + ")";
      EXPECT_TRUE(test::compare(expected_y, y, Tolerance::equal())) << what << ", forward";
      EXPECT_TRUE(test::compare(expected_dx, dx, Tolerance::equal())) << what << ", backward";
    }
  }
}

}  // namespace
}  // namespace nebula
