// Synthetic Galaxy Zoo data: galaxies rendered from a few physical parameters
// (Sersic bulge, exponential disk, logarithmic spiral arms, bars, edge-on disks
// with round, boxy or no bulge, round to cigar-shaped ellipticals, rings, arcs,
// mergers, dust lanes, irregulars, stars and artifacts, field stars, sky noise)
// as 424x424 JPEGs, with the 37 vote fractions derived from those parameters.
//
// Each question's answer distribution is a function of what was drawn (a
// barred galaxy gets most "bar" votes, a thin disk most "edge-on" votes), mixed
// with a little Dirichlet noise, then scaled by its parent answer, so the
// decision tree holds exactly and the labels are learnable from the pixels.
// Everything is a pure function of (seed, index).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/galaxy_tree.h"

namespace nebula::data {

struct SynthOptions {
  int size = 424;             // image side in pixels
  int quality = 85;           // JPEG quality
  double label_noise = 0.05;  // mean weight of the Dirichlet noise mixed into each answer distribution
};

struct SynthGalaxy {
  std::vector<uint8_t> rgb;               // size x size x 3
  std::array<float, kNumClasses> labels;  // the 37 Kaggle columns
  std::string kind;                       // "elliptical", "spiral", ... (for previews and tests)
};

SynthGalaxy render_galaxy(uint64_t seed, uint64_t index, const SynthOptions& options = {});

// Writes DIR/images_training_rev1/<id>.jpg and DIR/training_solutions_rev1.csv,
// IDs first_id, first_id + 1, ... Every file is written atomically. `progress`
// (optional) is called from the calling thread with (done, total).
void make_galaxies(const std::string& dir, size_t count, uint64_t seed, int threads = 0,
                   const SynthOptions& options = {}, int64_t first_id = 100000,
                   const std::function<void(size_t, size_t)>& progress = nullptr);

}  // namespace nebula::data
