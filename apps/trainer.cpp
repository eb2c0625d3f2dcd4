#include "apps/trainer.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <map>

#include "apps/device_choice.h"
#include "apps/history.h"
#include "apps/progress.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "data/split.h"
#include "engine/checkpoint.h"
#include "engine/dispatch.h"
#include "base/error.h"
#include "base/file_io.h"
#include "engine/metrics.h"
#include "engine/ops.h"
#include "engine/optimizer.h"
#include "base/random.h"
#include "engine/training_step.h"
#include "models/import_weights.h"
#include "models/model_file.h"

namespace nebula {

namespace {

std::string join(const std::vector<std::string>& parts, char separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(1, separator) : "") + parts[i];
  return out;
}

data::Dataset open_data(const TrainConfig& c) {
  if (!c.data_dir.empty()) {
    NEBULA_CHECK(c.images_dir.empty() && c.labels_path.empty(), "give either --data or --images with --labels");
    return data::open_kaggle(c.data_dir);
  }
  NEBULA_CHECK(!c.images_dir.empty() && !c.labels_path.empty(),
               "name the data: --data DIR (Kaggle layout) or --images DIR --labels FILE");
  return data::open_dataset(c.images_dir, c.labels_path);
}

// A double as text that reads back to the same double, so a resumed run
// compares validation RMSEs against exactly the best it had.
std::string exact_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// The running training loss. A step's loss is read only once the next step has
// been queued, so on the GPU the host never waits for a step it just launched.
class LossTracker {
 public:
  struct Step {
    Tensor loss;
    size_t batch_index = 0, images = 0;
  };

  // False when a finished step's loss was not finite: bad() names it.
  bool add(Step step) {
    pending_.push_back(std::move(step));
    return pending_.size() < 2 || settle();
  }
  bool finish() {
    while (!pending_.empty())
      if (!settle()) return false;
    return true;
  }
  const Step& bad() const { return bad_; }
  float bad_value() const { return bad_value_; }
  double mean() const { return images_ ? sum_ / images_ : 0.0; }
  size_t images() const { return images_; }
  size_t batches() const { return batches_; }

 private:
  bool settle() {
    Step step = std::move(pending_.front());
    pending_.erase(pending_.begin());
    float value = step.loss.to_vector()[0];
    if (!std::isfinite(value)) {
      bad_ = std::move(step);
      bad_value_ = value;
      return false;
    }
    sum_ += double(value) * step.images;
    images_ += step.images;
    ++batches_;
    return true;
  }

  std::vector<Step> pending_;
  Step bad_;
  float bad_value_ = 0;
  double sum_ = 0;
  size_t images_ = 0, batches_ = 0;
};

struct Evaluation {
  double loss = 0, rmse = 0;
  RmseMeter meter;
};

Evaluation evaluate(Sequential& net, data::Loader& loader, int epoch) {
  NoGradGuard no_grad;
  net.eval();
  Evaluation result;
  loader.start_epoch(epoch);
  data::Batch batch;
  while (loader.next(&batch)) {
    if (batch.size() == 0) continue;
    Variable prediction = net(Variable(batch.images));
    result.meter.add(prediction.value(), batch.labels);
  }
  result.loss = result.meter.mse();
  result.rmse = result.meter.rmse();
  return result;
}

// RMSE of predicting each column's training mean for every galaxy: the floor a
// model must beat to have learnt anything from the pixels.
double mean_predictor_rmse(const data::Dataset& d, const std::vector<size_t>& train,
                           const std::vector<size_t>& test) {
  size_t columns = d.num_columns();
  std::vector<double> mean(columns, 0.0);
  for (size_t row : train)
    for (size_t c = 0; c < columns; ++c) mean[c] += d.label_row(row)[c];
  for (double& m : mean) m /= std::max<size_t>(train.size(), 1);
  double sum = 0;
  for (size_t row : test)
    for (size_t c = 0; c < columns; ++c) {
      double e = d.label_row(row)[c] - mean[c];
      sum += e * e;
    }
  return test.empty() ? 0.0 : std::sqrt(sum / (test.size() * columns));
}

// Per-question RMSE: the columns "ClassQ.k" grouped by Q.
std::vector<std::pair<std::string, double>> question_rmse(const RmseMeter& meter,
                                                          const std::vector<std::string>& columns) {
  std::map<int, std::pair<double, int>> sums;
  for (size_t c = 0; c < columns.size(); ++c) {
    int question = std::atoi(columns[c].c_str() + 5);  // after "Class"
    double r = meter.column_rmse(static_cast<int>(c));
    sums[question].first += r * r;
    sums[question].second += 1;
  }
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [q, s] : sums) out.push_back({"Q" + std::to_string(q), std::sqrt(s.first / s.second)});
  return out;
}

// Which GalaxyIDs went where, so another tool (benchmarks/train_pytorch.py) can
// train and score on exactly the same images.
void write_split(const std::string& path, const data::Dataset& d, const data::Split& split) {
  std::string csv = "GalaxyID,part\n";
  const std::pair<const char*, const std::vector<size_t>*> parts[] = {
      {"train", &split.train}, {"validation", &split.validation}, {"test", &split.test}};
  for (const auto& [name, rows] : parts)
    for (size_t row : *rows) csv += std::to_string(d.ids[row]) + "," + name + "\n";
  write_file_atomic(path, csv);
}

}  // namespace

TrainResult train(const TrainConfig& c) {
  NEBULA_CHECK(c.epochs > 0 && c.batch > 0 && c.lr > 0, "--epochs, --batch and --lr must be positive");
  Device device = choose_device(c.device, c.backend);

  data::Dataset dataset = open_data(c);
  NEBULA_CHECK(dataset.rows() > 0, "the data set has no usable rows");
  for (const std::string& warning : data::describe(dataset.tree, dataset.labels_path))
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  uint64_t split_seed = c.split_seed >= 0 ? uint64_t(c.split_seed) : c.seed;
  data::Split split = data::make_split(dataset.rows(), data::SplitSpec::parse(c.split, c.limit, split_seed));
  NEBULA_CHECK(!split.train.empty() && !split.validation.empty(), "the split '", c.split,
               "' leaves no training or no validation rows");

  manual_seed(c.seed);
  int outputs = static_cast<int>(dataset.num_columns());
  Model model = load_model(c.model, outputs, c.input_size, c.input_size);
  if (c.crop >= 0) model.spec.crop = c.crop;
  Sequential& net = *model.network;
  if (!c.weights.empty()) {
    ImportReport report = import_weights(c.weights, model, ImportOptions{c.freeze_backbone});
    for (const std::string& note : report.notes()) std::fprintf(stderr, "%s\n", note.c_str());
  }
  NEBULA_CHECK(!(c.freeze_backbone || c.backbone_lr > 0) || model.spec.head_layer >= 0,
               "--freeze-backbone and --backbone-lr need a model with a 'head' line (", c.model, " has none)");
  NEBULA_CHECK(!c.freeze_backbone || !c.weights.empty(), "--freeze-backbone needs --weights");
  net.to(device);  // before the optimizer, whose state is made where the parameters are
  std::vector<ParameterGroup> groups = single_group(net);
  if (c.backbone_lr > 0)
    groups = {ParameterGroup{backbone_parameters(model), c.backbone_lr}, ParameterGroup{head_parameters(model), 0.0f}};
  Adamax optimizer(groups, AdamaxParams{c.lr});

  data::LoaderOptions loader_options;
  loader_options.batch_size = c.batch;
  loader_options.preprocess = {model.spec.crop, model.spec.height};
  loader_options.seed = c.seed;
  loader_options.threads = c.workers;
  loader_options.cache = c.cache;
  loader_options.device = device;
  data::LoaderOptions train_options = loader_options;
  train_options.augment = c.augment;
  train_options.preprocess.resize_first = c.resize_first;
  train_options.shuffle = true;
  data::Loader train_loader(dataset, split.train, train_options);
  data::Loader val_loader(dataset, split.validation, loader_options);

  make_directories(c.out_dir);
  const std::string last_path = c.out_dir + "/last.safetensors", best_path = c.out_dir + "/best.safetensors";
  const std::string history_path = c.out_dir + "/history.csv";
  CheckpointMetadata metadata = {{"model", c.model},
                                 {"model_source", model.spec.source},
                                 {"columns", join(dataset.columns, ',')},
                                 {"input_size", std::to_string(model.spec.height)},
                                 {"crop", std::to_string(model.spec.crop)},
                                 {"seed", std::to_string(c.seed)},
                                 {"augment_render", c.resize_first ? "resize-first" : "single-resample"},
                                 {"split", c.split + " limit " + std::to_string(c.limit) + " seed " +
                                               std::to_string(split_seed)}};

  write_split(c.out_dir + "/split.csv", dataset, split);

  std::vector<EpochRecord> history;
  double best_val = INFINITY;
  int first_epoch = 1;
  if (c.resume && !is_file(last_path))
    std::fprintf(stderr, "--resume: %s does not exist yet; starting afresh\n", last_path.c_str());
  if (c.resume && is_file(last_path)) {
    CheckpointMetadata saved = load_checkpoint(last_path, net, &optimizer);
    for (const char* key : {"columns", "model_source", "seed", "split"})
      NEBULA_CHECK(saved[key] == metadata[key], last_path, ": was written by a run with another ", key,
                   "; resume with the same arguments, or start afresh without --resume");
    // Checkpoints from before the render could be chosen were single-resample runs.
    const std::string render = saved.count("augment_render") ? saved["augment_render"] : "single-resample";
    NEBULA_CHECK(render == metadata["augment_render"], last_path, ": was written by a ", render,
                 " run; resume it with", render == "single-resample" ? "" : "out", " --single-resample");
    first_epoch = std::stoi(saved["epoch"]) + 1;
    best_val = std::stod(saved["best_val_rmse"]);
    history = parse_history_csv(read_text_file(history_path), history_path);
    history.resize(std::min<size_t>(history.size(), first_epoch - 1));
    std::fprintf(stderr, "resuming %s after epoch %d (best validation RMSE %.5f)\n", last_path.c_str(),
                 first_epoch - 1, best_val);
  }

  std::fprintf(stderr, "%s: %lld parameters; %zu train / %zu validation / %zu test images of %zu; input %dx%d%s\n",
               c.model.c_str(), static_cast<long long>(net.parameter_count()), split.train.size(),
               split.validation.size(), split.test.size(), dataset.rows(), model.spec.height, model.spec.width,
               model.spec.crop ? (", centre crop " + std::to_string(model.spec.crop)).c_str() : "");

  GraphedTrainingStep graphed_step(net, optimizer);
  TrainResult result;
  double train_seconds = 0;
  size_t train_images = 0;
  for (int epoch = first_epoch; epoch <= c.epochs; ++epoch) {
    net.train();
    // A frozen backbone keeps its batch-norm statistics too.
    if (c.freeze_backbone)
      for (int i = 0; i < model.spec.head_layer; ++i) net.at(i).eval();
    train_loader.start_epoch(epoch);
    ProgressBar bar("epoch " + std::to_string(epoch) + "/" + std::to_string(c.epochs),
                    train_loader.batches_per_epoch());
    RmseMeter train_meter;
    LossTracker losses;
    data::Batch batch;
    bool finite = true;
    while (finite && train_loader.next(&batch)) {
      if (batch.size() == 0) continue;
      StepResult step = c.cuda_graph ? graphed_step.run(batch.images, batch.labels)
                                     : training_step(net, optimizer, batch.images, batch.labels);
      train_meter.add(step.prediction, batch.labels);
      finite = losses.add({step.loss, batch.index, batch.size()});
      if (!c.quiet) bar.update(losses.batches(), losses.images(), losses.mean());
    }
    if (!finite || !losses.finish()) {
      clear_tape();
      std::fprintf(stderr, "\nthe loss became %s at epoch %d, batch %zu: stopping; the last good checkpoint is %s\n",
                   std::isnan(losses.bad_value()) ? "NaN" : "infinite", epoch, losses.bad().batch_index + 1,
                   epoch > 1 ? last_path.c_str() : "(none: this was the first epoch)");
      result.stopped_on_nan = true;
      return result;
    }
    size_t images = losses.images();
    if (!c.quiet) bar.finish();
    double seconds = bar.seconds();
    train_seconds += seconds;
    train_images += images;

    Evaluation val = evaluate(net, val_loader, epoch);
    EpochRecord record{epoch, losses.mean(), train_meter.rmse(), val.loss, val.rmse, seconds,
                       seconds > 0 ? images / seconds : 0};
    history.push_back(record);
    std::printf("epoch %d/%d  train loss %.5f  RMSE %.5f  |  validation loss %.5f  RMSE %.5f  |  %.1fs, %.0f img/s\n",
                epoch, c.epochs, record.train_loss, record.train_rmse, record.val_loss, record.val_rmse, seconds,
                record.images_per_second);
    std::fflush(stdout);

    metadata["epoch"] = std::to_string(epoch);
    if (val.rmse < best_val) {
      best_val = val.rmse;
      metadata["best_val_rmse"] = exact_text(best_val);
      save_checkpoint(best_path, net, nullptr, metadata);
    }
    metadata["best_val_rmse"] = exact_text(best_val);
    // History first, then the checkpoint: a run killed between the two resumes
    // from the older checkpoint and trims the history back to it.
    write_file_atomic(history_path, history_csv(history));
    write_file_atomic(c.out_dir + "/curves.svg", curves_svg(history, c.model));
    save_checkpoint(last_path, net, &optimizer, metadata);
    result.val_rmse = val.rmse;
    result.epochs_run = epoch;
  }
  result.best_val_rmse = best_val;
  result.seconds = train_seconds;
  result.images_per_second = train_seconds > 0 ? train_images / train_seconds : 0;

  // The test set is scored once, with the weights that did best on validation.
  nlohmann::ordered_json summary = {{"model", c.model},
                            {"epochs", result.epochs_run},
                            {"val_rmse", result.val_rmse},
                            {"best_val_rmse", best_val},
                            {"images_per_second", result.images_per_second},
                            {"seconds", result.seconds},
                            {"train_images", split.train.size()},
                            {"validation_images", split.validation.size()},
                            {"test_images", split.test.size()},
                            {"device", device_name(device)}};
  if (!split.test.empty() && is_file(best_path)) {
    load_checkpoint(best_path, net, nullptr);
    data::Loader test_loader(dataset, split.test, loader_options);
    Evaluation test = evaluate(net, test_loader, 0);
    result.test_rmse = test.rmse;
    result.mean_predictor_test_rmse = mean_predictor_rmse(dataset, split.train, split.test);
    std::printf("test RMSE %.5f (best validation RMSE %.5f; predicting the training mean gives %.5f)\n", test.rmse,
                best_val, result.mean_predictor_test_rmse);
    nlohmann::ordered_json per_question = nlohmann::ordered_json::object();
    std::printf("test RMSE per question:");
    for (const auto& [question, rmse] : question_rmse(test.meter, dataset.columns)) {
      std::printf(" %s %.4f", question.c_str(), rmse);
      per_question[question] = rmse;
    }
    std::printf("\n");
    summary["test_rmse"] = test.rmse;
    summary["mean_predictor_test_rmse"] = result.mean_predictor_test_rmse;
    summary["test_rmse_per_question"] = per_question;
  }
  size_t broken = train_loader.skipped() + val_loader.skipped();
  summary["broken_images_skipped"] = broken;
  if (broken) std::fprintf(stderr, "%zu broken images were skipped (named above)\n", broken);
  write_file_atomic(c.out_dir + "/summary.json", summary.dump(2) + "\n");
  return result;
}

}  // namespace nebula
