#include "engine/tensor.h"

#include <algorithm>

#include "base/error.h"
#include "engine/dispatch.h"

namespace nebula {

Storage::Storage(Device device, size_t count)
    : device_(device), count_(count), data_(static_cast<float*>(allocate(device, count * sizeof(float)))) {}

Storage::~Storage() { release(device_, data_, count_ * sizeof(float)); }

void Storage::relocate(Device device) {
  if (device == device_) return;
  size_t bytes = count_ * sizeof(float);
  float* moved = static_cast<float*>(allocate(device, bytes));
  copy_bytes(moved, device, data_, device_, bytes);
  release(device_, data_, bytes);
  data_ = moved;
  device_ = device;
}

Tensor::Tensor(Shape shape, Device device)
    : shape_(std::move(shape)), storage_(std::make_shared<Storage>(device, nebula::numel(shape_))) {
  for (int64_t d : shape_) NEBULA_CHECK(d >= 0, "negative dimension in shape ", to_string(shape_));
}

Tensor Tensor::zeros(Shape shape, Device device) { return full(std::move(shape), 0.0f, device); }

Tensor Tensor::full(Shape shape, float value, Device device) {
  Tensor t(std::move(shape), device);
  t.fill(value);
  return t;
}

Tensor Tensor::from_vector(Shape shape, const std::vector<float>& values, Device device) {
  NEBULA_CHECK(nebula::numel(shape) == static_cast<int64_t>(values.size()), "shape ", to_string(shape), " needs ",
               nebula::numel(shape), " values, got ", values.size());
  Tensor t(std::move(shape), device);
  copy_bytes(t.data(), device, values.data(), Device::CPU, values.size() * sizeof(float));
  return t;
}

Tensor Tensor::reshape(Shape shape) const {
  NEBULA_CHECK(nebula::numel(shape) == numel(), "cannot reshape ", to_string(shape_), " to ", to_string(shape));
  Tensor view = *this;
  view.shape_ = std::move(shape);
  return view;
}

Tensor Tensor::clone() const { return to(device()); }

void Tensor::move_to(Device target) {
  if (storage_) storage_->relocate(target);
}

Tensor Tensor::to(Device target) const {
  Tensor out(shape_, target);
  out.copy_from(*this);
  return out;
}

Tensor Tensor::on_host() const { return device() == Device::CPU ? *this : to(Device::CPU); }

std::vector<float> Tensor::to_vector() const {
  std::vector<float> values(numel());
  copy_bytes(values.data(), Device::CPU, data(), device(), values.size() * sizeof(float));
  return values;
}

void Tensor::copy_from(const Tensor& other) {
  NEBULA_CHECK(other.numel() == numel(), "copy of ", to_string(other.shape()), " into ", to_string(shape_));
  copy_bytes(data(), device(), other.data(), other.device(), numel() * sizeof(float));
}

void Tensor::fill(float value) {
  if (defined()) dispatch::fill(*this, value);
}

}  // namespace nebula
