#include "train/history.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "base/error.h"

namespace nebula {

namespace {
const char* kHeader = "epoch,train_loss,train_rmse,val_loss,val_rmse,seconds,images_per_second";
}

std::string history_csv(const std::vector<EpochRecord>& history) {
  std::ostringstream out;
  out << kHeader << "\n";
  char line[256];
  for (const EpochRecord& r : history) {
    std::snprintf(line, sizeof line, "%d,%.8g,%.8g,%.8g,%.8g,%.3f,%.1f\n", r.epoch, r.train_loss, r.train_rmse,
                  r.val_loss, r.val_rmse, r.seconds, r.images_per_second);
    out << line;
  }
  return out.str();
}

std::vector<EpochRecord> parse_history_csv(const std::string& text, const std::string& path) {
  std::istringstream in(text);
  std::string line;
  NEBULA_CHECK(std::getline(in, line) && line == kHeader, path, ": not a Nebula history.csv (header '", line, "')");
  std::vector<EpochRecord> history;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    EpochRecord r;
    int used = 0;
    int fields = std::sscanf(line.c_str(), "%d,%lf,%lf,%lf,%lf,%lf,%lf%n", &r.epoch, &r.train_loss, &r.train_rmse,
                             &r.val_loss, &r.val_rmse, &r.seconds, &r.images_per_second, &used);
    NEBULA_CHECK(fields == 7 && used == static_cast<int>(line.size()), path, ":", number, ": malformed row '", line,
                 "'");
    history.push_back(r);
  }
  return history;
}

namespace {

// One panel: two series (train, validation) against the epoch.
void panel(std::ostringstream& svg, double x0, const std::string& title, const std::vector<EpochRecord>& h,
           double EpochRecord::*train, double EpochRecord::*val) {
  const double width = 420, height = 300, left = 60, top = 40, plot_w = width - left - 20, plot_h = height - top - 50;
  double low = 1e300, high = -1e300;
  for (const EpochRecord& r : h) {
    low = std::min({low, r.*train, r.*val});
    high = std::max({high, r.*train, r.*val});
  }
  if (!(high > low)) {
    low -= 0.5;
    high += 0.5;
  }
  double pad = 0.05 * (high - low);
  low -= pad;
  high += pad;
  int epochs = h.empty() ? 1 : h.back().epoch;
  auto x = [&](int epoch) { return x0 + left + (epochs > 1 ? (epoch - 1) * plot_w / (epochs - 1) : plot_w / 2); };
  auto y = [&](double v) { return top + plot_h * (1.0 - (v - low) / (high - low)); };
  svg << "<text x='" << x0 + width / 2 << "' y='24' text-anchor='middle' font-size='15'>" << title << "</text>\n";
  svg << "<rect x='" << x0 + left << "' y='" << top << "' width='" << plot_w << "' height='" << plot_h
      << "' fill='none' stroke='#888'/>\n";
  for (int i = 0; i <= 4; ++i) {
    double v = low + (high - low) * i / 4;
    svg << "<text x='" << x0 + left - 6 << "' y='" << y(v) + 4 << "' text-anchor='end' font-size='11'>"
        << std::to_string(v).substr(0, 6) << "</text>\n";
  }
  for (const EpochRecord& r : h)
    if (epochs <= 20 || r.epoch % (epochs / 10) == 0)
      svg << "<text x='" << x(r.epoch) << "' y='" << top + plot_h + 16 << "' text-anchor='middle' font-size='11'>"
          << r.epoch << "</text>\n";
  svg << "<text x='" << x0 + left + plot_w / 2 << "' y='" << top + plot_h + 36
      << "' text-anchor='middle' font-size='12'>epoch</text>\n";
  const char* colours[2] = {"#1f77b4", "#d62728"};
  double EpochRecord::*series[2] = {train, val};
  for (int s = 0; s < 2; ++s) {
    svg << "<polyline fill='none' stroke-width='2' stroke='" << colours[s] << "' points='";
    for (const EpochRecord& r : h) svg << x(r.epoch) << "," << y(r.*series[s]) << " ";
    svg << "'/>\n";
    for (const EpochRecord& r : h)
      svg << "<circle cx='" << x(r.epoch) << "' cy='" << y(r.*series[s]) << "' r='2.5' fill='" << colours[s] << "'/>\n";
    svg << "<text x='" << x0 + left + plot_w - 8 << "' y='" << top + 16 + 16 * s << "' text-anchor='end' fill='"
        << colours[s] << "' font-size='12'>" << (s == 0 ? "train" : "validation") << "</text>\n";
  }
}

}  // namespace

std::string curves_svg(const std::vector<EpochRecord>& history, const std::string& title) {
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='860' height='330' font-family='sans-serif'>\n";
  svg << "<rect width='100%' height='100%' fill='white'/>\n";
  panel(svg, 0, title + ": loss (MSE)", history, &EpochRecord::train_loss, &EpochRecord::val_loss);
  panel(svg, 430, title + ": RMSE", history, &EpochRecord::train_rmse, &EpochRecord::val_rmse);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace nebula
