// Writes the seed corpus, one folder per harness, of valid files made by
// Nebula's own writers: make_seeds OUT_DIR -> OUT_DIR/{pth,safetensors,model,labels,image}.
// Nothing is downloaded; every seed is small, so each run of a harness is fast.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "base/error.h"
#include "data/galaxy_tree.h"
#include "data/image_io.h"
#include "data/labels.h"
#include "engine/safetensors.h"
#include "models/model_file.h"
#include "models/pth_reader.h"
#include "pth_archive.h"
#include "seeds.h"
#include "tests/data/jpeg_sampling.h"

namespace nebula::fuzz {

void write_seed(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
}

namespace {

std::string text(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

std::string read_back(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every seed must be one its reader accepts, or it seeds nothing but the refusals.
void expect_accepted(const std::string& kind, const std::string& path) {
  const std::string bytes = read_back(path);
  if (kind == "pth") {
    parse_pth(path.size() > 4 && path.substr(path.size() - 4) == ".pkl" ? pth_archive(bytes, seed_storages()) : bytes,
              path);
  } else if (kind == "safetensors") {
    parse_safetensors(bytes, path);
  } else if (kind == "model") {
    parse_model(bytes, path, 37);
  } else if (kind == "labels") {
    data::parse_labels(bytes, path);
  } else {
    data::ImageDecoder decoder;
    data::Image image;
    std::string error;
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    for (int scale : {1, 8})
      if (!decoder.decode(data, bytes.size(), scale, &image, &error)) throw Error(path + ": " + error);
  }
}

// One F32 file from the writer, with metadata as checkpoints have; one by
// hand with every other dtype the reader converts, and a scalar.
void write_safetensors_seeds(const std::string& dir) {
  write_safetensors(dir + "/f32.safetensors",
                    {{"conv.weight", Tensor::full({4, 2, 2, 2}, 0.5f)}, {"conv.bias", Tensor::full({4}, -1.0f)}},
                    {{"model", "cnn1"}, {"epoch", "3"}});
  const std::string header = R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
                             R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},)"
                             R"("c":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},)"
                             R"("d":{"dtype":"I64","shape":[],"data_offsets":[16,24]},)"
                             R"("e":{"dtype":"I32","shape":[1,1],"data_offsets":[24,28]},)"
                             R"("f":{"dtype":"U8","shape":[2],"data_offsets":[28,30]},)"
                             R"("g":{"dtype":"BOOL","shape":[2],"data_offsets":[30,32]},)"
                             R"("__metadata__":{"format":"pt"}})";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[i] = char(uint64_t(header.size()) >> (8 * i));
  file += header;
  const uint8_t data[32] = {0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x00, 0x40, 0,    0,    0,    0,    0, 0,   0xe0, 0x3f,
                            7,    0,    0,    0,    0,    0,    0,    0,    0xff, 0xff, 0xff, 0xff, 1, 255, 0,    1};
  file.append(reinterpret_cast<const char*>(data), sizeof data);
  write_seed(dir, "dtypes.safetensors", file);
}

// The built-in models, and each with an eighth of the widths: the same lines,
// but a ResNet that builds in milliseconds rather than a second (fuzz_model
// holds the parameters to a few million, so the full ResNets stop at the limit).
void write_model_seeds(const std::string& dir) {
  const std::regex width(R"((conv|dense|stage basic|stage bottleneck) (\d+))");
  for (const std::string& name : builtin_model_names()) {
    const std::string model = builtin_model_text(name);
    write_seed(dir, name + ".model", model);
    std::string narrow;
    auto last = model.cbegin();
    for (std::sregex_iterator m(model.begin(), model.end(), width), end; m != end; ++m) {
      narrow.append(last, (*m)[0].first);
      narrow += (*m)[1].str() + " " + std::to_string(std::max(1, std::stoi((*m)[2].str()) / 8));
      last = (*m)[0].second;
    }
    narrow.append(last, model.cend());
    write_seed(dir, name + "-narrow.model", narrow);
  }
}

// A file with the first question's columns and one with all 37.
void write_label_seeds(const std::string& dir) {
  write_seed(dir, "question1.csv",
             "GalaxyID,Class1.1,Class1.2,Class1.3\n100008,0.383147,0.616853,0\n100023,0.327,0.663,0.01\n");
  const std::vector<std::string>& columns = data::class_names();
  std::vector<float> values(2 * columns.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i % 7) / 7.0f;
  data::write_labels(dir + "/all.csv", columns, {100134, 100380}, values);
}

// JPEGs the way the data sets hold them (4:2:0), and 4:4:4, progressive, gray,
// CMYK and 1x4-sampled ones; PNGs in gray, RGB and RGBA. Small, so the decodes are fast.
void write_image_seeds(const std::string& dir) {
  const int w = 40, h = 24;
  std::vector<uint8_t> pixels(size_t(w) * h * 4);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = uint8_t((i * 7) ^ (i / 97));
  struct Jpeg {
    const char* name;
    int channels;
    data::JpegOptions options;
  };
  const Jpeg jpegs[] = {{"rgb420.jpg", 3, {90, true, false}},
                        {"rgb444.jpg", 3, {75, false, false}},
                        {"progressive.jpg", 3, {90, true, true}},
                        {"gray.jpg", 1, {90, true, false}},
                        {"cmyk.jpg", 4, {90, false, false}}};
  for (const Jpeg& j : jpegs)
    write_seed(dir, j.name, text(data::encode_jpeg(pixels.data(), w, h, j.channels, j.options)));
  write_seed(dir, "luma1x4.jpg", text(test::jpeg_with_luma_sampling(pixels.data(), w, h, 1, 4)));
  for (int channels : {1, 3, 4})
    write_seed(dir, "c" + std::to_string(channels) + ".png", text(data::encode_png(pixels.data(), w, h, channels)));
}

}  // namespace
}  // namespace nebula::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  using namespace nebula::fuzz;
  const std::string out = argv[1];
  const std::pair<const char*, void (*)(const std::string&)> kinds[] = {{"pth", write_pth_seeds},
                                                                        {"safetensors", write_safetensors_seeds},
                                                                        {"model", write_model_seeds},
                                                                        {"labels", write_label_seeds},
                                                                        {"image", write_image_seeds}};
  for (const auto& [kind, write] : kinds) {
    const std::string dir = out + "/" + kind;
    std::filesystem::create_directories(dir);
    write(dir);
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      try {
        expect_accepted(kind, entry.path().string());
      } catch (const nebula::Error& e) {
        std::fprintf(stderr, "make_seeds: a seed its reader refuses: %s\n", e.what());
        return 1;
      }
    }
  }
  return 0;
}
