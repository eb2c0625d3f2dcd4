// Models are data: a model file lists one layer a line, and each layer's input
// shape is inferred from the one before. The format (README, "Writing a model"):
//
//   # comment                      blank lines and comments are ignored
//   input C H W                    the input image, first; H W are the default input size
//   crop N                         optional: centre crop N x N of the 424 x 424 frame first
//   init glorot|kaiming            optional: the weights' initialisation; glorot (Keras's
//                                  defaults, the study's) unless it says kaiming:
//                                  torchvision's ResNet (models/kaiming_init.h)
//   conv FILTERS KERNEL [stride=S] [same|valid|pad=P] [nobias] [relu|sigmoid]
//   maxpool KERNEL [stride=S] [pad=P]
//   batchnorm [relu]
//   stage basic|bottleneck CHANNELS [blocks=N] [stride=S]
//                                  N torchvision ResNet blocks (BasicBlock, or
//                                  Bottleneck giving 4 x CHANNELS), the first with
//                                  stride S and a 1x1 projection shortcut when needed
//   relu | sigmoid | flatten | gap
//   dropout RATE
//   dense UNITS|outputs [maxout=K] [nobias] [relu|sigmoid|galaxytree]
//                                  'outputs': one unit per label column; maxout=K:
//                                  each unit the largest of K linear ones
//   maxout K                       the largest of each K consecutive features
//   views rotations|dihedral|dieleman [size=S]
//                                  cut each square image into 4, 8 or 16 views
//                                  (kernels/views.h), which the layers after it
//                                  see as that many samples, until
//   merge concat|mean              joins each image's views' features again
//   head                           the layers after this line are the task head:
//                                  weight import leaves them as initialised; the
//                                  layers before it are the backbone
//
// Every layer line takes name=NAME: its parameters are then keyed "NAME.weight"
// (unnamed layers are numbered), so a model's keys can match torchvision's
// state_dict ("layer1.0.conv1.weight"); an activation flag on the line adds an
// unnamed layer after it.
//
// Built-in models (cnn1-3, resnet18/34/50 with the Galaxy Zoo head and
// resnet18/34/50-imagenet with the 1000-way head) are such files, compiled in.
//
// A file is read whole before any layer is built: every number parsed whole,
// every shape worked out in checked 64-bit arithmetic, and the model's size
// held to models/model_limits.h (NEBULA_MAX_PARAMETERS,
// NEBULA_MAX_ACTIVATION_BYTES), so a bad or hostile file is refused with its
// file, line and problem before it can allocate anything.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/sequential.h"

namespace nebula {

struct ModelSpec {
  std::string name;             // "cnn1", or the file's path
  std::string source;           // the model file's text, kept so a checkpoint can rebuild the model
  std::string init = "glorot";  // the weights' initialisation: glorot (Keras's) or kaiming (torchvision's ResNet)
  int channels = 3, height = 0, width = 0;
  int crop = 0;                             // 0: the whole frame
  int head_layer = -1;                      // index of the first head layer in the network; -1: no head line
  int64_t parameters = 0;                   // trainable, as the shapes give them
  int64_t activation_bytes_per_sample = 0;  // every layer's output for one sample, float32
};

struct Model {
  ModelSpec spec;
  std::unique_ptr<Sequential> network;
  Shape input_shape(int batch) const { return {batch, spec.channels, spec.height, spec.width}; }
};

// What a model predicts: how many label columns ('dense outputs' has that many
// units) and their names, which the decision-tree output ('dense outputs
// galaxytree') needs to know its questions. A count alone will do for every
// other model (and for the tree over all 37 Kaggle columns).
struct ModelOutputs {
  ModelOutputs(int count = 0) : count(count) {}  // NOLINT: a count converts, as before names were known
  ModelOutputs(std::vector<std::string> names) : count(static_cast<int>(names.size())), columns(std::move(names)) {}
  int count = 0;
  std::vector<std::string> columns;  // in output order; empty when only the count is known
};

// Parses a model's text. `origin` names it in errors ("cnn1", "my.model").
// height/width > 0 override the file's input size. outputs sizes 'dense outputs'.
// Throws nebula::Error "ORIGIN:LINE: KEYWORD: problem" for a bad file, and for
// one larger than model_limits() allows (one sample against the batch limit).
Model parse_model(const std::string& text, const std::string& origin, const ModelOutputs& outputs, int height = 0,
                  int width = 0);

// A built-in name (cnn1, cnn2, cnn3) or a path to a model file.
Model load_model(const std::string& name_or_path, const ModelOutputs& outputs, int height = 0, int width = 0);

// The parameters of the layers before the head line (all of them when there is
// none), and of the head. Names as in parameters() ("layer1.0.conv1.weight").
std::vector<NamedParameter> backbone_parameters(Model& model);
std::vector<NamedParameter> head_parameters(Model& model);
// Whether a parameter or buffer key belongs to a head layer.
bool in_head(const Model& model, const std::string& key);

std::vector<std::string> builtin_model_names();
// The text of a built-in model, or "" when there is none of that name.
std::string builtin_model_text(const std::string& name);

}  // namespace nebula
