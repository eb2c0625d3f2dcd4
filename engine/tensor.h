// Tensor: a float32 array with a shape, stored contiguously (row-major, NCHW for
// images) on one device. Copies of a Tensor share their storage; clone() copies it.
#pragma once
#include <memory>
#include <vector>

#include "engine/device.h"
#include "engine/shape.h"

namespace nebula {

class Storage {
 public:
  Storage(Device device, size_t count);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  float* data() { return data_; }
  size_t count() const { return count_; }
  Device device() const { return device_; }
  // Moves the values to another device in place: every Tensor sharing this
  // storage sees them there.
  void relocate(Device device);

 private:
  Device device_;
  size_t count_;
  float* data_;
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(Shape shape, Device device = Device::CPU);  // uninitialised

  static Tensor zeros(Shape shape, Device device = Device::CPU);
  static Tensor full(Shape shape, float value, Device device = Device::CPU);
  static Tensor from_vector(Shape shape, const std::vector<float>& values, Device device = Device::CPU);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : i); }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return nebula::numel(shape_); }
  Device device() const { return storage_ ? storage_->device() : Device::CPU; }

  float* data() { return storage_ ? storage_->data() : nullptr; }
  const float* data() const { return storage_ ? storage_->data() : nullptr; }

  // A view of the same storage with another shape of the same size.
  Tensor reshape(Shape shape) const;
  Tensor clone() const;
  Tensor to(Device device) const;
  // This tensor where the host can read it: itself on the CPU, else a CPU copy.
  Tensor on_host() const;
  // Moves this tensor's storage, and so every copy sharing it, to device.
  void move_to(Device device);
  std::vector<float> to_vector() const;
  void copy_from(const Tensor& other);  // same numel, any devices
  void fill(float value);
  void zero() { fill(0.0f); }

 private:
  Shape shape_;
  std::shared_ptr<Storage> storage_;
};

}  // namespace nebula
