// check_data: validates a data set before a long run. Exit 0 when it is usable
// (broken images are listed; training would skip them), 1 when the label file
// is malformed or no image can be used.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "apps/data_args.h"
#include "data/check.h"

int main(int argc, char** argv) {
  CLI::App app{"Check a Galaxy Zoo data set: the label file, the decision-tree sums and every image."};
  nebula::apps::DataArgs args;
  args.add(app);
  int threads = 0;
  size_t list = 50;
  app.add_option("--threads", threads, "decoding threads (0: every core)")->check(CLI::NonNegativeNumber);
  app.add_option("--list", list, "name at most this many broken images");
  CLI11_PARSE(app, argc, argv);

  try {
    using namespace nebula::data;
    Dataset data = args.open();
    std::printf("labels: %s: %zu rows, %zu columns (%s ... %s)\n", data.labels_path.c_str(), data.rows(),
                data.num_columns(), data.columns.front().c_str(), data.columns.back().c_str());

    std::string checked;
    for (int q : data.tree.questions_checked) checked += (checked.empty() ? "Q" : ", Q") + std::to_string(q);
    std::vector<std::string> warnings = describe(data.tree, data.labels_path);
    if (checked.empty()) {
      std::printf("tree: no question has all its columns and its parent's: sums not checked\n");
    } else if (warnings.empty()) {
      std::printf("tree: %s sum to their parents in every row (largest deviation %.2g)\n", checked.c_str(),
                  data.tree.largest_deviation);
    } else {
      for (const std::string& line : warnings) std::printf("%s\n", line.c_str());
    }

    CheckOptions options;
    options.threads = threads;
    const bool tty = isatty(fileno(stderr));
    if (tty)
      options.progress = [](size_t done, size_t total) { std::fprintf(stderr, "\rdecoding %zu / %zu", done, total); };
    CheckReport report = check_images(data, options);
    if (tty) std::fprintf(stderr, "\n");

    for (size_t i = 0; i < report.broken.size() && i < list; ++i)
      std::printf("broken: %s\n", describe(report.broken[i]).c_str());
    if (report.broken.size() > list) std::printf("broken: ... and %zu more\n", report.broken.size() - list);
    std::string sizes;
    for (const auto& [size, n] : report.sizes) sizes += (sizes.empty() ? "" : ", ") + size + ": " + std::to_string(n);
    std::printf("images: %zu decoded, %zu broken (%zu of them missing) in %.1f s; sizes %s\n", report.decoded,
                report.broken.size(), data.missing_images, report.seconds, sizes.empty() ? "-" : sizes.c_str());
    if (data.unlabelled_images > 0)
      std::printf("images: %zu files in %s have no label row (ignored)\n", data.unlabelled_images,
                  data.images_dir.c_str());
    if (report.decoded == 0) {
      std::printf("result: NOT usable: no image decodes\n");
      return 1;
    }
    std::printf("result: usable: %zu of %zu rows%s\n", report.decoded, report.rows,
                report.broken.empty() ? "" : " (broken images will be skipped)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "check_data: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
