// The model-file parser (models/model_file.h): the text, then the layers it builds.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/error.h"
#include "fuzz_check.h"
#include "models/model_file.h"
#include "models/model_limits.h"

// The parser allows a billion parameters (4 GB of weights) by design. Here the
// limit is 4 million, so that what is tested is that the limit holds, at many
// inputs a second, not how much memory and time the machine has (building a
// full ResNet takes a second under the sanitizers).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv(nebula::kMaxParametersVariable, "4000000", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nebula::Model model;
  try {
    model = nebula::parse_model(std::string(reinterpret_cast<const char*>(data), size), "fuzz.model", 37);
  } catch (const nebula::Error&) {
    return 0;
  }
  // What was built is what the limits were checked against, and it takes the
  // input the file declares (an error from here on escapes: a finding).
  FUZZ_EXPECT(model.network != nullptr);
  FUZZ_EXPECT(model.spec.height > 0 && model.spec.width > 0 && model.spec.channels > 0);
  int64_t built = 0;
  for (const auto& part : {nebula::backbone_parameters(model), nebula::head_parameters(model)})
    for (const nebula::NamedParameter& p : part) built += p.variable.value().numel();
  FUZZ_EXPECT(built == model.spec.parameters && built == model.network->parameter_count());
  FUZZ_EXPECT(model.spec.parameters <= nebula::model_limits().parameters);
  nebula::Shape out = model.network->output_shape(model.input_shape(1));
  FUZZ_EXPECT(!out.empty() && out[0] == 1);
  return 0;
}
