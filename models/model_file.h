// Models are data: a model file lists one layer a line, and each layer's input
// shape is inferred from the one before. The format (README, "Writing a model"):
//
//   # comment                      blank lines and comments are ignored
//   input C H W                    the input image, first; H W are the default input size
//   crop N                         optional: centre crop N x N of the 424 x 424 frame first
//   conv FILTERS KERNEL [stride=S] [same|valid|pad=P] [nobias] [relu|sigmoid]
//   maxpool KERNEL [stride=S] [pad=P]
//   batchnorm [relu]
//   relu | sigmoid | flatten | gap
//   dropout RATE
//   dense UNITS|outputs [nobias] [relu|sigmoid]   'outputs': one unit per label column
//
// Built-in models (cnn1, cnn2, cnn3) are such files, compiled into the program.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/sequential.h"

namespace nebula {

struct ModelSpec {
  std::string name;    // "cnn1", or the file's path
  std::string source;  // the model file's text, kept so a checkpoint can rebuild the model
  int channels = 3, height = 0, width = 0;
  int crop = 0;        // 0: the whole frame
};

struct Model {
  ModelSpec spec;
  std::unique_ptr<Sequential> network;
  Shape input_shape(int batch) const { return {batch, spec.channels, spec.height, spec.width}; }
};

// Parses a model's text. `origin` names it in errors ("cnn1", "my.model").
// height/width > 0 override the file's input size. outputs sizes 'dense outputs'.
Model parse_model(const std::string& text, const std::string& origin, int outputs, int height = 0, int width = 0);

// A built-in name (cnn1, cnn2, cnn3) or a path to a model file.
Model load_model(const std::string& name_or_path, int outputs, int height = 0, int width = 0);

std::vector<std::string> builtin_model_names();
// The text of a built-in model, or "" when there is none of that name.
std::string builtin_model_text(const std::string& name);

}  // namespace nebula
