#include "data/dihedral.h"

#include "base/error.h"
#include "kernels/views.h"

namespace nebula::data {

Tensor dihedral_view(const Tensor& images, int view) {
  NEBULA_CHECK(view >= 0 && view < kDihedralViews, "dihedral view ", view, " is not one of 0..7");
  NEBULA_CHECK(images.rank() == 4 && images.dim(2) == images.dim(3), "dihedral view: images must be [N, C, S, S], got ",
               to_string(images.shape()));
  if (view == 0) return images;
  const Tensor host = images.on_host();
  Tensor out(images.shape());
  const int64_t planes = images.dim(0) * images.dim(1), s = images.dim(2);
  const float* in = host.data();
  float* o = out.data();
  for (int64_t y = 0; y < s; ++y)
    for (int64_t x = 0; x < s; ++x) {
      int64_t sy = 0, sx = 0;
      dihedral_source(view, s, y, x, &sy, &sx);
      for (int64_t p = 0; p < planes; ++p) o[(p * s + y) * s + x] = in[(p * s + sy) * s + sx];
    }
  return out.to(images.device());
}

}  // namespace nebula::data
