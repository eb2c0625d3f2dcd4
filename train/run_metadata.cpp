#include "train/run_metadata.h"

#include <algorithm>
#include <charconv>
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
  // A float option, read back to the float it was written from.
  float single(const char* key, double minimum, double maximum) const {
    const std::string& value = text(key);
    double out = 0;
    NEBULA_CHECK(parse_finite_number(value, &out) && out >= minimum && out <= maximum, path_, ": metadata ", key,
                 " = '", value, "' is not a number from ", minimum, " to ", maximum);
    return static_cast<float>(out);
  }
  // One of a few names.
  const std::string& one_of(const char* key, const std::vector<std::string>& names) const {
    const std::string& value = text(key);
    NEBULA_CHECK(std::find(names.begin(), names.end(), value) != names.end(), path_, ": metadata ", key, " = '", value,
                 "' is not one of ", join_commas(names));
    return value;
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

std::string float_text(float value) {
  char text[32];
  auto [end, error] = std::to_chars(text, text + sizeof text, value, std::chars_format::general);  // 0.0001
  return error == std::errc() ? std::string(text, end) : exact_text(value);
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

// Each option of a schedule: its flag, its metadata key and its value as text.
struct ScheduleField {
  const char* flag;
  const char* key;
  std::string text;
};

std::vector<ScheduleField> schedule_fields(const TrainingSchedule& s) {
  return {{"--optimizer", "optimizer", s.optimizer},
          {"--lr", "lr", float_text(s.lr)},
          {"--backbone-lr", "backbone_lr", float_text(s.backbone_lr)},
          {"--weight-decay", "weight_decay", float_text(s.weight_decay)},
          {"--momentum", "momentum", float_text(s.momentum)},
          {"--nesterov", "nesterov", s.nesterov ? "1" : "0"},
          {"--lr-schedule", "lr_schedule", s.lr_schedule},
          {"--warmup-epochs", "warmup_epochs", std::to_string(s.warmup_epochs)},
          {"--lr-step-epochs", "lr_step_epochs", std::to_string(s.lr_step_epochs)},
          {"--lr-gamma", "lr_gamma", float_text(s.lr_gamma)},
          {"--patience", "patience", std::to_string(s.patience)},
          {"--batch", "batch", std::to_string(s.batch)},
          {"--epochs", "schedule_epochs", std::to_string(s.epochs)},
          {"--precision", "precision", s.precision}};
}

// Checkpoints without an 'optimizer' field come from before schedules: see TrainingSchedule.
TrainingSchedule read_schedule(const FieldReader& field) {
  TrainingSchedule s;
  if (field.text_or("optimizer", "").empty()) return s;
  s.optimizer = field.one_of("optimizer", {"adamax", "adam", "adamw", "sgd"});
  s.lr = field.single("lr", 1e-30, 1e30);
  s.backbone_lr = field.single("backbone_lr", 0.0, 1e30);
  s.weight_decay = field.single("weight_decay", 0.0, 1e30);
  s.momentum = field.single("momentum", 0.0, 0.99999999);
  s.nesterov = field.whole<int>("nesterov", 0, 1) == 1;
  s.lr_schedule = field.one_of("lr_schedule", {"constant", "step", "cosine"});
  s.warmup_epochs = field.whole<int>("warmup_epochs", 0, INT_MAX - 1);
  s.lr_step_epochs = field.whole<int>("lr_step_epochs", 0, INT_MAX);
  s.lr_gamma = field.single("lr_gamma", 1e-30, 1.0);
  s.patience = field.whole<int>("patience", 0, INT_MAX);
  s.batch = field.whole<int>("batch", 1, INT_MAX);
  s.epochs = field.whole<int>("schedule_epochs", 1, INT_MAX);
  if (!field.text_or("precision", "").empty()) s.precision = field.one_of("precision", {"fp32", "tf32", "bf16"});
  return s;
}

}  // namespace

ScheduleDifference schedule_difference(const TrainingSchedule& saved, const TrainingSchedule& now) {
  const std::vector<ScheduleField> a = schedule_fields(saved), b = schedule_fields(now);
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string key = a[i].key;
    const bool unrecorded = saved.lr == 0 && (key == "lr" || key == "backbone_lr");
    if (unrecorded || (key == "batch" && saved.batch == 0)) continue;
    if (key == "schedule_epochs" && (saved.lr_schedule != "cosine" || now.lr_schedule != "cosine")) continue;
    if (a[i].text != b[i].text) return {a[i].flag, a[i].text, b[i].text};
  }
  return {};
}

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
  out["best_epoch"] = std::to_string(run.best_epoch);
  for (const ScheduleField& f : schedule_fields(run.schedule)) out[f.key] = f.text;
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
  if (!field.text_or("best_epoch", "").empty()) run.best_epoch = field.whole<int>("best_epoch", 0, run.epoch);
  run.schedule = read_schedule(field);
  return run;
}

}  // namespace nebula
