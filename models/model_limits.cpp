#include "models/model_limits.h"

#include "base/environment.h"
#include "base/error.h"
#include "engine/shape.h"
#include "models/model_file.h"

namespace nebula {

namespace {

constexpr const char* kWhatModelLimits = "the largest model a model file may ask for";

}  // namespace

ModelLimits model_limits() {
  ModelLimits limits;
  limits.parameters = positive_whole_from_environment(kMaxParametersVariable, limits.parameters, kWhatModelLimits);
  limits.activation_bytes =
      positive_whole_from_environment(kMaxActivationBytesVariable, limits.activation_bytes, kWhatModelLimits);
  return limits;
}

void check_batch_fits(const Model& model, int batch, const ModelLimits& limits) {
  NEBULA_CHECK(batch > 0, model.spec.name, ": the batch size must be positive, got ", batch);
  int64_t bytes = 0;
  bool fits = checked_mul(model.spec.activation_bytes_per_sample, batch, &bytes) && bytes <= limits.activation_bytes;
  NEBULA_CHECK(fits, model.spec.name, ": a batch of ", batch, " needs ", model.spec.activation_bytes_per_sample,
               " bytes of layer outputs a sample, over the limit of ", limits.activation_bytes, " bytes a batch (set ",
               kMaxActivationBytesVariable, " to raise it, or use a smaller batch)");
}

}  // namespace nebula
