// make_galaxies: renders a synthetic Galaxy Zoo data set in the Kaggle layout.
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <exception>

#include "data/synth.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Render synthetic galaxies as 424x424 JPEGs with 37 Galaxy Zoo labels that obey the decision tree,\n"
      "written as DIR/images_training_rev1/<GalaxyID>.jpg and DIR/training_solutions_rev1.csv."};
  std::string out;
  size_t count = 1000;
  uint64_t seed = 0;
  int threads = 0;
  int64_t first_id = 100000;
  nebula::data::SynthOptions options;
  app.add_option("--out", out, "output folder (created if needed)")->required();
  app.add_option("--count", count, "number of galaxies")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "random seed: the same seed renders the same galaxies");
  app.add_option("--threads", threads, "worker threads (0: every core)")->check(CLI::NonNegativeNumber);
  app.add_option("--first-id", first_id, "GalaxyID of the first galaxy")->check(CLI::PositiveNumber);
  app.add_option("--size", options.size, "image side in pixels")->check(CLI::Range(16, 4096));
  app.add_option("--quality", options.quality, "JPEG quality")->check(CLI::Range(1, 100));
  app.add_option("--label-noise", options.label_noise, "weight of the noise mixed into each answer distribution")
      ->check(CLI::Range(0.0, 0.5));
  CLI11_PARSE(app, argc, argv);

  try {
    const auto start = std::chrono::steady_clock::now();
    bool tty = isatty(fileno(stderr));
    nebula::data::make_galaxies(out, count, seed, threads, options, first_id, [&](size_t done, size_t total) {
      if (tty) std::fprintf(stderr, "\rrendering %zu / %zu", done, total);
    });
    if (tty) std::fprintf(stderr, "\n");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("wrote %zu galaxies to %s in %.1f s (%.0f images/s)\n", count, out.c_str(), seconds, count / seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_galaxies: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
