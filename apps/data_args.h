// The data-set options the apps share: --data DIR for the Kaggle layout, or
// --images DIR --labels FILE named apart (the real sample's layout).
#pragma once
#include <CLI/CLI.hpp>

#include <string>

#include "base/error.h"
#include "data/dataset.h"

namespace nebula::apps {

struct DataArgs {
  std::string data;
  std::string images;
  std::string labels;

  void add(CLI::App& app) {
    auto* data_opt = app.add_option("--data", data,
                                    "data set in the Kaggle layout: DIR/training_solutions_rev1.csv and "
                                    "DIR/images_training_rev1/");
    auto* images_opt = app.add_option("--images", images, "image folder (<GalaxyID>.jpg), with --labels");
    auto* labels_opt = app.add_option("--labels", labels, "label file GalaxyID,Class1.1,... (any subset of the 37)");
    data_opt->excludes(images_opt)->excludes(labels_opt);
    images_opt->needs(labels_opt);
    labels_opt->needs(images_opt);
  }

  bool given() const { return !data.empty() || !images.empty(); }

  data::Dataset open() const {
    NEBULA_CHECK(given(), "no data set: give --data DIR, or --images DIR --labels FILE");
    return data.empty() ? data::open_dataset(images, labels) : data::open_kaggle(data);
  }
};

}  // namespace nebula::apps
