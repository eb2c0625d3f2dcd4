// A Galaxy Zoo data set: GalaxyIDs, their image files and (for training) their
// labels. Opening one validates the label file and lists the image folder
// once; images themselves are read only when loaded, and a missing or damaged
// one is reported and skipped then.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/augment.h"
#include "data/image_io.h"
#include "data/labels.h"

namespace nebula::data {

struct Dataset {
  std::string images_dir;
  std::string labels_path;           // empty when the set has no labels (prediction)
  std::vector<std::string> columns;  // class names, in the label file's order
  std::vector<int> class_indices;    // each column's index among the 37 classes
  std::vector<int64_t> ids;          // GalaxyID per row
  std::vector<std::string> files;    // image path per row (the expected .jpg where none was found)
  std::vector<float> labels;         // rows x columns; empty when unlabelled
  size_t missing_images = 0;         // label rows whose image is not in the folder
  size_t unlabelled_images = 0;      // images in the folder without a label row
  TreeReport tree;                   // the decision-tree check of the labels

  size_t rows() const { return ids.size(); }
  size_t num_columns() const { return columns.size(); }
  bool labelled() const { return !labels_path.empty(); }
  const float* label_row(size_t row) const { return labels.data() + row * columns.size(); }
};

// The Kaggle layout: DIR/training_solutions_rev1.csv and DIR/images_training_rev1/
// (DIR/images_training/ also accepted).
Dataset open_kaggle(const std::string& dir);
// Images and labels named apart (the real sample's images/ and labels_partial.csv).
Dataset open_dataset(const std::string& images_dir, const std::string& labels_path);
// Every <GalaxyID>.jpg / .jpeg / .png in a folder, sorted by ID, without labels.
Dataset open_images(const std::string& images_dir);

// A row whose image could not be used.
struct BrokenImage {
  int64_t id;
  std::string path;
  std::string reason;
};
std::string describe(const BrokenImage& broken);  // "GalaxyID 123 (path): reason"

// Reads and decodes one image file at 1/scale (0: the scale `pre` needs), only
// the window `pre`'s crop needs. Returns false with a reason for a missing,
// empty, truncated or undecodable file.
bool load_image(const std::string& path, const Preprocess& pre, int scale, ImageDecoder& decoder,
                std::vector<uint8_t>& buffer, Image* out, std::string* error);
// The same for a file already in memory.
bool decode_for(const uint8_t* data, size_t size, const Preprocess& pre, int scale, ImageDecoder& decoder, Image* out,
                std::string* error);

}  // namespace nebula::data
