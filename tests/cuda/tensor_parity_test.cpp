// Tensors on the GPU: fill (Tensor::fill, full, zeros and dispatch::fill) writes
// exactly the value's bits into every element, and copies between and within
// devices, views and in-place moves keep every bit (NaN, infinities, -0 and
// subnormals included).
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "engine/dispatch.h"
#include "tests/cuda/cuda_test_util.h"

namespace nebula {
namespace {

using test::same_bits;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kMax = std::numeric_limits<float>::max();

// Odd sizes over one and many blocks, and the empty tensor.
const int64_t kSizes[] = {0, 1, 7, 4099, 1000003};

// Every kind of float: their bits must survive any copy.
std::vector<float> awkward_values(int64_t n, uint64_t seed) {
  std::vector<float> v = test::uniform_tensor({n}, seed, -1e3f, 1e3f).to_vector();
  const float special[] = {kNaN, kInf, -kInf, -0.0f, 1e-45f, -1e-40f, kMax, -kMax};
  for (size_t i = 0; i < v.size(); i += 5) v[i] = special[(i / 5) % 8];
  return v;
}

using TensorParity = test::CudaTest;

TEST_F(TensorParity, FillWritesEveryElement) {
  const float values[] = {0.0f, -0.0f, 1.5f, -3e38f, 1e-45f, kInf, kNaN};
  for (int64_t n : kSizes)
    for (float value : values) {
      const std::vector<float> expected(n, value);
      const std::string what = "fill of " + std::to_string(n) + " values with " + std::to_string(value);
      // Over garbage, so an element left unwritten shows.
      Tensor t = test::garbage({n}).to(Device::CUDA);
      t.fill(value);
      EXPECT_TRUE(same_bits(expected, t.to_vector())) << what << " (Tensor::fill)";
      Tensor u = test::garbage({n}).to(Device::CUDA);
      dispatch::fill(u, value);
      EXPECT_TRUE(same_bits(expected, u.to_vector())) << what << " (dispatch::fill)";
      const Tensor full = Tensor::full({n}, value, Device::CUDA);
      EXPECT_EQ(full.device(), Device::CUDA);
      EXPECT_TRUE(same_bits(expected, full.to_vector())) << what << " (Tensor::full)";
    }
  const Tensor zeros = Tensor::zeros({3, 5, 7}, Device::CUDA);
  EXPECT_TRUE(same_bits(std::vector<float>(105, 0.0f), zeros.to_vector())) << "Tensor::zeros";
}

TEST_F(TensorParity, CopiesKeepEveryBit) {
  uint64_t seed = 1;
  for (int64_t n : kSizes) {
    const std::string what = std::to_string(n) + " values";
    const std::vector<float> values = awkward_values(n, seed++);
    const Tensor host = Tensor::from_vector({n}, values);
    // Host to device, device to device (clone, to, copy_from), device to host.
    const Tensor device = host.to(Device::CUDA);
    EXPECT_EQ(device.device(), Device::CUDA);
    EXPECT_TRUE(same_bits(values, device.to_vector())) << what << ": to(cuda)";
    const Tensor cloned = device.clone();
    EXPECT_EQ(cloned.device(), Device::CUDA);
    EXPECT_TRUE(same_bits(values, cloned.to_vector())) << what << ": clone on the device";
    EXPECT_TRUE(same_bits(values, device.to(Device::CUDA).to_vector())) << what << ": to(cuda) from the device";
    EXPECT_TRUE(same_bits(values, device.to(Device::CPU).to_vector())) << what << ": to(cpu)";
    EXPECT_TRUE(same_bits(values, Tensor::from_vector({n}, values, Device::CUDA).to_vector()))
        << what << ": from_vector on the device";
    Tensor target = test::garbage({n}).to(Device::CUDA);
    target.copy_from(device);
    EXPECT_TRUE(same_bits(values, target.to_vector())) << what << ": copy_from device to device";
    target = test::garbage({n}).to(Device::CUDA);
    target.copy_from(host);
    EXPECT_TRUE(same_bits(values, target.to_vector())) << what << ": copy_from host to device";
    Tensor back = test::garbage({n});
    back.copy_from(device);
    EXPECT_TRUE(same_bits(values, back.to_vector())) << what << ": copy_from device to host";
    // A clone is a copy: writing it leaves the original alone.
    Tensor independent = device.clone();
    independent.fill(7.0f);
    EXPECT_TRUE(same_bits(values, device.to_vector())) << what << ": the original after its clone was filled";
  }
}

// A view shares the storage; move_to moves it under every tensor that shares it.
TEST_F(TensorParity, ViewsAndMovesShareStorage) {
  const std::vector<float> values = awkward_values(60, 9);
  Tensor a = Tensor::from_vector({3, 4, 5}, values, Device::CUDA);
  Tensor view = a.reshape({12, 5});
  EXPECT_EQ(view.data(), a.data());
  view.fill(2.0f);
  EXPECT_TRUE(same_bits(std::vector<float>(60, 2.0f), a.to_vector())) << "a fill through a view";

  Tensor host = Tensor::from_vector({60}, values);
  Tensor shared = host;
  host.move_to(Device::CUDA);
  EXPECT_EQ(shared.device(), Device::CUDA);
  EXPECT_TRUE(same_bits(values, shared.to_vector())) << "move_to(cuda)";
  shared.move_to(Device::CPU);
  EXPECT_EQ(host.device(), Device::CPU);
  EXPECT_TRUE(same_bits(values, host.to_vector())) << "move_to(cpu)";
  EXPECT_EQ(std::memcmp(host.data(), values.data(), values.size() * sizeof(float)), 0) << "move_to(cpu), in place";
}

}  // namespace
}  // namespace nebula
