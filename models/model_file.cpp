#include "models/model_file.h"

#include <fstream>
#include <sstream>

#include "engine/error.h"
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
  int integer(const std::string& key, int fallback) {
    for (size_t i = 0; i < words_.size(); ++i)
      if (words_[i].rfind(key + "=", 0) == 0) {
        used_[i] = true;
        Line value = line_;
        value.words = {words_[i].substr(key.size() + 1)};
        return value.integer(0, key.c_str(), 0);
      }
    return fallback;
  }
  void finish() const {
    for (size_t i = 0; i < words_.size(); ++i)
      if (!used_[i]) line_.fail("unknown option '", words_[i], "'");
  }

 private:
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
  for (const Line& line : lines) {
    const std::string& k = line.keyword;
    size_t positional = 0;
    size_t layers_before = net.size();
    if (k == "input") {
      if (!shape.empty()) line.fail("only one input line is allowed");
      model.spec.channels = line.integer(0, "channels");
      model.spec.height = height > 0 ? height : line.integer(1, "height");
      model.spec.width = width > 0 ? width : line.integer(2, "width");
      shape = model.input_shape(1);
      positional = 3;
    } else if (k == "crop") {
      model.spec.crop = line.integer(0, "crop size");
      positional = 1;
    } else if (k == "conv") {
      Conv2dOptions o;
      o.in_channels = static_cast<int>(shape[1]);
      o.out_channels = line.integer(0, "filters");
      o.kernel = line.integer(1, "kernel size");
      positional = 2;
      Options options(line, positional);
      o.stride = options.integer("stride", 1);
      o.pad = options.integer("pad", -1);
      if (options.flag("same")) o.padding = Padding::Same;
      options.flag("valid");
      o.bias = !options.flag("nobias");
      net.add(std::make_unique<Conv2d>(o));
      add_activation(net, options);
      options.finish();
      positional = line.words.size();
    } else if (k == "maxpool") {
      int kernel = line.integer(0, "kernel size");
      Options options(line, 1);
      int stride = options.integer("stride", kernel);
      int pad = options.integer("pad", 0);
      options.finish();
      net.add(std::make_unique<MaxPool2d>(kernel, stride, pad));
      positional = line.words.size();
    } else if (k == "batchnorm") {
      Options options(line, 0);
      net.add(std::make_unique<BatchNorm2d>(static_cast<int>(shape[1])));
      add_activation(net, options);
      options.finish();
      positional = line.words.size();
    } else if (k == "dense") {
      int units = 0;
      if (!line.words.empty() && line.words[0] == "outputs") {
        NEBULA_CHECK(outputs > 0, origin, ":", line.number, ": 'dense outputs' needs the number of label columns");
        units = outputs;
      } else {
        units = line.integer(0, "units");
      }
      if (shape.size() != 2) line.fail("needs a flat input [N, features], got ", to_string(shape), " (add 'flatten' or 'gap')");
      Options options(line, 1);
      net.add(std::make_unique<Dense>(static_cast<int>(shape[1]), units, !options.flag("nobias")));
      add_activation(net, options);
      options.finish();
      positional = line.words.size();
    } else if (k == "dropout") {
      float rate = line.real(0, "rate");
      if (!(rate >= 0.0f && rate < 1.0f)) line.fail("rate must be in [0, 1), got ", rate);
      net.add(std::make_unique<Dropout>(rate));
      positional = 1;
    } else if (k == "relu") {
      net.add(std::make_unique<ReLU>());
    } else if (k == "sigmoid") {
      net.add(std::make_unique<Sigmoid>());
    } else if (k == "flatten") {
      net.add(std::make_unique<Flatten>());
    } else if (k == "gap") {
      net.add(std::make_unique<GlobalAvgPool>());
    } else {
      line.fail("unknown layer (known: input crop conv maxpool batchnorm dense dropout relu sigmoid flatten gap)");
    }
    if (line.words.size() > positional) line.fail("unexpected '", line.words[positional], "'");
    // Infer the shapes after this line's layers now, so an error names the line.
    try {
      for (size_t i = layers_before; i < net.size(); ++i) shape = net.at(i).output_shape(shape);
    } catch (const Error& e) {
      line.fail(e.what());
    }
  }
  NEBULA_CHECK(net.size() > 0, origin, ": the model has no layers");
  return model;
}

Model load_model(const std::string& name_or_path, int outputs, int height, int width) {
  std::string text = builtin_model_text(name_or_path);
  if (!text.empty()) {
    Model model = parse_model(text, name_or_path, outputs, height, width);
    return model;
  }
  std::ifstream in(name_or_path);
  if (!in) {
    std::string known;
    for (const std::string& n : builtin_model_names()) known += " " + n;
    throw Error(detail::concat("model '", name_or_path, "': no such built-in model (", known.substr(1),
                               ") and no readable file of that name"));
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  return parse_model(contents.str(), name_or_path, outputs, height, width);
}

}  // namespace nebula
