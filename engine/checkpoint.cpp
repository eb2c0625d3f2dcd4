#include "engine/checkpoint.h"

#include <set>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/parse_number.h"
#include "engine/finite.h"
#include "engine/layers.h"
#include "engine/safetensors.h"

namespace nebula {

namespace {

const char* const kFormatKey = "nebula.format";
const char* const kFormat = "nebula-checkpoint-1";
const char* const kOptimizerKey = "nebula.optimizer";
const char* const kStepsKey = "nebula.optimizer_steps";
const char* const kDropoutKey = "nebula.dropout_calls";
const std::string kReserved = "nebula.";

// The tensors a checkpoint of (model, optimizer) holds, under their keys, in a fixed order.
std::vector<std::pair<std::string, Tensor>> checkpoint_tensors(Module& model, Optimizer* optimizer,
                                                               const std::string& path) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const NamedParameter& p : model.parameters()) out.emplace_back("model." + p.name, p.variable.value());
  for (const NamedBuffer& b : model.buffers()) out.emplace_back("model." + b.name, b.tensor);
  if (optimizer)
    for (const NamedBuffer& s : optimizer->state()) out.emplace_back("optimizer." + s.name, s.tensor);
  std::set<std::string> keys;
  for (const auto& entry : out)
    NEBULA_CHECK(keys.insert(entry.first).second, "checkpoint '", path, "': the model names '", entry.first,
                 "' twice (a parameter, buffer or optimizer slot shares its name)");
  return out;
}

std::string join(const std::vector<std::string>& items) {
  // Long lists are cut: the first names say enough about what went wrong.
  const size_t shown = 12;
  std::string s;
  for (size_t i = 0; i < items.size() && i < shown; ++i) s += (i ? ", " : "") + items[i];
  if (items.size() > shown) s += detail::concat(" and ", items.size() - shown, " more");
  return s;
}

std::vector<uint64_t> parse_counts(const std::string& text, const std::string& path) {
  std::vector<uint64_t> out;
  if (text.empty()) return out;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    uint64_t count = 0;
    // A Dropout's mask offset is its call count times 2^32: past 2^32 calls, offsets would repeat.
    NEBULA_CHECK(parse_whole_number<uint64_t>(item, 0, (uint64_t(1) << 32) - 1, &count), "checkpoint '", path,
                 "': metadata ", kDropoutKey, " = '", text, "' is not a list of counts below 2^32");
    out.push_back(count);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int64_t parse_steps(const std::string& text, const std::string& path) {
  int64_t steps = 0;
  NEBULA_CHECK(parse_whole_number<int64_t>(text, 0, int64_t(1) << 53, &steps), "checkpoint '", path, "': metadata ",
               kStepsKey, " = '", text, "' is not a step count");
  return steps;
}

}  // namespace

void save_checkpoint(const std::string& path, Module& model, Optimizer* optimizer, const CheckpointMetadata& metadata) {
  CheckpointMetadata meta;
  for (const auto& [key, value] : metadata) {
    NEBULA_CHECK(key.compare(0, kReserved.size(), kReserved) != 0, "checkpoint '", path, "': metadata key '", key,
                 "' uses the reserved prefix '", kReserved, "'");
    meta[key] = value;
  }
  meta[kFormatKey] = kFormat;
  if (optimizer) {
    meta[kOptimizerKey] = optimizer->kind();
    meta[kStepsKey] = std::to_string(optimizer->steps());
  }
  std::string calls;
  for (Dropout* d : dropout_layers(model)) calls += (calls.empty() ? "" : ",") + std::to_string(d->calls);
  if (!calls.empty()) meta[kDropoutKey] = calls;
  write_safetensors(path, checkpoint_tensors(model, optimizer, path), meta);
}

CheckpointMetadata load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer) {
  return load_checkpoint(read_safetensors(path), model, optimizer);
}

CheckpointMetadata load_checkpoint(const SafetensorsFile& file, Module& model, Optimizer* optimizer) {
  const std::string& path = file.path();
  const auto& meta = file.metadata();
  auto format = meta.find(kFormatKey);
  NEBULA_CHECK(format != meta.end(), "checkpoint '", path,
               "' is a safetensors file but not a Nebula checkpoint (its metadata has no ", kFormatKey, ")");
  NEBULA_CHECK(format->second == kFormat, "checkpoint '", path, "' has format '", format->second, "', expected '",
               kFormat, "'");

  int64_t steps = 0;
  if (optimizer) {
    auto kind = meta.find(kOptimizerKey);
    NEBULA_CHECK(kind != meta.end(), "checkpoint '", path, "' holds no optimizer state, but ", optimizer->kind(),
                 " state was asked for");
    NEBULA_CHECK(kind->second == optimizer->kind(), "checkpoint '", path, "' holds ", kind->second, " state, not ",
                 optimizer->kind());
    auto s = meta.find(kStepsKey);
    NEBULA_CHECK(s != meta.end(), "checkpoint '", path, "' has no ", kStepsKey, " in its metadata");
    steps = parse_steps(s->second, path);
  }

  const std::vector<Dropout*> layers = dropout_layers(model);
  auto calls_entry = meta.find(kDropoutKey);
  const std::vector<uint64_t> calls =
      calls_entry == meta.end() ? std::vector<uint64_t>() : parse_counts(calls_entry->second, path);
  NEBULA_CHECK(calls.size() == layers.size(), "checkpoint '", path, "' was saved from a model with ", calls.size(),
               " Dropout layers, this model has ", layers.size());

  // Check everything before changing anything, and report every problem at once.
  const auto targets = checkpoint_tensors(model, optimizer, path);
  std::set<std::string> expected;
  std::vector<std::string> missing, unexpected, wrong_shape, non_finite;
  for (const auto& [key, tensor] : targets) {
    expected.insert(key);
    if (!file.contains(key)) {
      missing.push_back(key);
    } else if (file.at(key).shape() != tensor.shape()) {
      wrong_shape.push_back(key + " (file " + to_string(file.at(key).shape()) + ", model " + to_string(tensor.shape()) +
                            ")");
    } else if (std::string bad = first_non_finite(file.at(key)); !bad.empty()) {
      non_finite.push_back(key + " (" + bad + ")");  // a model of Inf or NaN predicts NaN everywhere
    }
  }
  for (const SafetensorsEntry& e : file.entries()) {
    if (expected.count(e.name)) continue;
    if (!optimizer && e.name.compare(0, 10, "optimizer.") == 0) continue;
    unexpected.push_back(e.name);
  }
  if (!missing.empty() || !unexpected.empty() || !wrong_shape.empty() || !non_finite.empty()) {
    std::string problems;
    if (!missing.empty()) problems += detail::concat("; missing keys: ", join(missing));
    if (!unexpected.empty()) problems += detail::concat("; unexpected keys: ", join(unexpected));
    if (!wrong_shape.empty()) problems += detail::concat("; wrong shapes: ", join(wrong_shape));
    if (!non_finite.empty()) problems += detail::concat("; values that are not finite: ", join(non_finite));
    NEBULA_FAIL("checkpoint '", path, "' does not match the model", problems);
  }

  for (const auto& [key, tensor] : targets) {
    Tensor target = tensor;
    target.copy_from(file.at(key));
  }
  if (optimizer) optimizer->set_steps(steps);
  for (size_t i = 0; i < layers.size(); ++i) layers[i]->calls = calls[i];

  CheckpointMetadata out;
  for (const auto& [key, value] : meta)
    if (key.compare(0, kReserved.size(), kReserved) != 0) out[key] = value;
  return out;
}

}  // namespace nebula
