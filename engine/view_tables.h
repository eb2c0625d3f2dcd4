// A views layer's table of taps (kernels/views.h) and its copy on the GPU,
// made the first time a GPU op asks for it (an eager step: a captured step
// replays the warm-up's copy) and freed with the layer.
#pragma once
#include <memory>

#include "engine/device.h"
#include "kernels/views.h"

namespace nebula {

class ViewTables {
 public:
  explicit ViewTables(ViewTable table);
  ~ViewTables();
  ViewTables(const ViewTables&) = delete;
  ViewTables& operator=(const ViewTables&) = delete;

  const ViewTable& table() const { return table_; }
  // The arrays where a kernel on `device` reads them.
  ViewTableArrays arrays(Device device);

 private:
  struct GpuCopy;
  ViewTable table_;
  std::unique_ptr<GpuCopy> gpu_;
};

}  // namespace nebula
