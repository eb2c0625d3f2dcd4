#include "models/model_file.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <functional>
#include <set>
#include <sstream>

#include "base/error.h"
#include "base/file_io.h"
#include "data/galaxy_tree.h"
#include "engine/layers.h"
#include "engine/view_layers.h"
#include "models/kaiming_init.h"
#include "models/layer_plan.h"
#include "models/model_limits.h"

namespace nebula {

namespace {

// Line::fail's errors already name the line; any other error met while a line
// is read (from the plan's arithmetic) gets the line put in front of it.
struct LineError : Error {
  using Error::Error;
};

// One line of a model file, split into its keyword, positional arguments and
// options (words with '=' or bare flags like 'relu').
struct Line {
  std::string origin;
  int number = 0;
  std::string keyword;
  std::vector<std::string> words;
  const char* usage = "";  // the keyword's arguments, shown when one is missing

  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    throw LineError(detail::concat(origin, ":", number, ": ", keyword, ": ", args...));
  }

  void need(size_t i, const char* what) const {
    if (i >= words.size()) fail("missing ", what, " (", keyword, " ", usage, ")");
  }

  // Word i as a whole integer in [minimum, INT_MAX]: "3x", "+3", " 3" and "1e3" are errors.
  int integer(size_t i, const char* what, int minimum = 1) const {
    need(i, what);
    return parse_integer(words[i], what, minimum);
  }

  int parse_integer(const std::string& word, const char* what, int minimum) const {
    int64_t value = 0;
    auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
    bool whole = end == word.data() + word.size() && !word.empty();
    if (error == std::errc::result_out_of_range || (whole && error == std::errc() && value > INT_MAX))
      fail(what, " '", word, "' is too large (at most ", INT_MAX, ")");
    if (error != std::errc() || !whole || value < minimum)
      fail(what, " must be an integer of at least ", minimum, ", got '", word, "'");
    return static_cast<int>(value);
  }

  // Word i as a whole, finite decimal number.
  double real(size_t i, const char* what) const {
    need(i, what);
    const std::string& word = words[i];
    double value = 0.0;
    auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (error != std::errc() || end != word.data() + word.size()) fail(what, " must be a number, got '", word, "'");
    return value;
  }
};

// Options after the positional words: key=value pairs and flags. Each must be
// used; an unknown one is an error, so a typo never passes silently.
class Options {
 public:
  Options(const Line& line, size_t positional) : line_(line) {
    for (size_t i = positional; i < line.words.size(); ++i) words_.push_back(line.words[i]);
    used_.assign(words_.size(), false);
  }
  bool flag(const std::string& name) {
    for (size_t i = 0; i < words_.size(); ++i)
      if (words_[i] == name) return used_[i] = true;
    return false;
  }
  // key=VALUE as a whole integer of at least `minimum`, or the fallback when the key is absent.
  int integer(const std::string& key, int fallback, int minimum = 0) {
    int i = find(key);
    return i < 0 ? fallback : line_.parse_integer(value(key, i), key.c_str(), minimum);
  }
  std::string text(const std::string& key, const std::string& fallback) {
    int i = find(key);
    return i < 0 ? fallback : value(key, i);
  }
  void finish() const {
    for (size_t i = 0; i < words_.size(); ++i)
      if (!used_[i]) line_.fail("unknown option '", words_[i], "'");
  }

 private:
  // The index of the first key=VALUE word, marked used; -1 when there is none.
  int find(const std::string& key) {
    for (size_t i = 0; i < words_.size(); ++i)
      if (words_[i].rfind(key + "=", 0) == 0) {
        used_[i] = true;
        return static_cast<int>(i);
      }
    return -1;
  }
  std::string value(const std::string& key, int i) const { return words_[i].substr(key.size() + 1); }

  const Line& line_;
  std::vector<std::string> words_;
  std::vector<bool> used_;
};

std::vector<Line> split_lines(const std::string& text, const std::string& origin) {
  std::vector<Line> lines;
  std::istringstream in(text);
  std::string raw;
  for (int number = 1; std::getline(in, raw); ++number) {
    raw = raw.substr(0, raw.find('#'));
    std::istringstream words(raw);
    Line line{origin, number, "", {}};
    if (!(words >> line.keyword)) continue;
    for (std::string w; words >> w;) line.words.push_back(w);
    lines.push_back(std::move(line));
  }
  return lines;
}

// A layer's name (name=...) becomes its key prefix ("conv1" -> "conv1.weight"),
// so a model's keys can match torchvision's state_dict. Letters, digits, '_'.
std::string layer_name(const Line& line, Options& options, const std::set<std::string>& taken) {
  std::string name = options.text("name", "");
  if (name.empty()) return name;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      line.fail("name '", name, "' may hold only letters, digits and '_'");
  if (std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    line.fail("name '", name, "' must not be a bare number (unnamed layers are numbered)");
  if (taken.count(name)) line.fail("name '", name, "' is already used");
  return name;
}

// ---- Builders: what a checked line adds to the network.

// A builder adds a line's layers (named `name`) to the model; it runs only once
// every line of the file has been checked, so nothing is allocated for a bad file.
using Builder = std::function<void(Model& model, const std::string& name)>;

enum class Activation { None, Relu, Sigmoid };

void add_activation(Sequential& net, Activation activation) {
  if (activation == Activation::Relu) net.add(std::make_unique<ReLU>());
  if (activation == Activation::Sigmoid) net.add(std::make_unique<Sigmoid>());
}

// A builder adding one layer made by `make`.
template <typename Make>
Builder one_layer(Make make, Activation activation = Activation::None) {
  return [make, activation](Model& model, const std::string& name) {
    model.network->add(make(), name);
    add_activation(*model.network, activation);
  };
}

ModulePtr conv_nobias(int in, int out, int kernel, int stride, int pad) {
  Conv2dOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.kernel = kernel;
  o.stride = stride;
  o.pad = pad;
  o.bias = false;
  return std::make_unique<Conv2d>(o);
}

// torchvision's BasicBlock (3x3, 3x3) or Bottleneck (1x1, 3x3 carrying the
// stride as in v1.5, 1x1 to 4x the width), each followed by batch norm, with a
// 1x1 projection (conv + batch norm, "downsample.0/1") when the stride or the
// channel count changes, and the ReLU after the sum. models/layer_plan.cpp
// costs the same block from its shapes.
ModulePtr resnet_block(bool bottleneck, int in, int width, int stride) {
  auto body = std::make_unique<Sequential>();
  int out = bottleneck ? 4 * width : width;  // checked to fit by the plan
  if (bottleneck) {
    body->add(conv_nobias(in, width, 1, 1, 0), "conv1");
    body->add(std::make_unique<BatchNorm2d>(width), "bn1");
    body->add(std::make_unique<ReLU>());
    body->add(conv_nobias(width, width, 3, stride, 1), "conv2");
    body->add(std::make_unique<BatchNorm2d>(width), "bn2");
    body->add(std::make_unique<ReLU>());
    body->add(conv_nobias(width, out, 1, 1, 0), "conv3");
    body->add(std::make_unique<BatchNorm2d>(out), "bn3");
    body->set_description(detail::concat("Bottleneck(", in, " -> ", width, " -> ", out, ", stride ", stride, ")"));
  } else {
    body->add(conv_nobias(in, width, 3, stride, 1), "conv1");
    body->add(std::make_unique<BatchNorm2d>(width), "bn1");
    body->add(std::make_unique<ReLU>());
    body->add(conv_nobias(width, width, 3, 1, 1), "conv2");
    body->add(std::make_unique<BatchNorm2d>(width), "bn2");
    body->set_description(detail::concat("BasicBlock(", in, " -> ", out, ", stride ", stride, ")"));
  }
  ModulePtr shortcut;
  if (stride != 1 || in != out) {
    auto projection = std::make_unique<Sequential>();
    projection->add(conv_nobias(in, out, 1, stride, 0), "0");
    projection->add(std::make_unique<BatchNorm2d>(out), "1");
    projection->set_description(detail::concat("1x1 projection ", in, " -> ", out, ", stride ", stride));
    shortcut = std::move(projection);
  }
  return std::make_unique<Residual>(std::move(body), std::move(shortcut), "", "downsample", true);
}

ModulePtr resnet_stage(bool bottleneck, int in, int width, int blocks, int stride) {
  auto stage = std::make_unique<Sequential>();
  const int first_in = in;
  for (int b = 0; b < blocks; ++b) {
    stage->add(resnet_block(bottleneck, in, width, b == 0 ? stride : 1));
    in = bottleneck ? 4 * width : width;
  }
  stage->set_description(detail::concat(blocks, " x ", bottleneck ? "Bottleneck" : "BasicBlock", "(", first_in, " -> ",
                                        in, ", stride ", stride, ")"));
  return stage;
}

// ---- Readers: each checks one line's arguments and shapes against the plan
// and returns its builder.

// What the lines read so far ask for.
struct Plan {
  ModelSpec& spec;
  const ModelOutputs& outputs;  // label columns, for 'dense outputs' (and 'galaxytree')
  int height, width;            // > 0: override the input line's size
  LayerPlan layers;
  bool head_seen = false;
  int views_line = 0;  // the line of the views not yet merged; 0: none
  bool init_seen = false;
};

Activation read_activation(Options& options) {
  if (options.flag("relu")) return Activation::Relu;
  if (options.flag("sigmoid")) return Activation::Sigmoid;
  return Activation::None;
}

void plan_activation(Plan& plan, Activation activation) {
  if (activation != Activation::None) plan.layers.elementwise();
}

Builder read_input(const Line& line, Options&, Plan& plan) {
  if (plan.layers.started()) line.fail("only one input line is allowed");
  plan.spec.channels = line.integer(0, "channels");
  int height = line.integer(1, "height"), width = line.integer(2, "width");
  plan.spec.height = plan.height > 0 ? plan.height : height;
  plan.spec.width = plan.width > 0 ? plan.width : width;
  plan.layers.input(plan.spec.channels, plan.spec.height, plan.spec.width);
  return nullptr;
}

Builder read_crop(const Line& line, Options&, Plan& plan) {
  plan.spec.crop = line.integer(0, "crop size");
  return nullptr;
}

// The weights' initialisation; Keras's Glorot when the file has no init line.
Builder read_init(const Line& line, Options&, Plan& plan) {
  if (plan.init_seen) line.fail("only one init line is allowed");
  plan.init_seen = true;
  line.need(0, "initialisation (glorot or kaiming)");
  const std::string& init = line.words[0];
  if (init != "glorot" && init != "kaiming")
    line.fail("initialisation must be 'glorot' or 'kaiming', got '", init, "'");
  plan.spec.init = init;
  return nullptr;
}

Builder read_head(const Line& line, Options&, Plan& plan) {
  if (plan.head_seen) line.fail("only one head line is allowed");
  plan.head_seen = true;
  return [](Model& model, const std::string&) { model.spec.head_layer = static_cast<int>(model.network->size()); };
}

Builder read_conv(const Line& line, Options& options, Plan& plan) {
  Conv2dOptions o;
  o.out_channels = line.integer(0, "filters");
  o.kernel = line.integer(1, "kernel size");
  o.stride = options.integer("stride", 1, 1);
  o.pad = options.integer("pad", -1, 0);
  const bool same = options.flag("same"), valid = options.flag("valid");
  if (int(same) + int(valid) + int(o.pad >= 0) > 1) line.fail("give at most one of same, valid and pad=P");
  o.padding = same ? Padding::Same : Padding::Valid;
  o.bias = !options.flag("nobias");
  const Activation activation = read_activation(options);
  if (plan.layers.is_image()) o.in_channels = static_cast<int>(plan.layers.shape()[1]);
  plan.layers.conv(o.out_channels, o.kernel, o.stride, o.pad, same, o.bias);
  plan_activation(plan, activation);
  return one_layer([o] { return std::make_unique<Conv2d>(o); }, activation);
}

Builder read_maxpool(const Line& line, Options& options, Plan& plan) {
  const int kernel = line.integer(0, "kernel size");
  const int stride = options.integer("stride", kernel, 1);
  const int pad = options.integer("pad", 0, 0);
  plan.layers.maxpool(kernel, stride, pad);
  return one_layer([=] { return std::make_unique<MaxPool2d>(kernel, stride, pad); });
}

Builder read_batchnorm(const Line&, Options& options, Plan& plan) {
  const Activation activation = read_activation(options);
  plan.layers.batchnorm();
  plan_activation(plan, activation);
  const int channels = static_cast<int>(plan.layers.shape()[1]);
  return one_layer([channels] { return std::make_unique<BatchNorm2d>(channels); }, activation);
}

Builder read_stage(const Line& line, Options& options, Plan& plan) {
  line.need(0, "block type (basic or bottleneck)");
  const std::string& type = line.words[0];
  if (type != "basic" && type != "bottleneck")
    line.fail("block type must be 'basic' or 'bottleneck', got '", type, "'");
  const bool bottleneck = type == "bottleneck";
  const int width = line.integer(1, "channels");
  const int blocks = options.integer("blocks", 1, 1);
  const int stride = options.integer("stride", 1, 1);
  const int in = plan.layers.is_image() ? static_cast<int>(plan.layers.shape()[1]) : 0;
  plan.layers.resnet_stage(bottleneck, width, blocks, stride);
  return one_layer([=] { return resnet_stage(bottleneck, in, width, blocks, stride); });
}

// The decision-tree output's layout over the label columns (the 37 Kaggle
// columns when only their count, 37, is known).
GalaxyTreeLayout tree_layout_for(const Line& line, const ModelOutputs& outputs) {
  std::vector<std::string> columns = outputs.columns;
  if (columns.empty() && outputs.count == data::kNumClasses) columns = data::class_names();
  if (columns.empty()) line.fail("galaxytree needs the names of the ", outputs.count, " label columns");
  try {
    return data::tree_layout(columns, "galaxytree");
  } catch (const Error& e) {
    line.fail(e.what());
  }
}

Builder read_dense(const Line& line, Options& options, Plan& plan) {
  int units = 0;
  line.need(0, "units");
  const bool to_outputs = line.words[0] == "outputs";
  if (to_outputs) {
    if (plan.outputs.count <= 0) line.fail("'dense outputs' needs the number of label columns");
    units = plan.outputs.count;
  } else {
    units = line.integer(0, "units");
  }
  const bool bias = !options.flag("nobias");
  const bool tree = options.flag("galaxytree");
  const int pieces = options.integer("maxout", 1, 1);
  const Activation activation = read_activation(options);
  if (tree && (!to_outputs || activation != Activation::None))
    line.fail("galaxytree goes alone on the 'dense outputs' line (it is the model's output)");
  const int features = plan.layers.shape().size() == 2 ? static_cast<int>(plan.layers.shape()[1]) : 0;
  if (int64_t(units) * pieces > INT_MAX) line.fail(units, " units of ", pieces, " pieces do not fit in 32 bits");
  const int linear_units = units * pieces;
  plan.layers.dense(linear_units, bias);
  if (pieces > 1) plan.layers.maxout(pieces);
  plan_activation(plan, activation);
  GalaxyTreeLayout layout;
  if (tree) {
    layout = tree_layout_for(line, plan.outputs);
    plan.layers.elementwise();
  }
  return [=](Model& model, const std::string& name) {
    model.network->add(std::make_unique<Dense>(features, linear_units, bias), name);
    if (pieces > 1) model.network->add(std::make_unique<Maxout>(pieces));
    add_activation(*model.network, activation);
    if (tree) model.network->add(std::make_unique<GalaxyTree>(layout));
  };
}

// Views: square views of each image, stacked into the batch. Dieleman's 16
// default to his 45 of 69 pixels, scaled to the input.
Builder read_views(const Line& line, Options& options, Plan& plan) {
  line.need(0, "kind (rotations, dihedral or dieleman)");
  ViewKind kind = ViewKind::Dihedral;
  try {
    kind = parse_view_kind(line.words[0]);
  } catch (const Error&) {
    line.fail("kind must be rotations, dihedral or dieleman, got '", line.words[0], "'");
  }
  const Shape& in = plan.layers.shape();
  const int side = plan.layers.is_image() ? static_cast<int>(in[2]) : 0;
  const int fallback = kind == ViewKind::Dieleman ? static_cast<int>((int64_t(side) * 45 + 34) / 69) : side;
  const int size = options.integer("size", fallback, 1);
  plan.layers.views(view_count(kind), size);
  plan.views_line = line.number;
  return one_layer([=] { return std::make_unique<Views>(kind, side, size); });
}

Builder read_merge(const Line& line, Options&, Plan& plan) {
  line.need(0, "how (concat or mean)");
  const std::string& how = line.words[0];
  if (how != "concat" && how != "mean") line.fail("how must be 'concat' or 'mean', got '", how, "'");
  const int views = static_cast<int>(plan.layers.views_per_image());
  plan.layers.merge(how == "concat");
  plan.views_line = 0;
  const ViewMerge merge = how == "concat" ? ViewMerge::Concat : ViewMerge::Mean;
  return one_layer([=] { return std::make_unique<MergeViews>(views, merge); });
}

Builder read_maxout(const Line& line, Options&, Plan& plan) {
  const int pieces = line.integer(0, "pieces");
  plan.layers.maxout(pieces);
  return one_layer([pieces] { return std::make_unique<Maxout>(pieces); });
}

Builder read_dropout(const Line& line, Options&, Plan& plan) {
  const double rate = line.real(0, "rate");
  if (!(rate >= 0.0 && rate < 1.0)) line.fail("rate must be in [0, 1), got ", rate);
  plan.layers.elementwise();
  return one_layer([rate] { return std::make_unique<Dropout>(static_cast<float>(rate)); });
}

template <typename Layer>
Builder read_elementwise(const Line&, Options&, Plan& plan) {
  plan.layers.elementwise();
  return one_layer([] { return std::make_unique<Layer>(); });
}

Builder read_flatten(const Line&, Options&, Plan& plan) {
  plan.layers.flatten();
  return one_layer([] { return std::make_unique<Flatten>(); });
}

Builder read_gap(const Line&, Options&, Plan& plan) {
  plan.layers.global_avg_pool();
  return one_layer([] { return std::make_unique<GlobalAvgPool>(); });
}

// ---- The format: one entry per keyword.

struct Keyword {
  const char* name;
  const char* arguments;  // as the README writes them; shown when one is missing
  size_t positional;      // words before the options
  bool layer;             // adds layers, so takes name=NAME
  Builder (*read)(const Line&, Options&, Plan&);
};

const Keyword kKeywords[] = {
    {"input", "C H W", 3, false, read_input},
    {"crop", "N", 1, false, read_crop},
    {"conv", "FILTERS KERNEL [stride=S] [same|valid|pad=P] [nobias] [relu|sigmoid]", 2, true, read_conv},
    {"maxpool", "KERNEL [stride=S] [pad=P]", 1, true, read_maxpool},
    {"batchnorm", "[relu|sigmoid]", 0, true, read_batchnorm},
    {"stage", "basic|bottleneck CHANNELS [blocks=N] [stride=S]", 2, true, read_stage},
    {"dense", "UNITS|outputs [maxout=K] [nobias] [relu|sigmoid|galaxytree]", 1, true, read_dense},
    {"views", "rotations|dihedral|dieleman [size=S]", 1, true, read_views},
    {"merge", "concat|mean", 1, true, read_merge},
    {"maxout", "PIECES", 1, true, read_maxout},
    {"dropout", "RATE", 1, true, read_dropout},
    {"relu", "", 0, true, read_elementwise<ReLU>},
    {"sigmoid", "", 0, true, read_elementwise<Sigmoid>},
    {"flatten", "", 0, true, read_flatten},
    {"gap", "", 0, true, read_gap},
    {"head", "", 0, false, read_head},
    {"init", "glorot|kaiming", 1, false, read_init},
};

const Keyword& find_keyword(const Line& line) {
  for (const Keyword& k : kKeywords)
    if (line.keyword == k.name) return k;
  std::string known;
  for (const Keyword& k : kKeywords) known += std::string(" ") + k.name;
  line.fail("unknown layer (known:", known, ")");
}

// One checked line, waiting to be built.
struct Step {
  Line line;
  std::string name;
  Builder build;
  Shape shape;  // one sample's shape after the line, as the plan worked it out
};

// The totals so far against the limits, so the error names the line that crosses them.
void check_limits(const Line& line, const LayerPlan& layers, const ModelLimits& limits) {
  if (layers.parameters() > limits.parameters)
    line.fail("the model would have ", layers.parameters(), " parameters, over the limit of ", limits.parameters,
              " (set ", kMaxParametersVariable, " to raise it)");
  int64_t bytes = 0;
  if (!checked_mul(layers.activations(), int64_t{sizeof(float)}, &bytes) || bytes > limits.activation_bytes)
    line.fail("one sample's layer outputs would take ", layers.activations(), " floats, over the limit of ",
              limits.activation_bytes, " bytes a batch (set ", kMaxActivationBytesVariable, " to raise it)");
}

Step read_line(Line line, Plan& plan, std::set<std::string>& names, const ModelLimits& limits) {
  const Keyword& keyword = find_keyword(line);
  line.usage = keyword.arguments;
  Options options(line, std::min(keyword.positional, line.words.size()));
  Step step{line, "", nullptr, {}};
  try {
    if (keyword.layer) step.name = layer_name(line, options, names);
    step.build = keyword.read(line, options, plan);
    options.finish();
  } catch (const LineError&) {
    throw;
  } catch (const Error& e) {
    line.fail(e.what());
  }
  check_limits(line, plan.layers, limits);
  if (!step.name.empty()) names.insert(step.name);
  step.shape = plan.layers.shape();
  return step;
}

// Builds the checked steps, then confirms the layers agree with the plan: the
// same shape after every line (the layers' own checks name the line too) and
// the same parameter count.
void build(Model& model, const std::vector<Step>& steps, const LayerPlan& plan) {
  Sequential& net = *model.network;
  Shape shape = model.input_shape(1);
  for (const Step& step : steps) {
    if (!step.build) continue;
    const size_t before = net.size();
    try {
      step.build(model, step.name);
      for (size_t i = before; i < net.size(); ++i) shape = net.at(i).output_shape(shape);
    } catch (const Error& e) {
      step.line.fail(e.what());
    }
    if (shape != step.shape)
      step.line.fail("internal error: the layers give ", to_string(shape), ", the shape check gave ",
                     to_string(step.shape));
  }
  NEBULA_CHECK(net.parameter_count() == plan.parameters(), model.spec.name, ": internal error: the layers hold ",
               net.parameter_count(), " parameters, the shape check counted ", plan.parameters());
}

}  // namespace

Model parse_model(const std::string& text, const std::string& origin, const ModelOutputs& outputs, int height,
                  int width) {
  Model model;
  model.spec.name = origin;
  model.spec.source = text;
  const std::vector<Line> lines = split_lines(text, origin);
  NEBULA_CHECK(!lines.empty(), origin, ": the model file has no layers (it must start with 'input C H W')");
  NEBULA_CHECK(lines[0].keyword == "input", origin, ":", lines[0].number,
               ": a model file must start with 'input C H W', found '", lines[0].keyword, "'");

  // Every line is checked, and the model's size worked out, before any layer is built.
  const ModelLimits limits = model_limits();
  Plan plan{model.spec, outputs, height, width, LayerPlan{}};
  std::set<std::string> names;
  std::vector<Step> steps;
  for (const Line& line : lines) steps.push_back(read_line(line, plan, names, limits));
  NEBULA_CHECK(plan.views_line == 0, origin, ":", plan.views_line,
               ": views: the views are never merged (add 'merge concat' or 'merge mean' before the dense head)");
  model.spec.parameters = plan.layers.parameters();
  model.spec.activation_bytes_per_sample = plan.layers.activations() * int64_t{sizeof(float)};  // checked in read_line

  model.network = std::make_unique<Sequential>();
  build(model, steps, plan.layers);
  if (model.spec.init == "kaiming") kaiming_init(*model.network);
  const int layers = static_cast<int>(model.network->size());
  NEBULA_CHECK(layers > 0, origin, ": the model has no layers");
  NEBULA_CHECK(model.spec.head_layer < layers, origin, ": the head line has no layers after it");
  return model;
}

namespace {
std::vector<NamedParameter> parameters_of(Model& model, bool head) {
  std::vector<NamedParameter> out;
  Sequential& net = *model.network;
  size_t first_head = model.spec.head_layer < 0 ? net.size() : static_cast<size_t>(model.spec.head_layer);
  for (size_t i = 0; i < net.size(); ++i)
    if ((i >= first_head) == head) net.at(i).collect_parameters(net.name_at(i) + ".", out);
  return out;
}
}  // namespace

std::vector<NamedParameter> backbone_parameters(Model& model) { return parameters_of(model, false); }
std::vector<NamedParameter> head_parameters(Model& model) { return parameters_of(model, true); }

bool in_head(const Model& model, const std::string& key) {
  if (model.spec.head_layer < 0) return false;
  const Sequential& net = *model.network;
  for (size_t i = static_cast<size_t>(model.spec.head_layer); i < net.size(); ++i)
    if (key.rfind(net.name_at(i) + ".", 0) == 0) return true;
  return false;
}

Model load_model(const std::string& name_or_path, const ModelOutputs& outputs, int height, int width) {
  std::string text = builtin_model_text(name_or_path);
  if (!text.empty()) return parse_model(text, name_or_path, outputs, height, width);
  if (!is_file(name_or_path)) {
    std::string known;
    for (const std::string& n : builtin_model_names()) known += " " + n;
    throw Error(detail::concat("model '", name_or_path, "': no such built-in model (", known.substr(1),
                               ") and no file of that name"));
  }
  return parse_model(read_text_file(name_or_path), name_or_path, outputs, height, width);
}

}  // namespace nebula
