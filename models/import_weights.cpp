#include "models/import_weights.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/error.h"
#include "engine/finite.h"
#include "engine/safetensors.h"
#include "models/pth_reader.h"

namespace nebula {

namespace {

const std::string kCounter = "num_batches_tracked";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string join(const std::vector<std::string>& items, size_t limit = 12) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += detail::concat(", ... (", items.size(), " in all)");
  return out;
}

}  // namespace

std::vector<std::string> ImportReport::notes() const {
  std::vector<std::string> out;
  out.push_back(detail::concat(path, ": loaded ", loaded.size(), " tensors (", format, ")"));
  if (!head_missing.empty())
    out.push_back(detail::concat("head not in the file, trained from its initial values: ", join(head_missing)));
  if (!unexpected.empty())
    out.push_back(detail::concat("in the file but not in the model, ignored: ", join(unexpected)));
  return out;
}

std::vector<WeightTensor> read_weights(const std::string& path, std::string* format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(detail::concat(path, ": cannot open the weight file"));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw Error(detail::concat(path, ": cannot read the weight file"));
  std::string bytes = contents.str();

  std::vector<WeightTensor> out;
  // A zip (torch.save since 1.6) starts "PK"; the legacy format with pickle's
  // PROTO opcode; safetensors with its header length, which is neither.
  if (bytes.compare(0, 2, "PK") == 0 || (!bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x80)) {
    if (format) *format = "pth";
    for (PthEntry& e : parse_pth(bytes, path)) out.push_back({e.name, e.dtype, e.tensor});
  } else {
    if (format) *format = "safetensors";
    SafetensorsFile file = parse_safetensors(bytes, path);
    for (const SafetensorsEntry& e : file.entries()) out.push_back({e.name, e.dtype, e.tensor});
  }
  return out;
}

ImportReport import_weights(const std::string& path, Model& model, const ImportOptions& options) {
  std::string format;
  std::vector<WeightTensor> tensors = read_weights(path, &format);
  ImportReport report = import_weights(tensors, path, model, options);
  report.format = format;
  return report;
}

ImportReport import_weights(const std::vector<WeightTensor>& tensors, const std::string& path, Model& model,
                            const ImportOptions& options) {
  ImportReport report;
  report.path = path;
  report.format = "tensors";

  // nn.DataParallel saves every key under "module.".
  bool strip_module = !tensors.empty();
  for (const WeightTensor& t : tensors) strip_module = strip_module && t.name.rfind("module.", 0) == 0;
  std::map<std::string, const WeightTensor*> file;
  for (const WeightTensor& t : tensors) {
    std::string name = strip_module ? t.name.substr(7) : t.name;
    if (!file.emplace(name, &t).second) throw Error(detail::concat(path, ": key '", name, "' appears twice"));
  }

  // The model's keys: parameters, then buffers, each with its destination.
  struct Target {
    std::string name;
    Tensor destination;
    Variable parameter;  // defined for parameters
  };
  std::vector<Target> targets;
  for (NamedParameter& p : model.network->parameters()) targets.push_back({p.name, p.variable.value(), p.variable});
  for (NamedBuffer& b : model.network->buffers()) targets.push_back({b.name, b.tensor, Variable()});

  std::vector<std::string> missing, mismatched, non_finite;
  std::set<std::string> used;
  std::vector<std::pair<Target*, const WeightTensor*>> plan;
  for (Target& t : targets) {
    auto it = file.find(t.name);
    bool head = in_head(model, t.name);
    if (it == file.end()) {
      (head ? report.head_missing : missing).push_back(t.name);
      continue;
    }
    used.insert(t.name);
    const Shape& want = t.destination.shape();
    const Shape& got = it->second->tensor.shape();
    if (want != got) {
      mismatched.push_back(
          detail::concat(t.name, " is ", to_string(got), " in the file, ", to_string(want), " in the model"));
      continue;
    }
    if (std::string bad = first_non_finite(it->second->tensor); !bad.empty()) {
      non_finite.push_back(detail::concat(t.name, " (", bad, ")"));
      continue;
    }
    plan.emplace_back(&t, it->second);
  }
  for (const auto& [name, t] : file) {
    if (used.count(name)) continue;
    if (ends_with(name, "." + kCounter) || name == kCounter) {
      ++report.ignored_num_batches_tracked;
      continue;
    }
    report.unexpected.push_back(name);
  }

  if (!missing.empty() || !mismatched.empty() || !non_finite.empty()) {
    std::ostringstream message;
    message << path << ": does not fit model '" << model.spec.name << "':";
    if (!missing.empty()) message << " missing " << missing.size() << " backbone keys: " << join(missing) << ";";
    if (!mismatched.empty()) message << " " << mismatched.size() << " shape mismatches: " << join(mismatched, 6) << ";";
    if (!non_finite.empty()) message << " values that are not finite in " << join(non_finite, 6) << ";";
    if (!report.unexpected.empty()) message << " keys the model lacks: " << join(report.unexpected) << ";";
    std::string text = message.str();
    text.pop_back();
    throw Error(text);
  }

  for (auto& [target, source] : plan) {
    target->destination.copy_from(source->tensor);
    report.loaded.push_back(target->name);
    if (options.freeze_backbone && target->parameter.defined() && !in_head(model, target->name))
      target->parameter.set_requires_grad(false);
  }
  for (const NamedParameter& p : backbone_parameters(model)) report.backbone_parameters.push_back(p.name);
  return report;
}

}  // namespace nebula
