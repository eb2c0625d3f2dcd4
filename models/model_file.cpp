#include "models/model_file.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "base/error.h"
#include "base/file_io.h"
#include "engine/layers.h"

namespace nebula {

namespace {

// One line of a model file, split into its keyword, positional arguments and
// options (words with '=' or bare flags like 'relu').
struct Line {
  std::string origin;
  int number = 0;
  std::string keyword;
  std::vector<std::string> words;

  template <typename... Args>
  [[noreturn]] void fail(const Args&... args) const {
    throw Error(detail::concat(origin, ":", number, ": ", keyword, ": ", args...));
  }

  int integer(size_t i, const char* what, int minimum = 1) const {
    if (i >= words.size()) fail("missing ", what);
    try {
      size_t used = 0;
      int value = std::stoi(words[i], &used);
      if (used != words[i].size() || value < minimum) throw std::invalid_argument("");
      return value;
    } catch (const std::exception&) {
      fail(what, " must be an integer of at least ", minimum, ", got '", words[i], "'");
    }
  }

  float real(size_t i, const char* what) const {
    if (i >= words.size()) fail("missing ", what);
    try {
      size_t used = 0;
      float value = std::stof(words[i], &used);
      if (used != words[i].size()) throw std::invalid_argument("");
      return value;
    } catch (const std::exception&) {
      fail(what, " must be a number, got '", words[i], "'");
    }
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
  // key=VALUE as an integer of at least 0, or the fallback when the key is absent.
  int integer(const std::string& key, int fallback) {
    int i = find(key);
    if (i < 0) return fallback;
    Line parsed = line_;
    parsed.words = {value(key, i)};
    return parsed.integer(0, key.c_str(), 0);
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

void add_activation(Sequential& net, Options& options) {
  if (options.flag("relu")) net.add(std::make_unique<ReLU>());
  else if (options.flag("sigmoid")) net.add(std::make_unique<Sigmoid>());
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
// channel count changes, and the ReLU after the sum.
ModulePtr resnet_block(bool bottleneck, int in, int width, int stride) {
  auto body = std::make_unique<Sequential>();
  int out = bottleneck ? 4 * width : width;
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

}  // namespace

Model parse_model(const std::string& text, const std::string& origin, int outputs, int height, int width) {
  Model model;
  model.spec.name = origin;
  model.spec.source = text;
  model.network = std::make_unique<Sequential>();
  Sequential& net = *model.network;
  std::vector<Line> lines = split_lines(text, origin);
  NEBULA_CHECK(!lines.empty() && lines[0].keyword == "input", origin,
               ": a model file must start with 'input C H W'");

  Shape shape;
  std::set<std::string> names;
  for (const Line& line : lines) {
    const std::string& k = line.keyword;
    size_t layers_before = net.size();
    // Positional words per keyword; the rest are options, each of which must be used.
    size_t positional = 0;
    if (k == "input") positional = 3;
    else if (k == "crop" || k == "maxpool" || k == "dense" || k == "dropout") positional = 1;
    else if (k == "conv" || k == "stage") positional = 2;
    positional = std::min(positional, line.words.size());
    Options options(line, positional);
    std::string name;
    if (k != "input" && k != "crop" && k != "head") name = layer_name(line, options, names);

    if (k == "input") {
      if (!shape.empty()) line.fail("only one input line is allowed");
      model.spec.channels = line.integer(0, "channels");
      model.spec.height = height > 0 ? height : line.integer(1, "height");
      model.spec.width = width > 0 ? width : line.integer(2, "width");
      shape = model.input_shape(1);
    } else if (k == "crop") {
      model.spec.crop = line.integer(0, "crop size");
    } else if (k == "head") {
      if (model.spec.head_layer >= 0) line.fail("only one head line is allowed");
      model.spec.head_layer = static_cast<int>(net.size());
    } else if (k == "conv") {
      Conv2dOptions o;
      o.in_channels = static_cast<int>(shape[1]);
      o.out_channels = line.integer(0, "filters");
      o.kernel = line.integer(1, "kernel size");
      o.stride = options.integer("stride", 1);
      o.pad = options.integer("pad", -1);
      if (options.flag("same")) o.padding = Padding::Same;
      options.flag("valid");
      o.bias = !options.flag("nobias");
      net.add(std::make_unique<Conv2d>(o), name);
      add_activation(net, options);
    } else if (k == "maxpool") {
      int kernel = line.integer(0, "kernel size");
      int stride = options.integer("stride", kernel);
      int pad = options.integer("pad", 0);
      net.add(std::make_unique<MaxPool2d>(kernel, stride, pad), name);
    } else if (k == "batchnorm") {
      if (shape.size() != 4) line.fail("needs an image input [N, C, H, W], got ", to_string(shape));
      net.add(std::make_unique<BatchNorm2d>(static_cast<int>(shape[1])), name);
      add_activation(net, options);
    } else if (k == "stage") {
      if (line.words.empty()) line.fail("missing block type (basic or bottleneck)");
      const std::string& type = line.words[0];
      if (type != "basic" && type != "bottleneck")
        line.fail("block type must be 'basic' or 'bottleneck', got '", type, "'");
      bool bottleneck = type == "bottleneck";
      int channels = line.integer(1, "channels");
      int blocks = options.integer("blocks", 1);
      int stride = options.integer("stride", 1);
      if (blocks < 1) line.fail("blocks must be at least 1");
      if (stride < 1) line.fail("stride must be at least 1");
      if (shape.size() != 4) line.fail("needs an image input [N, C, H, W], got ", to_string(shape));
      auto stage = std::make_unique<Sequential>();
      int in = static_cast<int>(shape[1]);
      for (int b = 0; b < blocks; ++b) {
        stage->add(resnet_block(bottleneck, in, channels, b == 0 ? stride : 1));
        in = bottleneck ? 4 * channels : channels;
      }
      stage->set_description(detail::concat(blocks, " x ", bottleneck ? "Bottleneck" : "BasicBlock", "(", shape[1],
                                            " -> ", in, ", stride ", stride, ")"));
      net.add(std::move(stage), name);
    } else if (k == "dense") {
      int units = 0;
      if (!line.words.empty() && line.words[0] == "outputs") {
        NEBULA_CHECK(outputs > 0, origin, ":", line.number, ": 'dense outputs' needs the number of label columns");
        units = outputs;
      } else {
        units = line.integer(0, "units");
      }
      if (shape.size() != 2) line.fail("needs a flat input [N, features], got ", to_string(shape), " (add 'flatten' or 'gap')");
      net.add(std::make_unique<Dense>(static_cast<int>(shape[1]), units, !options.flag("nobias")), name);
      add_activation(net, options);
    } else if (k == "dropout") {
      float rate = line.real(0, "rate");
      if (!(rate >= 0.0f && rate < 1.0f)) line.fail("rate must be in [0, 1), got ", rate);
      net.add(std::make_unique<Dropout>(rate), name);
    } else if (k == "relu") {
      net.add(std::make_unique<ReLU>(), name);
    } else if (k == "sigmoid") {
      net.add(std::make_unique<Sigmoid>(), name);
    } else if (k == "flatten") {
      net.add(std::make_unique<Flatten>(), name);
    } else if (k == "gap") {
      net.add(std::make_unique<GlobalAvgPool>(), name);
    } else {
      line.fail("unknown layer (known: input crop conv maxpool batchnorm stage dense dropout relu sigmoid flatten gap "
                "head)");
    }
    if (shape.empty()) line.fail("the input line must come first");
    options.finish();
    if (!name.empty()) names.insert(name);
    // Infer the shapes after this line's layers now, so an error names the line.
    try {
      for (size_t i = layers_before; i < net.size(); ++i) shape = net.at(i).output_shape(shape);
    } catch (const Error& e) {
      line.fail(e.what());
    }
  }
  NEBULA_CHECK(net.size() > 0, origin, ": the model has no layers");
  NEBULA_CHECK(model.spec.head_layer < static_cast<int>(net.size()), origin, ": the head line has no layers after it");
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

Model load_model(const std::string& name_or_path, int outputs, int height, int width) {
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
