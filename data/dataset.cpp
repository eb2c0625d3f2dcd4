#include "data/dataset.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <unordered_map>

#include "base/error.h"
#include "base/file_io.h"

namespace nebula::data {

namespace {

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

// Maps GalaxyID -> file name for every <digits>.jpg/.jpeg/.png in the folder
// (a .jpg wins over a .png of the same ID).
std::unordered_map<int64_t, std::string> list_images(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  NEBULA_CHECK(handle != nullptr, "cannot read image folder ", dir, ": ", std::strerror(errno));
  std::unordered_map<int64_t, std::string> files;
  while (dirent* entry = ::readdir(handle)) {
    std::string name = entry->d_name;
    size_t dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0) continue;
    std::string ext = name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    bool jpeg = ext == "jpg" || ext == "jpeg";
    if (!jpeg && ext != "png") continue;
    int64_t id = 0;
    auto [end, err] = std::from_chars(name.data(), name.data() + dot, id);
    if (err != std::errc() || end != name.data() + dot || id <= 0) continue;
    auto it = files.find(id);
    if (it == files.end() || jpeg) files[id] = name;
  }
  ::closedir(handle);
  return files;
}

}  // namespace

Dataset open_dataset(const std::string& images_dir, const std::string& labels_path) {
  NEBULA_CHECK(is_directory(images_dir), images_dir, ": image folder not found");
  NEBULA_CHECK(is_file(labels_path), labels_path, ": label file not found");
  LabelTable table = read_labels(labels_path);
  Dataset data;
  data.images_dir = images_dir;
  data.labels_path = labels_path;
  data.columns = table.columns;
  data.class_indices = table.class_indices;
  data.ids = table.ids;
  data.tree = check_label_tree(table);
  data.labels = std::move(table.values);

  auto images = list_images(images_dir);
  data.files.reserve(data.ids.size());
  size_t found = 0;
  for (int64_t id : data.ids) {
    auto it = images.find(id);
    if (it == images.end()) {
      ++data.missing_images;
      data.files.push_back(join(images_dir, std::to_string(id) + ".jpg"));
    } else {
      ++found;
      data.files.push_back(join(images_dir, it->second));
    }
  }
  data.unlabelled_images = images.size() - found;
  return data;
}

Dataset open_kaggle(const std::string& dir) {
  NEBULA_CHECK(is_directory(dir), dir, ": data folder not found");
  std::string labels = join(dir, "training_solutions_rev1.csv");
  std::string images = join(dir, "images_training_rev1");
  if (!is_directory(images) && is_directory(join(dir, "images_training"))) images = join(dir, "images_training");
  NEBULA_CHECK(is_directory(images), dir,
               ": no images_training_rev1/ (or images_training/) folder; use --images and --labels for "
               "another layout");
  NEBULA_CHECK(is_file(labels), labels, ": label file not found (the Kaggle layout needs it beside the images)");
  return open_dataset(images, labels);
}

Dataset open_images(const std::string& images_dir) {
  NEBULA_CHECK(is_directory(images_dir), images_dir, ": image folder not found");
  auto images = list_images(images_dir);
  Dataset data;
  data.images_dir = images_dir;
  for (const auto& entry : images) data.ids.push_back(entry.first);
  std::sort(data.ids.begin(), data.ids.end());
  for (int64_t id : data.ids) data.files.push_back(join(images_dir, images[id]));
  return data;
}

std::string describe(const BrokenImage& broken) {
  return "GalaxyID " + std::to_string(broken.id) + " (" + broken.path + "): " + broken.reason;
}

bool load_image(const std::string& path, const Preprocess& pre, int scale, ImageDecoder& decoder,
                std::vector<uint8_t>& buffer, Image* out, std::string* error) {
  if (!read_file(path, &buffer, error)) return false;
  return decode_for(buffer.data(), buffer.size(), pre, scale, decoder, out, error);
}

bool decode_for(const uint8_t* data, size_t size, const Preprocess& pre, int scale, ImageDecoder& decoder, Image* out,
                std::string* error) {
  ImageHeader header;
  if (!decoder.read_header(data, size, &header, error)) return false;
  if (scale <= 0) scale = decode_scale_for(header.width, header.height, pre);
  // With a crop, only its window is decoded.
  Region region = crop_region(header.width, header.height, pre.crop);
  if (region.width < header.width || region.height < header.height) {
    Window window = decode_window_for(header.width, header.height, pre, scale);
    return decoder.decode(data, size, scale, out, error, &window);
  }
  return decoder.decode(data, size, scale, out, error);
}

}  // namespace nebula::data
