// ImageNet preprocessing as torchvision's classifiers expect it: an image
// already SIZE x SIZE is used as it is; any other is resized so its shorter side
// is round(SIZE / 0.875) (256 for 224) and centre-cropped to SIZE x SIZE, as
// torchvision's Resize(256) + CenterCrop(224) do on a PIL image; then pixels are
// scaled to [0, 1] and normalised with ImageNet's mean (0.485, 0.456, 0.406) and
// std (0.229, 0.224, 0.225).
//
// The resize is Pillow's bilinear resampling, reproduced to the bit: a triangle
// filter widened by the reduction factor (so downscaling averages, antialiased),
// coefficients in 22-bit fixed point, the horizontal pass rounded to 8 bits
// before the vertical one. The crop offsets round half to even, as Python's
// round() does.
#pragma once
#include <array>
#include <string>

#include "data/image_io.h"

namespace nebula {

constexpr std::array<float, 3> kImagenetMean = {0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImagenetStd = {0.229f, 0.224f, 0.225f};

// Pillow's Image.resize(size, Image.BILINEAR) of an 8-bit RGB image.
data::Image resize_bilinear(const data::Image& image, int width, int height);

// The shorter side's length before the centre crop for an input of `size`.
int imagenet_resize_size(int size);

// Writes the normalised [3, size, size] planes (RGB, row-major) of one image to out.
void imagenet_preprocess(const data::Image& image, int size, float* out);

}  // namespace nebula
