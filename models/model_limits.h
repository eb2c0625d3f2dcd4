// The largest model a model file may ask for. A file is checked against these
// from its shapes alone, in 64-bit arithmetic, before any layer is allocated,
// so a typo such as `conv 100000000 3` is refused by line instead of dying in
// std::bad_alloc. Both limits are generous for the built-in models and can be
// raised (or lowered) with an environment variable, which the error names.
#pragma once
#include <cstdint>

namespace nebula {

struct Model;

struct ModelLimits {
  // Trainable parameters (weights and biases). ResNet-50 has 25.6 million.
  int64_t parameters = 1'000'000'000;
  // Bytes of every layer's output in one forward pass of a batch (float32);
  // ResNet-50 at 224 x 224 needs about 140 MB a sample, so 14 GB for batch 100.
  int64_t activation_bytes = int64_t{64} << 30;
};

constexpr const char* kMaxParametersVariable = "NEBULA_MAX_PARAMETERS";
constexpr const char* kMaxActivationBytesVariable = "NEBULA_MAX_ACTIVATION_BYTES";

// The defaults above, each replaced by its environment variable when set
// (a positive whole number; anything else is an error naming the variable).
ModelLimits model_limits();

// Throws nebula::Error naming the model, the batch and the limit when `batch`
// samples' layer outputs would exceed the activation limit.
void check_batch_fits(const Model& model, int batch, const ModelLimits& limits = model_limits());

}  // namespace nebula
