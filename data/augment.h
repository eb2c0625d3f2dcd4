// Preprocessing and augmentation as ONE affine map from output pixels to decoded
// pixels, sampled once, bilinearly.
//
// The study's Keras pipeline is: centre crop (424 -> 250, optional), resize to
// n x n, then ImageDataGenerator.random_transform on the n x n image, then
// rescale 1/255. keras-preprocessing's apply_affine_transform builds, in
// (row, col) coordinates,
//   M = R(theta) . T(tx, ty) . S(shear) . Z(zx, zy)
//   R = [[cos t, -sin t], [sin t, cos t]]     T = translation (tx rows, ty cols)
//   S = [[1, -sin s], [0, cos s]]             Z = diag(zx, zy)
// centred on o = (n/2 - 0.5), input = M (output - o) + o, and samples the
// input with scipy's affine_transform (order 1, mode 'nearest': coordinates
// clamped to the image). The horizontal flip comes after the affine.
// theta ~ U(-40, 40) degrees, tx ~ U(-0.2, 0.2) * rows, ty ~ U(-0.2, 0.2) * cols,
// shear ~ U(-0.2, 0.2) DEGREES, zx, zy ~ U(0.8, 1.2) independently.
//
// Here the clamped n x n coordinate is mapped on through the resize and crop to
// the source, then through the DCT scale to the decoded image:
//   source = (u + 0.5) * region / n - 0.5 + region_origin
//   decoded = (source + 0.5) / scale - 0.5
// so the clamping reproduces Keras's 'nearest' fill at the crop's border.
#pragma once
#include <cstdint>

#include "data/image_io.h"

namespace nebula::data {

struct Preprocess {
  int crop = 0;   // side of the centre crop in source pixels, 0 for none (the study: 250 of 424)
  int size = 70;  // output side: 70 (cnn2, cnn3, resnet) or 100 (cnn1)
  // Where the decoded region is more than kAntialiasAbove times the output
  // (crop 250 decoded at 1/2 and resized to 70: 1.79x), sample at twice the
  // size and average each 2x2 block, as a resize with an antialiasing filter
  // (Pillow's, which the study's pipeline used) would, instead of point
  // sampling that aliases fine detail. Off: Keras's plain bilinear sampling.
  bool antialias = true;
  // The study's order for augmented samples: resize the crop to size x size
  // first, then apply the random transform to that small image (bilinear,
  // 'nearest' fill), as Keras's ImageDataGenerator does on images already
  // resized, interpolating twice. Off: one resample from the decoded image.
  // train_cnn turns it on unless given --single-resample.
  bool resize_first = false;
};

inline constexpr double kAntialiasAbove = 1.25;

// The Keras ImageDataGenerator arguments the study used.
struct AugmentRanges {
  double rotation = 40.0;     // degrees
  double width_shift = 0.2;   // fraction of the columns
  double height_shift = 0.2;  // fraction of the rows
  double shear = 0.2;         // degrees (Keras's unit)
  double zoom = 0.2;          // zx, zy ~ U(1 - zoom, 1 + zoom)
  bool horizontal_flip = true;
};

struct AugmentParams {
  double theta = 0.0;  // degrees
  double tx = 0.0;     // rows
  double ty = 0.0;     // columns
  double shear = 0.0;  // degrees
  double zx = 1.0;
  double zy = 1.0;
  bool flip = false;
};

// A 2x3 matrix mapping (row, col, 1) to (row, col).
struct Affine {
  double m[2][3] = {{1, 0, 0}, {0, 1, 0}};
};

// Draws Keras's random_transform parameters for an n_rows x n_cols output. A
// pure function of (seed, epoch, sample): any thread, any order, same result.
AugmentParams draw_augment(const AugmentRanges& ranges, int n_rows, int n_cols, uint64_t seed, uint64_t epoch,
                           uint64_t sample);

// Keras's centred R.T.S.Z matrix, output -> input, for an n_rows x n_cols image (no flip).
Affine keras_affine(const AugmentParams& params, int n_rows, int n_cols);

// The source region the crop keeps (centred, clamped to the image).
struct Region {
  double x0, y0;  // top-left corner in source pixels
  int width, height;
};
Region crop_region(int source_width, int source_height, int crop);

// The DCT scale to decode an image of this size at for this preprocessing.
int decode_scale_for(int source_width, int source_height, const Preprocess& pre);

// The decoded pixels (at 1/scale) that rendering can touch: the crop's region
// plus a pixel for the bilinear interpolation.
Window decode_window_for(int source_width, int source_height, const Preprocess& pre, int scale);

// Renders one sample: crop, resize, the augmentation when `params` is not null,
// rescale by 1/255. `out` receives 3 planes of size x size floats (CHW).
void render_sample(const Image& image, const Preprocess& pre, const AugmentParams* params, float* out);

}  // namespace nebula::data
