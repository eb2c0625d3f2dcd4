// classify: runs a torchvision ResNet, its ImageNet weights imported from a
// .pth or .safetensors file, on images and prints each one's top-5 ImageNet
// classes: the user's proof that an import worked. CPU only for now.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/file_io.h"
#include "data/image_io.h"
#include "models/imagenet_classes.h"
#include "models/imagenet_preprocess.h"
#include "models/import_weights.h"
#include "models/model_file.h"
#include "train/device_choice.h"

namespace {

using namespace nebula;

struct Options {
  std::string model = "resnet18";
  std::string weights;
  std::string logits;
  std::vector<std::string> images;
  int top = 5;
  int batch = 8;
  std::string device = "auto", backend = "native", precision = "fp32";
};

// resnet18 -> the built-in resnet18-imagenet (the 1000-way head); anything
// else is a built-in or a model file taken as it is.
Model load_classifier(const std::string& name) {
  std::string imagenet = name + "-imagenet";
  if (!builtin_model_text(imagenet).empty()) return load_model(imagenet, 1000);
  return load_model(name, 1000);
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

struct Decoded {
  std::string path;
  data::Image image;
};

int run(const Options& o) {
  Model model = load_classifier(o.model);
  ImportReport report = import_weights(o.weights, model);
  if (!report.unexpected.empty())
    for (const std::string& note : report.notes()) std::fprintf(stderr, "classify: %s\n", note.c_str());
  model.network->eval();
  const Device device = choose_device(o.device, o.backend);
  choose_precision(o.precision, device);
  model.network->to(device);
  const int size = model.spec.height;
  if (model.spec.width != size || model.spec.channels != 3)
    throw Error(detail::concat(model.spec.name, ": classify needs a square RGB input, the model takes ",
                               model.spec.channels, "x", model.spec.height, "x", model.spec.width));
  const std::vector<std::string>& names = imagenet_classes();

  data::ImageDecoder decoder;
  std::ostringstream csv;
  int failures = 0;
  NoGradGuard no_grad;
  for (size_t start = 0; start < o.images.size(); start += o.batch) {
    std::vector<Decoded> batch;
    for (size_t i = start; i < std::min(o.images.size(), start + o.batch); ++i) {
      Decoded d{o.images[i], {}};
      std::vector<uint8_t> bytes;
      std::string error;
      if (!read_file(d.path, &bytes, &error) || !decoder.decode(bytes.data(), bytes.size(), 1, &d.image, &error)) {
        std::fprintf(stderr, "classify: %s: %s (skipped)\n", d.path.c_str(), error.c_str());
        ++failures;
        continue;
      }
      batch.push_back(std::move(d));
    }
    if (batch.empty()) continue;
    const int n = static_cast<int>(batch.size());
    Tensor input(model.input_shape(n));
    const size_t per_image = static_cast<size_t>(3) * size * size;
    for (int i = 0; i < n; ++i) imagenet_preprocess(batch[i].image, size, input.data() + i * per_image);
    std::vector<float> logits = (*model.network)(Variable(input.to(device))).value().to_vector();
    const size_t classes = logits.size() / n;

    for (int i = 0; i < n; ++i) {
      const float* row = logits.data() + i * classes;
      if (!o.logits.empty()) {
        csv << csv_field(batch[i].path);
        char number[32];
        for (size_t c = 0; c < classes; ++c) {
          std::snprintf(number, sizeof(number), ",%.9g", row[c]);
          csv << number;
        }
        csv << "\n";
      }
      // Softmax in double, shifted by the largest logit.
      double largest = *std::max_element(row, row + classes), total = 0.0;
      std::vector<double> p(classes);
      for (size_t c = 0; c < classes; ++c) total += p[c] = std::exp(double(row[c]) - largest);
      std::vector<size_t> order(classes);
      std::iota(order.begin(), order.end(), 0);
      size_t k = std::min<size_t>(o.top, classes);
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
      std::printf("%s\n", batch[i].path.c_str());
      for (size_t r = 0; r < k; ++r) {
        size_t c = order[r];
        std::string label = classes == names.size() ? names[c] : "class";
        std::printf("  %7.3f%%  %s [%zu]\n", 100.0 * p[c] / total, label.c_str(), c);
      }
    }
  }
  if (!o.logits.empty()) write_file_atomic(o.logits, csv.str());
  if (failures) std::fprintf(stderr, "classify: %d of %zu images could not be read\n", failures, o.images.size());
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Classify images with a torchvision ResNet and its ImageNet weights (top-5 classes per image).\n"
      "Preprocessing as torchvision's: an image already at the input size (224x224) is used as it is;\n"
      "any other is resized so its shorter side is 256 (Pillow's antialiased bilinear) and centre-cropped\n"
      "to 224x224; pixels are scaled to [0,1] and normalised with ImageNet's mean (0.485, 0.456, 0.406)\n"
      "and std (0.229, 0.224, 0.225)."};
  app.add_option("--model", o.model, "resnet18, resnet34, resnet50 (the ImageNet head), or a model file")
      ->capture_default_str();
  app.add_option("--weights", o.weights, "torchvision weights: .pth (torch.save of a state_dict) or .safetensors")
      ->required();
  app.add_option("--logits", o.logits, "also write a CSV: one line per image, its path then its logits");
  app.add_option("--top", o.top, "classes to print per image")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--batch", o.batch, "images per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--device", o.device, "cpu, cuda or auto (cuda where a GPU is present)")->capture_default_str();
  app.add_option("--backend", o.backend, "GPU kernels: native or cudnn")->capture_default_str();
  app.add_option("--precision", o.precision, "GEMM precision: fp32, tf32 or bf16")->capture_default_str();
  app.add_option("images", o.images, "JPEG or PNG images")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "classify: %s\n", e.what());
    return 1;
  }
}
