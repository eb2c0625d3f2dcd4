// Checkpoints: a model's parameters and buffers, its optimizer's state and some
// string metadata in one safetensors file (safetensors.h), so PyTorch can open it:
//   model.<name>               every parameter and buffer ("model.0.weight",
//                              "model.3.running_mean"), float32
//   optimizer.<name>.<slot>    every optimizer state tensor ("optimizer.0.weight.exp_avg")
//   __metadata__               the caller's strings (model name, epoch, config),
//                              and Nebula's own under "nebula.": the format, the
//                              optimizer's kind and step count, and each Dropout's
//                              call count (so a resumed run draws the masks an
//                              uninterrupted one would)
// Saving writes a temporary file and renames it into place. Loading reads and
// checks the whole file before it changes anything: every expected key present
// with the model's shape, nothing unexpected; the error lists the missing and
// unexpected keys and the shape mismatches, and names the file.
#pragma once
#include <map>
#include <string>

#include "engine/module.h"
#include "engine/optimizer.h"
#include "engine/safetensors.h"

namespace nebula {

using CheckpointMetadata = std::map<std::string, std::string>;

// optimizer may be null (weights only). Metadata keys starting "nebula." are reserved.
void save_checkpoint(const std::string& path, Module& model, Optimizer* optimizer,
                     const CheckpointMetadata& metadata = {});

// Restores the model (and the optimizer, when given: the file must then hold
// its state) and returns the caller's metadata. With a null optimizer, optimizer
// entries in the file are ignored. Throws, naming the file, on any mismatch.
CheckpointMetadata load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer);
// The same from a file already read (to look at its metadata first without reading it twice).
CheckpointMetadata load_checkpoint(const SafetensorsFile& file, Module& model, Optimizer* optimizer);

}  // namespace nebula
