#include "models/model_limits.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "engine/shape.h"
#include "models/model_file.h"

namespace nebula {

namespace {

// The variable's value as a positive whole number, or the fallback when unset.
int64_t limit_from_environment(const char* variable, int64_t fallback) {
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return fallback;
  int64_t value = 0;
  const char* end = text + std::strlen(text);
  auto [stop, error] = std::from_chars(text, end, value);
  NEBULA_CHECK(error == std::errc() && stop == end && value > 0, variable, ": '", text,
               "' is not a positive whole number (it sets the largest model a model file may ask for)");
  return value;
}

}  // namespace

ModelLimits model_limits() {
  ModelLimits limits;
  limits.parameters = limit_from_environment(kMaxParametersVariable, limits.parameters);
  limits.activation_bytes = limit_from_environment(kMaxActivationBytesVariable, limits.activation_bytes);
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
