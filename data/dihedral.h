// The eight symmetries of the square: galaxies have no "up", so a prediction
// can be averaged over an image's rotations and flips (test-time augmentation).
#pragma once
#include "engine/tensor.h"

namespace nebula::data {

constexpr int kDihedralViews = 8;

// View `view` (0..7) of square images [N, C, S, S]: view % 4 quarter turns
// counter-clockwise, then, for views 4..7, a left-right flip. View 0 is the
// image itself. Works on either device (the GPU's images come back to it).
Tensor dihedral_view(const Tensor& images, int view);

}  // namespace nebula::data
