// preview: a PNG grid showing, per galaxy, the original image, what the network
// sees without augmentation (crop and resize), and several augmented versions
// (the study's figures 1-3).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "apps/data_args.h"
#include "base/counter_random.h"
#include "base/file_io.h"
#include "data/augment.h"
#include "data/image_io.h"

namespace {

using namespace nebula::data;
using nebula::CounterRandom;

// Copies a CHW float image in [0,1] into the RGB canvas at (x0, y0), scaled up by nearest neighbour to `cell`.
void blit(const std::vector<float>& chw, int n, std::vector<uint8_t>& canvas, int width, int x0, int y0, int cell) {
  const size_t plane = size_t(n) * n;
  for (int y = 0; y < cell; ++y) {
    int sy = std::min(n - 1, y * n / cell);
    for (int x = 0; x < cell; ++x) {
      int sx = std::min(n - 1, x * n / cell);
      uint8_t* dst = canvas.data() + (size_t(y0 + y) * width + x0 + x) * 3;
      for (int c = 0; c < 3; ++c) {
        float v = chw[c * plane + size_t(sy) * n + sx] * 255.0f + 0.5f;
        dst[c] = uint8_t(std::clamp(v, 0.0f, 255.0f));
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Write a PNG grid of galaxies: original | network input | augmented versions."};
  nebula::apps::DataArgs args;
  args.add(app);
  std::string out = "preview.png";
  int count = 4, augmented = 5, cell = 140;
  uint64_t seed = 0;
  Preprocess pre;
  app.add_option("--out", out, "PNG file to write");
  app.add_option("--count", count, "galaxies (rows)")->check(CLI::Range(1, 64));
  app.add_option("--augmented", augmented, "augmented versions per galaxy")->check(CLI::Range(0, 32));
  app.add_option("--crop", pre.crop, "centre crop in source pixels (0: none; the study: 250)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--size", pre.size, "network input side (70 or 100 in the study)")->check(CLI::Range(8, 1024));
  app.add_option("--cell", cell, "side of each picture in the grid")->check(CLI::Range(16, 1024));
  app.add_option("--seed", seed, "chooses the galaxies and the augmentations");
  CLI11_PARSE(app, argc, argv);

  try {
    Dataset data = args.open();
    NEBULA_CHECK(data.rows() > 0, "the data set has no rows");
    // A seeded choice of galaxies (broken images are skipped below).
    std::vector<size_t> mix(data.rows());
    for (size_t i = 0; i < mix.size(); ++i) mix[i] = i;
    CounterRandom random(seed, 0x50524556ull, 0);
    for (size_t i = mix.size(); i > 1; --i) std::swap(mix[i - 1], mix[random.below(i)]);

    const int columns = 2 + augmented, gap = 4;
    const int width = columns * cell + (columns + 1) * gap, height = count * cell + (count + 1) * gap;
    std::vector<uint8_t> canvas(size_t(width) * height * 3, 255);
    ImageDecoder decoder;
    std::vector<uint8_t> buffer;
    Image full, scaled;
    AugmentRanges ranges;
    int row = 0;
    std::string error;
    for (size_t k = 0; k < mix.size() && row < count; ++k) {
      const size_t r = mix[k];
      if (!load_image(data.files[r], Preprocess{}, 1, decoder, buffer, &full, &error) ||
          !load_image(data.files[r], pre, 0, decoder, buffer, &scaled, &error)) {
        std::fprintf(stderr, "warning: skipping broken image GalaxyID %lld (%s): %s\n", (long long)data.ids[r],
                     data.files[r].c_str(), error.c_str());
        continue;
      }
      const int y0 = gap + row * (cell + gap);
      std::vector<float> original(size_t(3) * cell * cell);
      render_sample(full, Preprocess{0, cell}, nullptr, original.data());
      blit(original, cell, canvas, width, gap, y0, cell);
      std::vector<float> sample(size_t(3) * pre.size * pre.size);
      render_sample(scaled, pre, nullptr, sample.data());
      blit(sample, pre.size, canvas, width, gap + (cell + gap), y0, cell);
      for (int a = 0; a < augmented; ++a) {
        AugmentParams params = draw_augment(ranges, pre.size, pre.size, seed, uint64_t(a), uint64_t(data.ids[r]));
        render_sample(scaled, pre, &params, sample.data());
        blit(sample, pre.size, canvas, width, gap + (2 + a) * (cell + gap), y0, cell);
      }
      std::printf("row %d: GalaxyID %lld\n", row + 1, (long long)data.ids[r]);
      ++row;
    }
    NEBULA_CHECK(row > 0, "no image could be decoded");
    std::vector<uint8_t> png = encode_png(canvas.data(), width, height - (count - row) * (cell + gap), 3);
    nebula::write_file_atomic(out, png.data(), png.size());
    std::printf("wrote %s: %d galaxies; columns: original, input %dx%d%s, %d augmented\n", out.c_str(), row, pre.size,
                pre.size, pre.crop > 0 ? (" after a " + std::to_string(pre.crop) + " crop").c_str() : "", augmented);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preview: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
