// Weight import: a torchvision state_dict (.pth, pth_reader.h) or a
// .safetensors file (engine/safetensors.h) loaded into a model whose keys follow
// torchvision's ("conv1.weight", "layer1.0.bn1.running_mean", "fc.bias"; the
// built-in ResNet model files name their layers so). The file's format is
// recognised by its content, not its extension.
//
// The rules, all checked before anything is written, so a refused file leaves
// the model as it was:
//   - every backbone key (the layers before the model file's 'head' line, or
//     all of them when there is none) must be in the file, with the model's
//     shape: a missing key or a mismatched shape is an error listing them all;
//   - head keys absent from the file keep their initial values (reported in
//     head_missing); head keys present with the right shape are loaded;
//   - keys the model does not have (fc.* when the model carries the Galaxy
//     Zoo head) are listed in `unexpected`, not an error;
//   - num_batches_tracked (BatchNorm's step counter, present in torchvision
//     files, absent in others) is accepted and ignored;
//   - a "module." prefix on every key (nn.DataParallel's) is removed.
#pragma once
#include <string>
#include <vector>

#include "models/model_file.h"

namespace nebula {

struct ImportOptions {
  // Imported backbone parameters get requires_grad = false, so the optimizer
  // leaves them alone. (Batch-norm running statistics still update in training
  // mode; call eval() on the backbone layers to keep them fixed too.)
  bool freeze_backbone = false;
};

struct ImportReport {
  std::string path;
  std::string format;                     // "pth" or "safetensors"
  std::vector<std::string> loaded;        // model keys given the file's values
  std::vector<std::string> head_missing;  // head keys the file lacks, left as initialised
  std::vector<std::string> unexpected;    // file keys the model lacks, ignored
  int ignored_num_batches_tracked = 0;
  // The backbone's parameter names, for an optimizer ParameterGroup with its
  // own learning rate (see backbone_parameters() in model_file.h for the handles).
  std::vector<std::string> backbone_parameters;
  // One line per notable fact, for the program to print.
  std::vector<std::string> notes() const;
};

// A weight file's tensors by name, whichever its format; errors name the file.
struct WeightTensor {
  std::string name;
  std::string dtype;  // "F32", "I64", ...
  Tensor tensor;      // float32, CPU
};
std::vector<WeightTensor> read_weights(const std::string& path, std::string* format = nullptr);

ImportReport import_weights(const std::string& path, Model& model, const ImportOptions& options = {});
// The same, from tensors already read; `path` names them in errors.
ImportReport import_weights(const std::vector<WeightTensor>& tensors, const std::string& path, Model& model,
                            const ImportOptions& options = {});

}  // namespace nebula
