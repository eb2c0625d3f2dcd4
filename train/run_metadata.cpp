#include "train/run_metadata.h"

#include <climits>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "base/error.h"
#include "base/parse_number.h"

namespace nebula {

namespace {

std::string join_commas(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
  return out;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::istringstream in(text);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

// One checkpoint's metadata, read field by field; every error names the file.
class FieldReader {
 public:
  FieldReader(const CheckpointMetadata& metadata, const std::string& path) : metadata_(metadata), path_(path) {}

  const std::string& text(const char* key) const {
    auto it = metadata_.find(key);
    NEBULA_CHECK(it != metadata_.end(), path_, ": not a train_cnn checkpoint (no '", key, "' in its metadata)");
    return it->second;
  }
  std::string text_or(const char* key, const std::string& fallback) const {
    return metadata_.count(key) ? metadata_.at(key) : fallback;
  }
  template <class Integer>
  Integer whole(const char* key, Integer minimum, Integer maximum) const {
    const std::string& value = text(key);
    Integer out{};
    NEBULA_CHECK(parse_whole_number<Integer>(value, minimum, maximum, &out), path_, ": metadata ", key, " = '", value,
                 "' is not a whole number from ", minimum, " to ", maximum);
    return out;
  }
  double finite(const char* key, double minimum) const {
    const std::string& value = text(key);
    double out = 0;
    NEBULA_CHECK(parse_finite_number(value, &out) && out >= minimum, path_, ": metadata ", key, " = '", value,
                 "' is not a finite number of at least ", minimum);
    return out;
  }
  const std::string& path() const { return path_; }

 private:
  const CheckpointMetadata& metadata_;
  const std::string& path_;
};

}  // namespace

std::string exact_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

namespace {

constexpr const char* kNoValidationYet = "none";

void add_interrupted(const InterruptedEpoch& stop, CheckpointMetadata* out) {
  if (stop.batches == 0) return;
  std::string sums;
  for (size_t i = 0; i < stop.squared_errors.size(); ++i) sums += (i ? "," : "") + exact_text(stop.squared_errors[i]);
  (*out)["interrupted_batches"] = std::to_string(stop.batches);
  (*out)["interrupted_loss_sum"] = exact_text(stop.loss_sum);
  (*out)["interrupted_images"] = std::to_string(stop.images);
  (*out)["interrupted_squared_errors"] = sums;
  (*out)["interrupted_samples"] = std::to_string(stop.samples);
  (*out)["interrupted_seconds"] = exact_text(stop.seconds);
}

InterruptedEpoch read_interrupted(const FieldReader& field, size_t columns) {
  InterruptedEpoch stop;
  if (field.text_or("interrupted_batches", "").empty()) return stop;
  stop.batches = field.whole<size_t>("interrupted_batches", 1, size_t(1) << 40);
  stop.loss_sum = field.finite("interrupted_loss_sum", 0.0);
  stop.images = field.whole<size_t>("interrupted_images", 1, size_t(1) << 48);
  stop.samples = field.whole<int64_t>("interrupted_samples", 1, int64_t(1) << 48);
  stop.seconds = field.finite("interrupted_seconds", 0.0);
  const std::string& sums = field.text("interrupted_squared_errors");
  for (const std::string& item : split_commas(sums)) {
    double value = 0;
    NEBULA_CHECK(parse_finite_number(item, &value) && value >= 0, field.path(),
                 ": metadata interrupted_squared_errors has '", item, "', not a finite sum");
    stop.squared_errors.push_back(value);
  }
  NEBULA_CHECK(stop.squared_errors.size() == columns, field.path(), ": metadata interrupted_squared_errors has ",
               stop.squared_errors.size(), " sums for ", columns, " columns");
  return stop;
}

}  // namespace

CheckpointMetadata to_checkpoint_metadata(const RunMetadata& run) {
  CheckpointMetadata out = {
      {"model", run.model},
      {"model_source", run.model_source},
      {"columns", join_commas(run.columns)},
      {"input_size", std::to_string(run.input_size)},
      {"crop", std::to_string(run.crop)},
      {"seed", std::to_string(run.seed)},
      {"split", run.split},
      {"augment_render", run.augment_render},
      {"epoch", std::to_string(run.epoch)},
      {"best_val_rmse", std::isfinite(run.best_val_rmse) ? exact_text(run.best_val_rmse) : kNoValidationYet}};
  add_interrupted(run.interrupted, &out);
  return out;
}

RunMetadata read_run_metadata(const CheckpointMetadata& metadata, const std::string& path) {
  FieldReader field(metadata, path);
  RunMetadata run;
  run.model = field.text("model");
  run.model_source = field.text("model_source");
  run.columns = split_commas(field.text("columns"));
  NEBULA_CHECK(!run.columns.empty(), path, ": metadata columns is empty");
  for (const std::string& column : run.columns)
    NEBULA_CHECK(!column.empty(), path, ": metadata columns = '", field.text("columns"), "' has an empty name");
  run.input_size = field.whole<int>("input_size", 1, kMaxInputSide);
  run.crop = field.whole<int>("crop", 0, kMaxInputSide);
  run.seed = field.whole<uint64_t>("seed", 0, std::numeric_limits<uint64_t>::max());
  run.split = field.text("split");
  run.augment_render = field.text_or("augment_render", "single-resample");
  NEBULA_CHECK(run.augment_render == "resize-first" || run.augment_render == "single-resample", path,
               ": metadata augment_render = '", run.augment_render, "' is neither resize-first nor single-resample");
  run.interrupted = read_interrupted(field, run.columns.size());
  // Only a run stopped inside its first epoch has no whole epoch and no validation yet.
  const bool first = run.interrupted.batches > 0 && field.text("epoch") == "0";
  run.epoch = first ? 0 : field.whole<int>("epoch", 1, INT_MAX - 1);
  run.best_val_rmse =
      first && field.text("best_val_rmse") == kNoValidationYet ? INFINITY : field.finite("best_val_rmse", 0.0);
  return run;
}

}  // namespace nebula
