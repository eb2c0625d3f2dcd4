#include "train/trainer.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>

#include "base/error.h"
#include "base/file_io.h"
#include "base/random.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "data/split.h"
#include "engine/checkpoint.h"
#include "engine/metrics.h"
#include "engine/optimizer.h"
#include "engine/training_step.h"
#include "models/import_weights.h"
#include "models/model_file.h"
#include "models/model_limits.h"
#include "train/device_choice.h"
#include "train/evaluation.h"
#include "train/history.h"
#include "train/loss_tracker.h"
#include "train/lr_schedule.h"
#include "train/optimizer_choice.h"
#include "train/progress.h"
#include "train/run_directory.h"
#include "train/run_metadata.h"
#include "train/stop_request.h"

namespace nebula {

namespace {

data::Dataset open_data(const TrainConfig& c) {
  if (!c.data_dir.empty()) {
    NEBULA_CHECK(c.images_dir.empty() && c.labels_path.empty(), "give either --data or --images with --labels");
    return data::open_kaggle(c.data_dir);
  }
  NEBULA_CHECK(!c.images_dir.empty() && !c.labels_path.empty(),
               "name the data: --data DIR (Kaggle layout) or --images DIR --labels FILE");
  return data::open_dataset(c.images_dir, c.labels_path);
}

struct RunData {
  data::Dataset dataset;
  data::Split split;
  uint64_t split_seed = 0;
};

RunData open_run_data(const TrainConfig& c) {
  RunData d{open_data(c), {}, c.split_seed >= 0 ? uint64_t(c.split_seed) : c.seed};
  NEBULA_CHECK(d.dataset.rows() > 0, "the data set has no usable rows");
  for (const std::string& warning : data::describe(d.dataset.tree, d.dataset.labels_path))
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  d.split = data::make_split(d.dataset.rows(), data::SplitSpec::parse(c.split, c.limit, d.split_seed));
  NEBULA_CHECK(!d.split.train.empty() && !d.split.validation.empty(), "the split '", c.split,
               "' leaves no training or no validation rows");
  return d;
}

// The model with its imported weights, on the device (before the optimizer,
// whose state is made where the parameters are).
Model build_model(const TrainConfig& c, const std::vector<std::string>& columns, Device device) {
  manual_seed(c.seed);
  Model model = load_model(c.model, ModelOutputs(columns), c.input_size, c.input_size);
  if (c.crop >= 0) model.spec.crop = c.crop;
  if (!c.weights.empty()) {
    ImportReport report = import_weights(c.weights, model, ImportOptions{c.freeze_backbone});
    for (const std::string& note : report.notes()) std::fprintf(stderr, "%s\n", note.c_str());
  }
  NEBULA_CHECK(!(c.freeze_backbone || c.backbone_lr > 0) || model.spec.head_layer >= 0,
               "--freeze-backbone and --backbone-lr need a model with a 'head' line (", c.model, " has none)");
  NEBULA_CHECK(!c.freeze_backbone || !c.weights.empty(), "--freeze-backbone needs --weights");
  model.network->to(device);
  return model;
}

std::unique_ptr<Optimizer> build_optimizer(const OptimizerChoice& choice, const TrainConfig& c, Model& model) {
  std::vector<ParameterGroup> groups = single_group(*model.network);
  if (c.backbone_lr > 0)
    groups = {ParameterGroup{backbone_parameters(model), c.backbone_lr}, ParameterGroup{head_parameters(model), 0.0f}};
  return make_optimizer(choice, std::move(groups));
}

// The schedule the options ask for; the batches per epoch come from the loader.
LrSchedule schedule_of(const TrainConfig& c, int64_t steps_per_epoch) {
  LrSchedule s{
      parse_lr_schedule(c.lr_schedule), c.epochs, steps_per_epoch, c.warmup_epochs, c.lr_step_epochs, c.lr_gamma};
  check_lr_schedule(s);
  NEBULA_CHECK(c.lr_step_epochs == 0 || s.kind == LrScheduleKind::Step,
               "--lr-step-epochs applies to --lr-schedule step alone, not ", c.lr_schedule);
  return s;
}

// Validation and test: crop and resize alone.
data::LoaderOptions evaluation_loader_options(const TrainConfig& c, const Model& model, Device device) {
  data::LoaderOptions options;
  options.batch_size = c.batch;
  options.preprocess = {model.spec.crop, model.spec.height};
  options.seed = c.seed;
  options.threads = c.workers;
  options.cache = c.cache;
  options.device = device;
  return options;
}

data::LoaderOptions training_loader_options(const TrainConfig& c, data::LoaderOptions options) {
  options.augment = c.augment;
  options.preprocess.resize_first = c.resize_first;
  options.shuffle = true;
  return options;
}

TrainingSchedule describe_schedule(const TrainConfig& c, const OptimizerChoice& o) {
  return {o.name,           o.lr,       o.weight_decay, o.momentum, o.nesterov, c.lr_schedule, c.warmup_epochs,
          c.lr_step_epochs, c.lr_gamma, c.patience,     c.batch,    c.epochs,   c.backbone_lr, c.precision};
}

RunMetadata describe_run(const TrainConfig& c, const OptimizerChoice& o, const Model& model, const RunData& d) {
  RunMetadata run;
  run.model = c.model;
  run.model_source = model.spec.source;
  run.columns = d.dataset.columns;
  run.input_size = model.spec.height;
  run.crop = model.spec.crop;
  run.seed = c.seed;
  run.split = c.split + " limit " + std::to_string(c.limit) + " seed " + std::to_string(d.split_seed);
  run.augment_render = c.resize_first ? "resize-first" : "single-resample";
  run.best_val_rmse = INFINITY;
  run.schedule = describe_schedule(c, o);
  return run;
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

// The run's parts, made once and used by every epoch.
struct Job {
  Job(const TrainConfig& config, Device where, RunData d, Model m)
      : c(config), device(where), data(std::move(d)), model(std::move(m)) {}

  const TrainConfig& c;
  Device device;
  RunData data;
  Model model;
  std::unique_ptr<Optimizer> optimizer;
  LrSchedule schedule;
  data::LoaderOptions loader_options;
  std::unique_ptr<data::Loader> train_loader, val_loader;
  std::unique_ptr<RunDirectory> dir;
  RunMetadata run;  // what the next checkpoint says
  std::vector<EpochRecord> history;
  StopRequest stop;
};

std::unique_ptr<Job> set_up(const TrainConfig& c) {
  NEBULA_CHECK(c.epochs > 0 && c.batch > 0 && c.lr > 0, "--epochs, --batch and --lr must be positive");
  NEBULA_CHECK(c.patience >= 0, "--patience must be 0 (never stop early) or more, got ", c.patience);
  const OptimizerChoice choice = choose_optimizer(c.optimizer, c.lr, c.weight_decay, c.momentum, c.nesterov);
  schedule_of(c, 1);  // refuses bad schedule options before any data is read
  Device device = choose_device(c.device, c.backend);
  choose_precision(c.precision, device);
  RunData d = open_run_data(c);
  Model model = build_model(c, d.dataset.columns, device);
  check_batch_fits(model, c.batch);
  auto job = std::make_unique<Job>(c, device, std::move(d), std::move(model));
  job->optimizer = build_optimizer(choice, c, job->model);
  job->loader_options = evaluation_loader_options(c, job->model, device);
  job->train_loader = std::make_unique<data::Loader>(job->data.dataset, job->data.split.train,
                                                     training_loader_options(c, job->loader_options));
  job->val_loader = std::make_unique<data::Loader>(job->data.dataset, job->data.split.validation, job->loader_options);
  job->schedule = schedule_of(c, int64_t(job->train_loader->batches_per_epoch()));
  job->dir = std::make_unique<RunDirectory>(c.out_dir);
  for (const std::string& name : job->dir->removed())
    std::fprintf(stderr, "removed %s/%s, a temporary file an interrupted run left\n", c.out_dir.c_str(), name.c_str());
  job->run = describe_run(c, choice, job->model, job->data);
  write_split(job->dir->file("split.csv"), job->data.dataset, job->data.split);
  return job;
}

// --resume: the checkpoint must come from this run (same data, model, seed,
// split and render) and stop inside --epochs; then the model, the optimizer,
// the history and the run's place are restored.
void resume(Job& job) {
  const std::string path = job.dir->last_checkpoint();
  if (!is_file(path)) {
    std::fprintf(stderr, "--resume: %s does not exist yet; starting afresh\n", path.c_str());
    return;
  }
  SafetensorsFile file = read_safetensors(path);
  RunMetadata saved = read_run_metadata(file.metadata(), path);
  const std::pair<const char*, bool> same[] = {{"columns", saved.columns == job.run.columns},
                                               {"model_source", saved.model_source == job.run.model_source},
                                               {"seed", saved.seed == job.run.seed},
                                               {"split", saved.split == job.run.split}};
  for (const auto& [key, equal] : same)
    NEBULA_CHECK(equal, path, ": was written by a run with another ", key,
                 "; resume with the same arguments, or start afresh without --resume");
  NEBULA_CHECK(saved.augment_render == job.run.augment_render, path, ": was written by a ", saved.augment_render,
               " run; resume it with", saved.augment_render == "single-resample" ? "" : "out", " --single-resample");
  const ScheduleDifference differ = schedule_difference(saved.schedule, job.run.schedule);
  NEBULA_CHECK(differ.option.empty(), path, ": was written by a run with ", differ.option, " ", differ.saved, ", not ",
               differ.now, "; resume with the same options, or start afresh without --resume");
  const int next = saved.epoch + (saved.interrupted.batches ? 1 : 0);
  NEBULA_CHECK(next <= job.c.epochs, path, ": the run is at epoch ", next, ", beyond --epochs ", job.c.epochs,
               "; give --epochs of at least ", next, " to continue it");
  load_checkpoint(file, *job.model.network, job.optimizer.get());
  // A run stopped inside its first epoch has written no history yet.
  if (saved.epoch > 0) job.history = parse_history_csv(read_text_file(job.dir->history()), job.dir->history());
  NEBULA_CHECK(job.history.size() >= size_t(saved.epoch), job.dir->history(), ": holds ", job.history.size(),
               " epochs, but ", path, " is after epoch ", saved.epoch);
  job.history.resize(size_t(saved.epoch));
  job.run.epoch = saved.epoch;
  job.run.best_val_rmse = saved.best_val_rmse;
  job.run.best_epoch = saved.best_epoch;
  job.run.interrupted = saved.interrupted;
  std::fprintf(stderr, "resuming %s after epoch %d%s (best validation RMSE %.5f)\n", path.c_str(), saved.epoch,
               saved.interrupted.batches
                   ? (" and " + std::to_string(saved.interrupted.batches) + " batches of the next").c_str()
                   : "",
               saved.best_val_rmse);
}

// The learning rate of the run's `step`th step (0-based), for every group: a
// function of the step alone, so a resumed run goes on with the same rates.
void set_learning_rate(Job& job, int64_t step) {
  const double factor = lr_factor(job.schedule, step);
  job.optimizer->set_lr(static_cast<float>(double(job.c.lr) * factor));
  if (job.c.backbone_lr > 0) job.optimizer->set_group_lr(0, static_cast<float>(double(job.c.backbone_lr) * factor));
}

// An epoch's steps, from where an interrupted run stopped when resuming it.
struct EpochTraining {
  LossTracker losses;
  RmseMeter meter;
  double seconds = 0;
  bool finite = true;
  bool stopped = false;   // by a signal, before the epoch's last batch
  size_t next_batch = 0;  // the loader's position: where a resumed epoch goes on
};

void train_epoch(Job& job, GraphedTrainingStep& graphed, int epoch, EpochTraining* t) {
  Sequential& net = *job.model.network;
  net.train();
  // A frozen backbone keeps its batch-norm statistics too.
  if (job.c.freeze_backbone)
    for (int i = 0; i < job.model.spec.head_layer; ++i) net.at(i).eval();
  const InterruptedEpoch& from = job.run.interrupted;
  t->losses = LossTracker({from.loss_sum, from.images, from.batches});
  if (from.batches) t->meter.restore(from.squared_errors, from.samples);
  t->next_batch = from.batches;
  job.train_loader->start_epoch(epoch, from.batches);
  ProgressBar bar("epoch " + std::to_string(epoch) + "/" + std::to_string(job.c.epochs),
                  job.train_loader->batches_per_epoch());
  data::Batch batch;
  while (t->finite && !t->stopped && job.train_loader->next(&batch)) {
    t->next_batch = batch.index + 1;
    if (batch.size() == 0) continue;  // every image broken (each named): counted as done
    set_learning_rate(job, int64_t(epoch - 1) * job.schedule.steps_per_epoch + int64_t(batch.index));
    StepResult step = job.c.cuda_graph ? graphed.run(batch.images, batch.labels)
                                       : training_step(net, *job.optimizer, batch.images, batch.labels);
    t->meter.add(step.prediction, batch.labels);
    t->finite = t->losses.add({step.loss, batch.index, batch.size()});
    if (!job.c.quiet) bar.update(t->losses.batches(), t->losses.images(), t->losses.mean());
    if (job.c.after_step) job.c.after_step(epoch, batch.index);
    t->stopped = job.stop.requested() && batch.index + 1 < job.train_loader->batches_per_epoch();
  }
  t->finite = t->finite && t->losses.finish();
  if (!job.c.quiet && t->finite && !t->stopped) bar.finish();
  t->seconds = from.seconds + bar.seconds();
  job.run.interrupted = {};
}

void report_nan(const Job& job, int epoch, const EpochTraining& t) {
  clear_tape();
  std::fprintf(stderr, "\nthe loss became %s at epoch %d, batch %zu: stopping; the last good checkpoint is %s\n",
               std::isnan(t.losses.bad_value()) ? "NaN" : "infinite", epoch, t.losses.bad().batch_index + 1,
               epoch > 1 ? job.dir->last_checkpoint().c_str() : "(none: this was the first epoch)");
}

const char* stop_signal_name(const StopRequest& stop) { return stop.signal_number() == SIGTERM ? "SIGTERM" : "SIGINT"; }

// Saves where a stopped epoch stands, so --resume continues with its next batch.
void save_stopped_epoch(Job& job, int epoch, const EpochTraining& t) {
  LossTracker::Totals totals = t.losses.totals();
  job.run.interrupted = {t.next_batch,      totals.loss_sum, totals.images, t.meter.column_squared_errors(),
                         t.meter.samples(), t.seconds};
  save_checkpoint(job.dir->last_checkpoint(), *job.model.network, job.optimizer.get(), to_checkpoint_metadata(job.run));
  std::fprintf(stderr,
               "\nstopped by %s after batch %zu of epoch %d; saved %s: run the same command with --resume "
               "to continue\n",
               stop_signal_name(job.stop), t.next_batch, epoch, job.dir->last_checkpoint().c_str());
}

// Validation, the history and curves, and the checkpoints (best when it improved, then last).
// Returns the validation RMSE.
double end_epoch(Job& job, int epoch, const EpochTraining& t) {
  Sequential& net = *job.model.network;
  Evaluation val = evaluate(net, *job.val_loader, epoch);
  size_t images = t.losses.images();
  EpochRecord record{
      epoch, t.losses.mean(), t.meter.rmse(), val.loss, val.rmse, t.seconds, t.seconds > 0 ? images / t.seconds : 0};
  job.history.push_back(record);
  std::printf("epoch %d/%d  train loss %.5f  RMSE %.5f  |  validation loss %.5f  RMSE %.5f  |  %.1fs, %.0f img/s\n",
              epoch, job.c.epochs, record.train_loss, record.train_rmse, record.val_loss, record.val_rmse, t.seconds,
              record.images_per_second);
  std::fflush(stdout);
  job.run.epoch = epoch;
  if (val.rmse < job.run.best_val_rmse) {
    job.run.best_val_rmse = val.rmse;
    job.run.best_epoch = epoch;
    save_checkpoint(job.dir->best_checkpoint(), net, nullptr, to_checkpoint_metadata(job.run));
  }
  // History first, then the checkpoint: a run killed between the two resumes
  // from the older checkpoint and trims the history back to it.
  write_file_atomic(job.dir->history(), history_csv(job.history));
  write_file_atomic(job.dir->file("curves.svg"), curves_svg(job.history, job.c.model));
  save_checkpoint(job.dir->last_checkpoint(), net, job.optimizer.get(), to_checkpoint_metadata(job.run));
  return val.rmse;
}

// --patience: whether validation RMSE has gone that many epochs without improving.
// Checked before each epoch, so a resumed run that had stopped stops again.
bool patience_ran_out(const Job& job) {
  if (job.c.patience == 0 || job.run.epoch - job.run.best_epoch < job.c.patience) return false;
  const int waited = job.run.epoch - job.run.best_epoch;
  std::fprintf(stderr, "validation RMSE has not improved for %d epoch%s (best %.5f after epoch %d): stopping early\n",
               waited, waited == 1 ? "" : "s", job.run.best_val_rmse, job.run.best_epoch);
  return true;
}

// Every training option, in summary.json as in the checkpoint's metadata.
nlohmann::ordered_json training_options(const Job& job) {
  const TrainingSchedule& s = job.run.schedule;
  auto number = [](float value) { return std::stod(float_text(value)); };  // 0.001, not 0.0010000000474974513
  nlohmann::ordered_json options = {{"optimizer", s.optimizer},
                                    {"lr", number(s.lr)},
                                    {"weight_decay", number(s.weight_decay)},
                                    {"momentum", number(s.momentum)},
                                    {"nesterov", s.nesterov},
                                    {"lr_schedule", s.lr_schedule},
                                    {"warmup_epochs", s.warmup_epochs},
                                    {"lr_step_epochs", s.lr_step_epochs},
                                    {"lr_gamma", number(s.lr_gamma)},
                                    {"patience", s.patience},
                                    {"epochs", job.c.epochs},  // asked for; the summary's "epochs" ran
                                    {"batch", s.batch},
                                    {"init", job.model.spec.init},
                                    {"precision", s.precision}};
  if (s.backbone_lr > 0) options["backbone_lr"] = number(s.backbone_lr);
  return options;
}

// The test set is scored once, with the weights that did best on validation.
void score_test(Job& job, nlohmann::ordered_json* summary, TrainResult* result) {
  const data::Split& split = job.data.split;
  if (split.test.empty() || !is_file(job.dir->best_checkpoint())) return;
  load_checkpoint(job.dir->best_checkpoint(), *job.model.network, nullptr);
  data::Loader test_loader(job.data.dataset, split.test, job.loader_options);
  Evaluation test = evaluate(*job.model.network, test_loader, 0);
  result->test_rmse = test.rmse;
  result->mean_predictor_test_rmse = mean_predictor_rmse(job.data.dataset, split.train, split.test);
  std::printf("test RMSE %.5f (best validation RMSE %.5f; predicting the training mean gives %.5f)\n", test.rmse,
              result->best_val_rmse, result->mean_predictor_test_rmse);
  nlohmann::ordered_json per_question = nlohmann::ordered_json::object();
  std::printf("test RMSE per question:");
  for (const auto& [question, rmse] : question_rmse(test.meter, job.data.dataset.columns)) {
    std::printf(" %s %.4f", question.c_str(), rmse);
    per_question[question] = rmse;
  }
  std::printf("\n");
  (*summary)["test_rmse"] = test.rmse;
  (*summary)["mean_predictor_test_rmse"] = result->mean_predictor_test_rmse;
  (*summary)["test_rmse_per_question"] = per_question;
}

void write_summary(Job& job, TrainResult* result) {
  const data::Split& split = job.data.split;
  nlohmann::ordered_json summary = {{"model", job.c.model},
                                    {"epochs", result->epochs_run},
                                    {"stopped_early", result->stopped_early},
                                    {"best_epoch", result->best_epoch},
                                    {"val_rmse", result->val_rmse},
                                    {"best_val_rmse", result->best_val_rmse},
                                    {"images_per_second", result->images_per_second},
                                    {"seconds", result->seconds},
                                    {"train_images", split.train.size()},
                                    {"validation_images", split.validation.size()},
                                    {"test_images", split.test.size()},
                                    {"device", device_name(job.device)},
                                    {"training", training_options(job)}};
  score_test(job, &summary, result);
  size_t broken = job.train_loader->skipped() + job.val_loader->skipped();
  summary["broken_images_skipped"] = broken;
  if (broken) std::fprintf(stderr, "%zu broken images were skipped (named above)\n", broken);
  write_file_atomic(job.dir->file("summary.json"), summary.dump(2) + "\n");
}

}  // namespace

TrainResult train(const TrainConfig& c) {
  std::unique_ptr<Job> job = set_up(c);
  if (c.resume) resume(*job);
  const Model& model = job->model;
  const data::Split& split = job->data.split;
  std::fprintf(stderr, "%s: %lld parameters; %zu train / %zu validation / %zu test images of %zu; input %dx%d%s\n",
               c.model.c_str(), static_cast<long long>(model.network->parameter_count()), split.train.size(),
               split.validation.size(), split.test.size(), job->data.dataset.rows(), model.spec.height,
               model.spec.width, model.spec.crop ? (", centre crop " + std::to_string(model.spec.crop)).c_str() : "");

  GraphedTrainingStep graphed_step(*model.network, *job->optimizer);
  TrainResult result;
  result.epochs_run = job->run.epoch;
  if (!job->history.empty()) result.val_rmse = job->history.back().val_rmse;
  size_t images = 0;
  for (int epoch = job->run.epoch + 1; epoch <= c.epochs; ++epoch) {
    if (patience_ran_out(*job)) {
      result.stopped_early = true;
      break;
    }
    EpochTraining t;
    train_epoch(*job, graphed_step, epoch, &t);
    if (!t.finite) {
      report_nan(*job, epoch, t);
      result.stopped_on_nan = true;
      return result;
    }
    if (t.stopped) {
      save_stopped_epoch(*job, epoch, t);
      result.stopped_by_signal = true;
      return result;
    }
    result.val_rmse = end_epoch(*job, epoch, t);
    result.epochs_run = epoch;
    result.seconds += t.seconds;
    images += t.losses.images();
    if (job->stop.requested() && epoch < c.epochs) {
      std::fprintf(stderr,
                   "stopped by %s after epoch %d; %s is saved: run the same command with --resume to "
                   "continue\n",
                   stop_signal_name(job->stop), epoch, job->dir->last_checkpoint().c_str());
      result.stopped_by_signal = true;
      return result;
    }
  }
  result.best_val_rmse = job->run.best_val_rmse;
  result.best_epoch = job->run.best_epoch;
  result.images_per_second = result.seconds > 0 ? images / result.seconds : 0;
  write_summary(*job, &result);
  return result;
}

}  // namespace nebula
