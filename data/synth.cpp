#include "data/synth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

#include "base/counter_random.h"
#include "base/error.h"
#include "base/file_io.h"
#include "data/image_io.h"
#include "data/labels.h"

namespace nebula::data {

namespace {

constexpr uint64_t kSynthStream = 0x53594E5448ull;  // "SYNTH"
constexpr float kPi = 3.14159265358979f;

// ---------------------------------------------------------------- randomness

class Rng {
 public:
  Rng(uint64_t seed, uint64_t index) : random_(seed, kSynthStream, index) {}
  double uniform(double lo = 0.0, double hi = 1.0) { return random_.uniform(lo, hi); }
  bool chance(double p) { return random_.uniform() < p; }
  double normal() {
    double u1 = std::max(random_.uniform(), 1e-300), u2 = random_.uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
  }
  // Index drawn with the given (unnormalised) weights.
  int pick(std::initializer_list<double> weights) {
    double total = 0.0;
    for (double w : weights) total += w;
    double x = random_.uniform() * total;
    int i = 0;
    for (double w : weights) {
      if (x < w) return i;
      x -= w;
      ++i;
    }
    return i - 1;
  }
  uint64_t bits() { return (uint64_t(random_.next_u32()) << 32) | random_.next_u32(); }

 private:
  CounterRandom random_;
};

// ---------------------------------------------------------------- what was drawn

enum class Kind { Elliptical, Disk, EdgeOn, Star, Irregular };
// Q8's answers, in column order.
enum Odd { kNoOdd = -1, kRing = 0, kLens, kDisturbed, kIrregular, kOther, kMerger, kDust };

struct Truth {
  Kind kind = Kind::Elliptical;
  double q = 1.0;           // apparent axis ratio of the main body (Q7)
  double bt = 0.0;          // bulge-to-total flux ratio (Q5)
  double faint_disk = 0.0;  // an elliptical's faint disk, 0..1 (pulls Q1 toward features)
  double bar = 0.0;         // 0: none, else strength (Q3)
  double arms = 0.0;        // 0: none, else strength (Q4)
  int m = 0;                // number of arms (Q11)
  double pitch = 0.0;       // arm pitch angle in degrees (Q10)
  int edge_bulge = 0;       // 0 round, 1 boxy, 2 none (Q9)
  double thinness = 0.0;    // edge-on disks: 0 thick .. 1 razor-thin (Q2)
  double star = 0.0;        // star or artifact brightness, 0..1 (Q1)
  int odd = kNoOdd;         // Q8 answer when something odd was drawn
  double odd_strength = 0.0;
};

// ---------------------------------------------------------------- rendering

struct Color {
  float r, g, b;
};

Color jitter(Color c, Rng& rng, double amount) {
  return {float(c.r * (1 + amount * rng.normal())), float(c.g * (1 + amount * rng.normal())),
          float(c.b * (1 + amount * rng.normal()))};
}

constexpr Color kOld{1.0f, 0.78f, 0.56f};  // bulges and ellipticals
constexpr Color kDiskColor{0.78f, 0.82f, 0.95f};
constexpr Color kYoung{0.55f, 0.72f, 1.0f};  // arms, clumps, rings

// Three float planes of linear flux. Galaxies are painted on a half-resolution
// grid (they are smooth; this is 4x cheaper), stars and streaks at full resolution.
struct Planes {
  int n = 0;
  float step = 1.0f;  // full-resolution pixels per pixel
  std::vector<float> c[3];

  void reset(int size, float pixel_step) {
    n = size;
    step = pixel_step;
    for (auto& plane : c) plane.assign(size_t(n) * n, 0.0f);
  }
  // Pixel (i, j)'s centre in full-resolution coordinates.
  float coord(int j) const { return step == 1.0f ? float(j) : step * j + 0.5f * (step - 1.0f); }

  // Calls f(dx, dy) -> intensity for every pixel within `radius` of (cx, cy)
  // (full-resolution units) and adds intensity * color.
  template <typename F>
  void paint(float cx, float cy, float radius, Color color, F f) {
    auto lo = [&](float centre) { return std::max(0, int(std::floor((centre - radius) / step))); };
    auto hi = [&](float centre) { return std::min(n - 1, int(std::ceil((centre + radius) / step))); };
    int i0 = lo(cy), i1 = hi(cy), j0 = lo(cx), j1 = hi(cx);
    for (int i = i0; i <= i1; ++i) {
      const float dy = coord(i) - cy;
      const size_t row = size_t(i) * n;
      for (int j = j0; j <= j1; ++j) {
        const float value = f(coord(j) - cx, dy);
        c[0][row + j] += value * color.r;
        c[1][row + j] += value * color.g;
        c[2][row + j] += value * color.b;
      }
    }
  }
  // Multiplies every pixel within `radius` of (cx, cy) by f(dx, dy).
  template <typename F>
  void scale(float cx, float cy, float radius, F f) {
    auto lo = [&](float centre) { return std::max(0, int(std::floor((centre - radius) / step))); };
    auto hi = [&](float centre) { return std::min(n - 1, int(std::ceil((centre + radius) / step))); };
    for (int i = lo(cy), i1 = hi(cy); i <= i1; ++i) {
      const float dy = coord(i) - cy;
      for (int j = lo(cx), j1 = hi(cx); j <= j1; ++j) {
        const float k = f(coord(j) - cx, dy);
        for (auto& plane : c) plane[size_t(i) * n + j] *= k;
      }
    }
  }
};

// A Sersic profile I = Ie exp(-b ((r/re)^(1/n) - 1)) on ellipses (or boxy
// superellipses when boxy > 2), optionally brighter on one side.
struct Sersic {
  float cx, cy, pa, q, re, n, ie;
  float boxy = 2.0f;
  float lopsided = 0.0f, lop_angle = 0.0f;

  float b() const { return 2.0f * n - 1.0f / 3.0f + 0.009876f / n; }
  // Total flux of the profile (for bulge-to-total ratios).
  double total() const {
    double bn = b();
    return ie * double(re) * re * 2.0 * kPi * n * std::exp(bn) * std::pow(bn, -2.0 * n) * std::tgamma(2.0 * n) * q;
  }
  float radius(float threshold) const {
    if (ie <= threshold) return re;
    return re * std::pow(1.0f + std::log(ie / threshold) / b(), n);
  }
  void paint(Planes& planes, Color color) const {
    const float c = std::cos(pa), s = std::sin(pa), inv_q = 1.0f / q, inv_n = 1.0f / n, bn = b();
    const float inv_re = 1.0f / re, lc = std::cos(lop_angle), ls = std::sin(lop_angle);
    const float soft = 0.3f * planes.step * planes.step;  // keeps the cusp finite
    const bool ellipse = boxy == 2.0f;
    const float p = boxy, inv_p = 1.0f / boxy;
    planes.paint(cx, cy, std::min(radius(2e-4f), 600.0f), color, [&](float dx, float dy) {
      float u = dx * c + dy * s, v = (-dx * s + dy * c) * inv_q;
      float r;
      if (ellipse) {
        r = std::sqrt(u * u + v * v + soft);
      } else {
        r = std::pow(std::pow(std::fabs(u), p) + std::pow(std::fabs(v), p), inv_p) + 0.3f;
      }
      float value = ie * std::exp(-bn * (std::exp(inv_n * std::log(r * inv_re)) - 1.0f));
      if (lopsided != 0.0f) value *= 1.0f + lopsided * (u * lc + v * ls) / (r + re);
      return value;
    });
  }
};

void paint_blob(Planes& planes, float cx, float cy, float sigma, float a, Color color);

// An exponential disk I0 exp(-r/h) seen at inclination (axis ratio q), with
// optional logarithmic spiral arms: m arms of pitch angle psi lie along
// theta - ln(r/h) / tan(psi) = const; the arm light is bluer.
struct Disk {
  float cx, cy, pa, q, h, i0;
  int m = 0;
  float pitch = 0.3f, arm_strength = 0.0f, phase = 0.0f, winding = 1.0f, r_in = 0.0f;
  float lopsided = 0.0f, lop_angle = 0.0f;
  int knots = 0;  // star-forming knots along the arms
  Rng* knot_rng = nullptr;

  float radius(float threshold) const { return i0 <= threshold ? h : h * std::log(i0 / threshold); }
  double total() const { return 2.0 * kPi * i0 * double(h) * h * q; }

  void paint(Planes& planes, Color disk_color, Color arm_color) const {
    const float c = std::cos(pa), s = std::sin(pa), inv_q = 1.0f / q, inv_h = 1.0f / h;
    const float lc = std::cos(lop_angle), ls = std::sin(lop_angle);
    const float radius_px = std::min(radius(2e-4f), 600.0f);
    auto base = [=](float dx, float dy, float* u_out, float* v_out, float* r_out) {
      float u = dx * c + dy * s, v = (-dx * s + dy * c) * inv_q;
      float r = std::sqrt(u * u + v * v) + 1e-3f;
      float value = i0 * std::exp(-r * inv_h);
      if (lopsided != 0.0f) value *= 1.0f + lopsided * (u * lc + v * ls) / (r + h);
      *u_out = u;
      *v_out = v;
      *r_out = r;
      return value;
    };
    if (m == 0 || arm_strength <= 0.0f) {
      planes.paint(cx, cy, radius_px, disk_color, [&](float dx, float dy) {
        float u, v, r;
        return base(dx, dy, &u, &v, &r);
      });
      return;
    }
    // ((1 + cos)/2)^4 averages 35/128 over a turn: dividing by it keeps the disk's flux.
    const float cot = 1.0f / std::tan(pitch), norm = 128.0f / 35.0f, strength = arm_strength;
    const float fm = float(m), in0 = r_in, in1 = 2.0f * r_in + 1e-3f;
    auto arms = [=](float u, float v, float r) {
      float theta = winding * std::atan2(v, u);
      float wave = 0.5f + 0.5f * std::cos(fm * (theta - cot * std::log(r * inv_h)) + phase);
      wave *= wave;
      wave *= wave;
      float taper = std::clamp((r - in0) / (in1 - in0), 0.0f, 1.0f);
      taper = taper * taper * (3.0f - 2.0f * taper);
      return strength * taper * wave * norm;
    };
    // Star-forming knots along the arms' ridges: theta = (2 pi j - phase) / m + cot ln(r / h).
    for (int knot = 0; knot < knots; ++knot) {
      float r = h * float(knot_rng->uniform(std::max(0.3f, r_in / h), 2.6));
      int arm = int(knot_rng->uniform(0, m));
      float theta = (2.0f * kPi * arm - phase) / fm + cot * std::log(r * inv_h) + float(knot_rng->normal() * 0.08);
      theta *= winding;
      float u = r * std::cos(theta), v = r * std::sin(theta) * q;
      float x = cx + u * c - v * s, y = cy + u * s + v * c;
      float a = i0 * std::exp(-r * inv_h) * strength * float(knot_rng->uniform(0.5, 2.0));
      paint_blob(planes, x, y, float(knot_rng->uniform(1.2, 2.5)), a, arm_color);
    }
    // Smooth part (1 - s*taper) in the disk colour, the arms in the young colour.
    planes.paint(cx, cy, radius_px, disk_color, [&](float dx, float dy) {
      float u, v, r;
      float value = base(dx, dy, &u, &v, &r);
      float taper = std::clamp((r - in0) / (in1 - in0), 0.0f, 1.0f);
      taper = taper * taper * (3.0f - 2.0f * taper);
      return value * (1.0f - strength * taper);
    });
    planes.paint(cx, cy, radius_px, arm_color, [&](float dx, float dy) {
      float u, v, r;
      float value = base(dx, dy, &u, &v, &r);
      return value * arms(u, v, r);
    });
  }
};

// A bar in the disk's plane: I = B0 exp(-d^3), d^2 = (x/L)^2 + (y/W)^2 (flat-topped, sharp-ended).
void paint_bar(Planes& planes, const Disk& disk, float angle, float length, float width, float b0, Color color) {
  const float c = std::cos(disk.pa), s = std::sin(disk.pa), inv_q = 1.0f / disk.q;
  const float bc = std::cos(angle), bs = std::sin(angle), inv_l = 1.0f / length, inv_w = 1.0f / width;
  planes.paint(disk.cx, disk.cy, 2.2f * length, color, [&](float dx, float dy) {
    float u = dx * c + dy * s, v = (-dx * s + dy * c) * inv_q;
    float x = (u * bc + v * bs) * inv_l, y = (-u * bs + v * bc) * inv_w;
    float d2 = x * x + y * y;
    return b0 * std::exp(-d2 * std::sqrt(d2));
  });
}

// A ring of radius r0 in the disk plane.
void paint_ring(Planes& planes, float cx, float cy, float pa, float q, float r0, float w, float a, Color color) {
  const float c = std::cos(pa), s = std::sin(pa), inv_q = 1.0f / q, inv_w = 1.0f / w;
  planes.paint(cx, cy, r0 + 4 * w, color, [&](float dx, float dy) {
    float u = dx * c + dy * s, v = (-dx * s + dy * c) * inv_q;
    float t = (std::sqrt(u * u + v * v) - r0) * inv_w;
    return a * std::exp(-t * t);
  });
}

// A thin arc of a circle of radius rho around (cx, cy), like a lensed background galaxy.
void paint_arc(Planes& planes, float cx, float cy, float rho, float theta0, float half, float w, float a, Color color) {
  const float inv_w = 1.0f / w, inv_half = 1.0f / half;
  planes.paint(cx, cy, rho + 4 * w, color, [&](float dx, float dy) {
    float t = (std::sqrt(dx * dx + dy * dy) - rho) * inv_w;
    float angle = std::atan2(dy, dx) - theta0;
    angle = std::remainder(angle, 2.0f * kPi) * inv_half;
    angle *= angle;
    return a * std::exp(-t * t - angle * angle);
  });
}

void paint_blob(Planes& planes, float cx, float cy, float sigma, float a, Color color) {
  const float k = 0.5f / (sigma * sigma);
  planes.paint(cx, cy, 4.0f * sigma, color, [&](float dx, float dy) { return a * std::exp(-(dx * dx + dy * dy) * k); });
}

// Blobs along a quadratic Bezier curve: tidal tails, plumes, jets and bridges.
void paint_stream(Planes& planes, float x0, float y0, float x1, float y1, float x2, float y2, int count, float sigma,
                  float a, float fade, Color color) {
  for (int i = 0; i < count; ++i) {
    float t = (i + 0.5f) / count, s = 1.0f - t;
    float x = s * s * x0 + 2 * s * t * x1 + t * t * x2, y = s * s * y0 + 2 * s * t * y1 + t * t * y2;
    paint_blob(planes, x, y, sigma * (1.0f + t), a * (1.0f - fade * t), color);
  }
}

// A star: Gaussian core, Moffat-like halo and four diffraction spikes.
void paint_star(Planes& planes, float cx, float cy, float sigma, float a, float spikes, Color color) {
  const float k = 0.5f / (sigma * sigma), alpha2 = 9.0f * sigma * sigma;
  const float spike_w = 0.8f, spike_l = std::max(spikes, 1.0f);
  float radius = std::max(8.0f * sigma, spikes > 0 ? 2.5f * spikes : 0.0f);
  planes.paint(cx, cy, radius, color, [&](float dx, float dy) {
    float r2 = dx * dx + dy * dy;
    float h = 1.0f / (1.0f + r2 / alpha2);
    float value = a * (std::exp(-r2 * k) + 0.04f * h * h * h);
    if (spikes > 0) {
      float ax = std::fabs(dx), ay = std::fabs(dy);
      value += 0.06f * a * (std::exp(-ay / spike_w - ax / spike_l) + std::exp(-ax / spike_w - ay / spike_l));
    }
    return value;
  });
}

// A straight streak through (cx, cy) at `angle`, as a satellite trail.
void paint_streak(Planes& planes, float cx, float cy, float angle, float w, float a, Color color) {
  const float nx = -std::sin(angle), ny = std::cos(angle), inv_w = 1.0f / w;
  planes.paint(cx, cy, 2.0f * planes.n * planes.step, color, [&](float dx, float dy) {
    float d = (dx * nx + dy * ny) * inv_w;
    return a * std::exp(-d * d);
  });
}

// A dark lane along `angle` through (cx, cy): depth at its centre line, fading along its length.
void dim_lane(Planes& planes, float cx, float cy, float angle, float w, float length, float depth) {
  const float ax = std::cos(angle), ay = std::sin(angle), inv_w = 1.0f / w, inv_l = 1.0f / length;
  planes.scale(cx, cy, 2.0f * length, [&](float dx, float dy) {
    float along = (dx * ax + dy * ay) * inv_l, across = (-dx * ay + dy * ax) * inv_w;
    return 1.0f - depth * std::exp(-across * across - along * along * along * along);
  });
}

// ---------------------------------------------------------------- labels

using Dist = std::vector<double>;

Dist soft(double x, std::initializer_list<double> centres, double width) {
  Dist p;
  for (double c : centres) p.push_back(std::exp(-((x - c) / width) * ((x - c) / width)) + 1e-3);
  return p;
}

std::array<float, kNumClasses> make_labels(const Truth& t, Rng& rng, double noise) {
  const bool disk = t.kind == Kind::Disk, edge = t.kind == Kind::EdgeOn;
  std::vector<Dist> answers(questions().size());

  // Q1 smooth / features / star
  double star = 0.015, features;
  switch (t.kind) {
    case Kind::Elliptical:
      features = 0.08 + 0.3 * t.faint_disk + (t.odd >= 0 ? 0.12 * t.odd_strength : 0.0);
      break;
    case Kind::Disk:
      features = 0.45 + 0.5 * std::max({t.arms, 0.9 * t.bar, 0.35 * (1.0 - t.bt)});
      break;
    case Kind::EdgeOn:
      features = 0.6 + 0.32 * t.thinness;
      break;
    case Kind::Star:
      star = 0.45 + 0.45 * t.star;
      features = 0.4 * (1.0 - star);
      break;
    default:
      features = 0.72 + 0.2 * t.odd_strength;
      break;
  }
  answers[0] = {std::max(0.0, 1.0 - features - star), features, star};
  // Q2 edge-on?
  double edge_yes = 0.04;
  if (edge) edge_yes = 0.78 + 0.2 * t.thinness;
  if (disk) edge_yes = 0.03 + 0.8 / (1.0 + std::exp((t.q - 0.45) / 0.05));
  if (t.kind == Kind::Elliptical) edge_yes = 0.04 + 0.3 * std::clamp((0.4 - t.q) / 0.15, 0.0, 1.0);
  answers[1] = {edge_yes, 1.0 - edge_yes};
  // Q3 bar?  Q4 spiral?  Q5 bulge prominence
  double bar = t.bar > 0 ? 0.4 + 0.55 * t.bar : 0.06;
  answers[2] = {bar, 1.0 - bar};
  double spiral = t.arms > 0 ? 0.4 + 0.55 * t.arms : (t.kind == Kind::Irregular ? 0.2 : 0.07);
  answers[3] = {spiral, 1.0 - spiral};
  answers[4] = soft(t.bt, {0.0, 0.12, 0.3, 0.55}, 0.1);
  // Q6 odd?  Q7 roundness  Q8 odd feature
  double odd = t.odd >= 0 ? 0.5 + 0.45 * t.odd_strength : 0.08;
  answers[5] = {odd, 1.0 - odd};
  answers[6] = soft(t.q, {0.95, 0.65, 0.3}, 0.14);
  Dist q8(7, 1.0);
  if (t.odd >= 0) {
    q8.assign(7, (0.45 - 0.3 * t.odd_strength) / 6.0);
    q8[t.odd] = 0.55 + 0.3 * t.odd_strength;
  }
  answers[7] = q8;
  // Q9 bulge shape of an edge-on disk
  Dist q9 = {0.45, 0.15, 0.4};
  if (edge) {
    q9.assign(3, 0.11);
    q9[t.edge_bulge] = 0.78;
  }
  answers[8] = q9;
  // Q10 arm tightness, Q11 number of arms
  answers[9] = t.arms > 0 ? soft(t.pitch, {10.0, 20.0, 32.0}, 7.0) : Dist{0.3, 0.4, 0.3};
  Dist q11 = {0.1, 0.2, 0.1, 0.05, 0.05, 0.5};
  if (t.arms > 0) {
    int k = std::min(t.m, 5) - 1;
    q11.assign(6, 0.0);
    q11[k] = 1.0;
    if (k > 0) q11[k - 1] = 0.2;
    if (k < 4) q11[k + 1] = 0.2;
    q11[5] = 0.1 + 0.5 * (1.0 - t.arms);
  }
  answers[10] = q11;

  std::array<float, kNumClasses> labels{};
  std::array<double, kNumClasses> exact{};
  for (size_t qi = 0; qi < questions().size(); ++qi) {
    const Question& q = questions()[qi];
    Dist& p = answers[qi];
    double total = 0.0;
    for (double v : p) total += v;
    // Votes are noisy: mix in a Dirichlet(1) draw with a weight around `noise`.
    double eps = noise * 2.0 * rng.uniform(), dsum = 0.0;
    Dist d(p.size());
    for (double& v : d) dsum += (v = -std::log(std::max(rng.uniform(), 1e-12)));
    const double parent = q.parent < 0 ? 1.0 : exact[q.parent];
    for (int a = 0; a < q.count; ++a) {
      double value = (1.0 - eps) * p[a] / total + eps * d[a] / dsum;
      exact[q.first + a] = parent * value;
    }
  }
  for (int i = 0; i < kNumClasses; ++i) labels[i] = float(std::clamp(exact[i], 0.0, 1.0));
  return labels;
}

// ---------------------------------------------------------------- the scene

struct Scene {
  Truth truth;
  std::string kind;
};

// Blurs every plane with a Gaussian of `sigma` pixels (the seeing), separably, edges clamped.
void blur(Planes& planes, float sigma) {
  const int radius = int(std::ceil(3.0f * sigma)), n = planes.n;
  std::vector<float> kernel(2 * radius + 1);
  float total = 0.0f;
  for (int i = -radius; i <= radius; ++i) total += kernel[i + radius] = std::exp(-0.5f * i * i / (sigma * sigma));
  for (float& w : kernel) w /= total;
  std::vector<float> temp(size_t(n) * n), padded(size_t(n) + 2 * radius);
  for (auto& plane : planes.c) {
    for (int y = 0; y < n; ++y) {
      // The row with its edge pixels repeated `radius` times on each side.
      const float* row = plane.data() + size_t(y) * n;
      std::fill(padded.begin(), padded.begin() + radius, row[0]);
      std::copy(row, row + n, padded.begin() + radius);
      std::fill(padded.begin() + radius + n, padded.end(), row[n - 1]);
      float* out = temp.data() + size_t(y) * n;
      for (int x = 0; x < n; ++x) out[x] = 0.0f;
      for (int i = 0; i <= 2 * radius; ++i) {
        const float w = kernel[i];
        const float* in = padded.data() + i;
        for (int x = 0; x < n; ++x) out[x] += w * in[x];
      }
    }
    for (int y = 0; y < n; ++y) {
      float* out = plane.data() + size_t(y) * n;
      for (int x = 0; x < n; ++x) out[x] = 0.0f;
      for (int i = -radius; i <= radius; ++i) {
        const float w = kernel[i + radius];
        const float* in = temp.data() + size_t(std::clamp(y + i, 0, n - 1)) * n;
        for (int x = 0; x < n; ++x) out[x] += w * in[x];
      }
    }
  }
}

// What compose()'s steps share: the planes, the scale, the galaxy's centre
// and position angle, and its main components, which an odd feature may
// distort (a lopsided disturbance) or paint around (`body`, `q_body`).
struct Painting {
  Planes& half;
  Planes& full;
  float size, psf, k, cx, cy, pa;
  Scene scene;
  float body = 0.0f;     // a characteristic radius, for placing odd features
  float q_body = 1.0f;   // and the plane they lie in
  Sersic main_sersic{};  // the galaxy a lopsided distortion applies to
  bool have_sersic = false;
  Disk main_disk{};
  bool have_disk = false;
};

// A smooth galaxy, round to cigar-shaped, sometimes with a faint disk.
void draw_elliptical(Painting& p, Rng& rng) {
  Truth& t = p.scene.truth;
  const float k = p.k, cx = p.cx, cy = p.cy, pa = p.pa;
  p.scene.kind = "elliptical";
  int shape = rng.pick({0.45, 0.35, 0.2});
  double q = shape == 0 ? rng.uniform(0.82, 1.0) : shape == 1 ? rng.uniform(0.5, 0.78) : rng.uniform(0.22, 0.45);
  p.main_sersic = Sersic{cx,
                         cy,
                         pa,
                         float(q),
                         float(rng.uniform(10, 28)) * k,
                         float(rng.uniform(2.5, 5.0)),
                         float(rng.uniform(0.07, 0.2))};
  p.have_sersic = true;
  t.q = q;
  p.body = p.main_sersic.re * 1.6f;
  p.q_body = float(q);
  t.bt = 1.0;
  if (rng.chance(0.35)) {
    t.faint_disk = rng.uniform(0.3, 1.0);
    p.main_disk = Disk{cx,
                       cy,
                       pa,
                       float(std::max(0.2, q * rng.uniform(0.8, 1.0))),
                       p.main_sersic.re * float(rng.uniform(1.3, 2.0)),
                       float(0.06 * t.faint_disk)};
    p.have_disk = true;
    t.bt = 1.0 / (1.0 + p.main_disk.total() / p.main_sersic.total());
  }
}

// A disk, often with arms, sometimes a bar, usually a bulge.
void draw_disk(Painting& p, Rng& rng) {
  Truth& t = p.scene.truth;
  Planes& half = p.half;
  const float k = p.k, cx = p.cx, cy = p.cy, pa = p.pa;
  p.scene.kind = "disk";
  float h = float(rng.uniform(12, 30)) * k;
  double qd = rng.uniform(0.4, 1.0);
  p.main_disk = Disk{cx, cy, pa, float(qd), h, float(rng.uniform(0.12, 0.35))};
  p.have_disk = true;
  t.q = qd;
  p.q_body = float(qd);
  p.body = 1.6f * h;
  t.bt = rng.chance(0.2) ? rng.uniform(0.0, 0.04) : rng.uniform(0.05, 0.65);
  if (rng.chance(0.7)) {
    t.arms = rng.uniform(0.35, 1.0);
    int arms = rng.pick({0.08, 0.45, 0.2, 0.15, 0.12});
    t.m = arms < 4 ? arms + 1 : (rng.chance(0.5) ? 5 : 6);
    t.pitch = rng.uniform(6, 38);
    p.main_disk.m = t.m;
    p.main_disk.pitch = float(t.pitch * kPi / 180.0);
    p.main_disk.arm_strength = float(0.35 + 0.6 * t.arms);
    p.main_disk.phase = float(rng.uniform(0, 2 * kPi));
    p.main_disk.winding = rng.chance(0.5) ? 1.0f : -1.0f;
    p.main_disk.r_in = h * float(rng.uniform(0.3, 0.6));
    p.main_disk.knots = int(rng.uniform(0, 30) * t.arms);
    p.main_disk.knot_rng = &rng;
    p.scene.kind = "spiral";
  }
  if (rng.chance(0.35)) {
    t.bar = rng.uniform(0.35, 1.0);
    float length = h * float(rng.uniform(0.9, 1.6));
    p.main_disk.r_in = std::max(p.main_disk.r_in, length);
    paint_bar(half, p.main_disk, float(rng.uniform(0, kPi)), length, length * float(rng.uniform(0.22, 0.34)),
              float(t.bar * p.main_disk.i0 * rng.uniform(1.0, 1.8)), jitter(kOld, rng, 0.04));
    p.scene.kind = "barred " + p.scene.kind;
  }
  if (t.bt > 0.0) {
    Sersic bulge{cx,
                 cy,
                 pa,
                 float(std::max(qd, rng.uniform(0.75, 1.0))),
                 h * float(rng.uniform(0.15, 0.32)),
                 float(rng.uniform(1.5, 3.5)),
                 1.0f};
    bulge.ie = float(t.bt / (1.0 - t.bt) * p.main_disk.total() / bulge.total());
    bulge.paint(half, jitter(kOld, rng, 0.04));
  }
}

// A disk seen edge-on (sech^2 profile) with a round, boxy or no bulge.
void draw_edge_on(Painting& p, Rng& rng) {
  Truth& t = p.scene.truth;
  Planes& half = p.half;
  const float k = p.k, cx = p.cx, cy = p.cy, pa = p.pa;
  p.scene.kind = "edge-on";
  const float h = float(rng.uniform(13, 30)) * k;
  const float z0 = h * float(rng.uniform(0.1, 0.28));
  const float i0 = float(rng.uniform(0.2, 0.5));
  t.q = z0 / h;
  t.thinness = std::clamp((0.28 - t.q) / 0.18, 0.0, 1.0);
  p.q_body = 0.15f;
  p.body = 1.6f * h;
  const float c = std::cos(pa), s = std::sin(pa), inv_h = 1.0f / h, inv_z = 1.0f / z0;
  half.paint(cx, cy, h * std::log(i0 / 2e-4f), jitter(kDiskColor, rng, 0.04), [&](float dx, float dy) {
    float x = dx * c + dy * s, y = (-dx * s + dy * c) * inv_z;
    float sech = 2.0f / (std::exp(y) + std::exp(-y));
    return i0 * std::exp(-std::fabs(x) * inv_h) * sech * sech;
  });
  t.edge_bulge = rng.pick({0.4, 0.25, 0.35});
  if (t.edge_bulge != 2) {
    Sersic bulge{cx, cy, pa, 1.0f, h * float(rng.uniform(0.25, 0.45)), float(rng.uniform(2.0, 4.0)), 1.0f};
    if (t.edge_bulge == 0) {
      bulge.q = float(rng.uniform(0.75, 1.0));
    } else {
      bulge.q = float(rng.uniform(0.55, 0.75));
      bulge.boxy = float(rng.uniform(3.0, 4.5));
      bulge.n = float(rng.uniform(1.0, 1.8));  // boxy bulges are flat-topped
    }
    // Edge-on disk flux: 2 h * 2 z0 * I0 along and across, times 2 for both sides.
    double disk_flux = 4.0 * h * z0 * i0;
    t.bt = rng.uniform(0.15, 0.45);
    double unit = bulge.boxy == 2.0f ? bulge.total() : bulge.total() * 1.2;
    bulge.ie = float(t.bt / (1.0 - t.bt) * disk_flux / unit);
    bulge.paint(half, jitter(kOld, rng, 0.04));
  }
}

// A star or an artifact (a one-band trail over a faint smudge).
void draw_star(Painting& p, Rng& rng) {
  Truth& t = p.scene.truth;
  Planes& half = p.half;
  const float k = p.k, cx = p.cx, cy = p.cy, pa = p.pa;
  Planes& full = p.full;
  const float psf = p.psf;
  t.star = rng.uniform(0.0, 1.0);
  if (rng.chance(0.7)) {
    p.scene.kind = "star";
    Color color = jitter({1.0f, 0.95f, 0.85f}, rng, 0.08);
    paint_star(full, cx, cy, psf * float(rng.uniform(0.9, 1.2)), float(1.5 + 4.5 * t.star),
               float(rng.uniform(20, 60)) * k, color);
  } else {
    p.scene.kind = "artifact";
    // A trail seen in one band only.
    int band = rng.pick({1, 1, 1});
    Color color{band == 0 ? 1.0f : 0.05f, band == 1 ? 1.0f : 0.05f, band == 2 ? 1.0f : 0.05f};
    paint_streak(full, cx + float(rng.normal() * 6) * k, cy + float(rng.normal() * 6) * k, float(rng.uniform(0, kPi)),
                 float(rng.uniform(1.2, 2.5)) * k, float(0.1 + 0.3 * t.star), color);
    Sersic faint{
        cx, cy, pa, float(rng.uniform(0.6, 1.0)), float(rng.uniform(4, 8)) * k, 2.5f, float(rng.uniform(0.01, 0.03))};
    faint.paint(half, kOld);
  }
  p.body = 20.0f * k;
}

// A lopsided disk of bright clumps.
void draw_irregular(Painting& p, Rng& rng) {
  Truth& t = p.scene.truth;
  Planes& half = p.half;
  const float k = p.k, cx = p.cx, cy = p.cy, pa = p.pa;
  p.scene.kind = "irregular";
  float r = float(rng.uniform(12, 28)) * k;
  p.main_disk = Disk{cx, cy, pa, float(rng.uniform(0.4, 1.0)), 0.8f * r, float(rng.uniform(0.02, 0.05))};
  p.main_disk.lopsided = float(rng.uniform(0.3, 0.7));
  p.main_disk.lop_angle = float(rng.uniform(0, 2 * kPi));
  p.have_disk = true;
  int clumps = 6 + int(rng.uniform(0, 9));
  for (int i = 0; i < clumps; ++i)
    paint_blob(half, cx + float(rng.normal()) * r, cy + float(rng.normal()) * r, float(rng.uniform(2, 6)) * k,
               float(rng.uniform(0.03, 0.12)), jitter(kYoung, rng, 0.1));
  t.odd = kIrregular;
  t.odd_strength = rng.uniform(0.5, 1.0);
  t.q = p.main_disk.q;
  p.body = r;
}

// Something odd, one galaxy in four: a ring, a lens arc, a disturbance, a
// stream, a merger or a dust lane (painted with the main components).
void add_odd_feature(Painting& p, Rng& rng) {
  Truth& t = p.scene.truth;
  Planes& half = p.half;
  const float k = p.k, cx = p.cx, cy = p.cy, pa = p.pa;
  if (t.kind != Kind::Irregular && t.kind != Kind::Star && rng.chance(0.25)) {
    t.odd = t.kind == Kind::EdgeOn && rng.chance(0.5)
                ? kDust
                : std::array<int, 6>{
                      kRing, kLens, kDisturbed, kOther, kMerger, kDust}[rng.pick({0.18, 0.12, 0.18, 0.1, 0.27, 0.15})];
    t.odd_strength = rng.uniform(0.3, 1.0);
    const float s = float(0.5 + 0.5 * t.odd_strength);
    const float away = float(rng.uniform(0, 2 * kPi));
    const float ux = std::cos(away), uy = std::sin(away);
    switch (t.odd) {
      case kRing:
        paint_ring(half, cx, cy, pa, std::max(p.q_body, 0.35f), p.body * float(rng.uniform(1.4, 2.0)),
                   p.body * float(rng.uniform(0.12, 0.2)), s * float(rng.uniform(0.03, 0.06)),
                   jitter(kYoung, rng, 0.05));
        break;
      case kLens:
        paint_arc(half, cx, cy, p.body * float(rng.uniform(1.5, 2.4)), away, float(rng.uniform(0.4, 0.9)),
                  float(rng.uniform(1.5, 3.0)) * k, s * float(rng.uniform(0.06, 0.14)), jitter(kYoung, rng, 0.05));
        break;
      case kDisturbed: {
        if (p.have_sersic) p.main_sersic.lopsided = 0.6f * s, p.main_sersic.lop_angle = away;
        if (p.have_disk) p.main_disk.lopsided = 0.6f * s, p.main_disk.lop_angle = away;
        float bend = float(rng.uniform(-1.0, 1.0));
        paint_stream(half, cx + ux * p.body * 0.5f, cy + uy * p.body * 0.5f, cx + (ux - bend * uy) * p.body * 2.0f,
                     cy + (uy + bend * ux) * p.body * 2.0f, cx + ux * p.body * 3.5f, cy + uy * p.body * 3.5f, 18,
                     p.body * 0.25f, s * 0.02f, 0.7f, jitter(kDiskColor, rng, 0.05));
        break;
      }
      case kOther:
        paint_stream(half, cx, cy, cx + ux * p.body * 1.5f, cy + uy * p.body * 1.5f, cx + ux * p.body * 3.0f,
                     cy + uy * p.body * 3.0f, 24, 1.5f * k, s * 0.05f, 0.5f, jitter(kYoung, rng, 0.05));
        break;
      case kMerger: {
        float d = p.body * float(rng.uniform(1.4, 2.4));
        Sersic other{cx + ux * d,
                     cy + uy * d,
                     float(rng.uniform(0, kPi)),
                     float(rng.uniform(0.5, 1.0)),
                     p.body * float(rng.uniform(0.3, 0.6)),
                     float(rng.uniform(1.5, 4.0)),
                     s * float(rng.uniform(0.04, 0.1))};
        other.paint(half, jitter(kOld, rng, 0.05));
        float bend = float(rng.uniform(-0.8, 0.8));
        paint_stream(half, cx, cy, cx + (ux * 0.5f - uy * bend) * d, cy + (uy * 0.5f + ux * bend) * d, cx + ux * d,
                     cy + uy * d, 14, p.body * 0.2f, s * 0.015f, 0.0f, jitter(kDiskColor, rng, 0.05));
        paint_stream(half, cx + ux * d, cy + uy * d, cx + (ux * 1.6f + uy * bend) * d, cy + (uy * 1.6f - ux * bend) * d,
                     cx + (ux * 2.0f + uy * bend * 2) * d, cy + (uy * 2.0f - ux * bend * 2) * d, 14, p.body * 0.2f,
                     s * 0.012f, 0.8f, jitter(kDiskColor, rng, 0.05));
        break;
      }
      default:
        break;  // the dust lane dims what is painted, below
    }
  }
}

// The main components, after any distortion, and the dust lane over them.
void paint_main_components(Painting& p, Rng& rng) {
  Truth& t = p.scene.truth;
  Planes& half = p.half;
  const float k = p.k, cx = p.cx, cy = p.cy, pa = p.pa;
  if (p.have_sersic) p.main_sersic.paint(half, jitter(kOld, rng, 0.04));
  if (p.have_disk) p.main_disk.paint(half, jitter(kDiskColor, rng, 0.04), jitter(kYoung, rng, 0.05));
  if (t.odd == kDust) {
    float width = t.kind == Kind::EdgeOn ? std::max(1.5f * k, p.body * 0.03f) : p.body * 0.12f;
    dim_lane(half, cx, cy, pa, width, p.body * 1.5f, float(0.5 + 0.4 * t.odd_strength));
  }
}

// Faint background galaxies, red to blue, anywhere; field stars away from the centre.
void paint_field(Painting& p, Rng& rng) {
  const float size = p.size, psf = p.psf, k = p.k, cx = p.cx, cy = p.cy;
  Planes& half = p.half;
  Planes& full = p.full;
  int background = int(rng.uniform(2, 14));
  for (int i = 0; i < background; ++i) {
    float x = float(rng.uniform(0, size)), y = float(rng.uniform(0, size));
    float red = float(rng.uniform(0, 1));
    paint_blob(half, x, y, float(rng.uniform(0.6, 2.0)) * k,
               float(std::exp(rng.uniform(std::log(0.004), std::log(0.04)))),
               Color{0.6f + 0.5f * red, 0.75f, 1.1f - 0.6f * red});
  }
  // Field stars, away from the centre.
  int stars = int(rng.uniform(0, 5.5));
  for (int i = 0; i < stars; ++i) {
    float x, y;
    do {
      x = float(rng.uniform(0, size));
      y = float(rng.uniform(0, size));
    } while (std::hypot(x - cx, y - cy) < 70.0f * k);
    float a = float(std::exp(rng.uniform(std::log(0.02), std::log(1.5))));
    paint_star(full, x, y, psf * float(rng.uniform(0.9, 1.1)), a, a > 1.0f && rng.chance(0.3) ? 25.0f * k : 0.0f,
               jitter({1.0f, 0.92f, 0.8f}, rng, 0.12));
  }
}

// Draws and paints one galaxy (and its odd feature) into `half`, and its stars
// and artifacts into `full`; `psf` is the seeing's Gaussian sigma in full-resolution pixels.
Scene compose(Rng& rng, float size, float psf, Planes& half, Planes& full) {
  const float k = size / 424.0f;  // sizes below are for 424-pixel images
  const float cx = size / 2 - 0.5f + float(1.5 * rng.normal()) * k;
  const float cy = size / 2 - 0.5f + float(1.5 * rng.normal()) * k;
  const float pa = float(rng.uniform(0, kPi));
  Painting p{half, full, size, psf, k, cx, cy, pa, Scene{}};
  Truth& t = p.scene.truth;
  t.kind = Kind(rng.pick({0.36, 0.40, 0.12, 0.06, 0.06}));
  switch (t.kind) {
    case Kind::Elliptical:
      draw_elliptical(p, rng);
      break;
    case Kind::Disk:
      draw_disk(p, rng);
      break;
    case Kind::EdgeOn:
      draw_edge_on(p, rng);
      break;
    case Kind::Star:
      draw_star(p, rng);
      break;
    case Kind::Irregular:
      draw_irregular(p, rng);
      break;
  }
  add_odd_feature(p, rng);
  paint_main_components(p, rng);
  paint_field(p, rng);
  return p.scene;
}

// asinh stretch, as the SDSS colour composites use: linear for faint light, logarithmic for bright.
struct Stretch {
  static constexpr int kEntries = 8192;
  static constexpr float kPerUnit = 4096.0f;  // table entries per unit of flux (flux >= 2 saturates)
  uint8_t table[kEntries];
  Stretch() {
    const double beta = 0.04, top = std::asinh(1.0 / beta);
    for (int i = 0; i < kEntries; ++i) {
      double v = 255.0 * std::asinh(i / double(kPerUnit) / beta) / top;
      table[i] = uint8_t(std::min(255.0, v + 0.5));
    }
  }
  uint8_t operator()(float flux) const {
    int i = int(flux * kPerUnit);
    return table[std::clamp(i, 0, kEntries - 1)];
  }
};

// Normal deviates by table lookup: sky noise needs millions per image.
struct NoiseTable {
  static constexpr int kSize = 1 << 16;
  float values[kSize];
  NoiseTable() {
    Rng rng(0x4E4F495345ull, 0);
    for (float& v : values) v = float(rng.normal());
  }
};

}  // namespace

SynthGalaxy render_galaxy(uint64_t seed, uint64_t index, const SynthOptions& options) {
  static const Stretch stretch;
  static const NoiseTable noise;
  NEBULA_CHECK(options.size >= 16 && options.size <= 4096, "make_galaxies: image size must be 16..4096, got ",
               options.size);
  Rng rng(seed, index);
  const int n = options.size, n_half = (n + 1) / 2;
  thread_local Planes half, full;
  half.reset(n_half, 2.0f);
  full.reset(n, 1.0f);
  const float psf = float(rng.uniform(1.6, 3.0)) * float(n) / 424.0f;
  Scene scene = compose(rng, float(n), psf, half, full);
  blur(half, 0.5f * psf);

  SynthGalaxy galaxy;
  galaxy.kind = scene.kind;
  galaxy.labels = make_labels(scene.truth, rng, options.label_noise);

  // Upsample the galaxy, add stars, sky and noise, stretch, quantise.
  // Sky noise: most of it coarse-grained (added on the half-resolution grid, so
  // the upsampling correlates it over ~2 pixels, as in the SDSS cutouts), some fine.
  const float sky = float(rng.uniform(0.0015, 0.003)), coarse = float(rng.uniform(0.004, 0.007));
  const float sigma = float(rng.uniform(0.0008, 0.0015));
  uint64_t state = rng.bits() | 1;
  auto step = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (size_t i = 0; i < half.c[0].size(); ++i) {
    uint64_t bits = step();
    for (int c = 0; c < 3; ++c) half.c[c][i] += coarse * noise.values[(bits >> (16 * c)) & (NoiseTable::kSize - 1)];
  }
  // Bilinear 2x upsampling with fixed taps: half-resolution coordinate x/2 - 0.25.
  thread_local std::vector<int> i0, i1;
  thread_local std::vector<float> w1;
  thread_local std::vector<float> wide[3];
  i0.resize(n);
  i1.resize(n);
  w1.resize(n);
  for (int x = 0; x < n; ++x) {
    float h = std::clamp(x * 0.5f - 0.25f, 0.0f, float(n_half - 1));
    i0[x] = int(h);
    i1[x] = std::min(i0[x] + 1, n_half - 1);
    w1[x] = h - i0[x];
  }
  for (int c = 0; c < 3; ++c) {  // every half-resolution row, widened
    wide[c].resize(size_t(n_half) * n);
    for (int j = 0; j < n_half; ++j) {
      const float* in = half.c[c].data() + size_t(j) * n_half;
      float* out = wide[c].data() + size_t(j) * n;
      for (int x = 0; x < n; ++x) out[x] = in[i0[x]] + (in[i1[x]] - in[i0[x]]) * w1[x];
    }
  }
  galaxy.rgb.resize(size_t(n) * n * 3);
  std::vector<float> flux(size_t(n) * 3);
  for (int y = 0; y < n; ++y) {
    for (int c = 0; c < 3; ++c) {
      const float* top = wide[c].data() + size_t(i0[y]) * n;
      const float* bottom = wide[c].data() + size_t(i1[y]) * n;
      const float* stars = full.c[c].data() + size_t(y) * n;
      const float fy = w1[y];
      float* f = flux.data() + size_t(c) * n;
      for (int x = 0; x < n; ++x) f[x] = top[x] + (bottom[x] - top[x]) * fy + stars[x] + sky;
    }
    uint8_t* out = galaxy.rgb.data() + size_t(y) * n * 3;
    for (int x = 0; x < n; ++x) {
      // xorshift64: three 16-bit noise indices per pixel from one step.
      const uint64_t bits = step();
      for (int c = 0; c < 3; ++c)
        out[3 * x + c] =
            stretch(flux[size_t(c) * n + x] + sigma * noise.values[(bits >> (16 * c)) & (NoiseTable::kSize - 1)]);
    }
  }
  return galaxy;
}

void make_galaxies(const std::string& dir, size_t count, uint64_t seed, int threads, const SynthOptions& options,
                   int64_t first_id, const std::function<void(size_t, size_t)>& progress) {
  NEBULA_CHECK(count > 0, "make_galaxies: --count must be positive");
  NEBULA_CHECK(first_id > 0, "make_galaxies: the first GalaxyID must be positive");
  const std::string images = dir + "/images_training_rev1";
  make_directories(images);
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  threads = int(std::min<size_t>(size_t(threads), count));

  std::vector<int64_t> ids(count);
  std::vector<float> values(count * kNumClasses);
  std::atomic<size_t> next{0}, done{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&] {
    try {
      while (true) {
        size_t i = next.fetch_add(1);
        if (i >= count) return;
        SynthGalaxy galaxy = render_galaxy(seed, i, options);
        JpegOptions jpeg;
        jpeg.quality = options.quality;
        std::vector<uint8_t> bytes = encode_jpeg(galaxy.rgb.data(), options.size, options.size, 3, jpeg);
        ids[i] = first_id + int64_t(i);
        write_file_atomic(images + "/" + std::to_string(ids[i]) + ".jpg", bytes.data(), bytes.size());
        std::copy(galaxy.labels.begin(), galaxy.labels.end(), values.begin() + i * kNumClasses);
        done.fetch_add(1);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(count);
    }
  };
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) pool.emplace_back(work);
  if (progress) {
    while (done.load() < count) {
      progress(done.load(), count);
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      bool failed;
      {
        std::lock_guard<std::mutex> lock(error_mutex);
        failed = error != nullptr;
      }
      if (failed) break;
    }
  }
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  if (progress) progress(count, count);
  write_labels(dir + "/training_solutions_rev1.csv", class_names(), ids, values);
}

}  // namespace nebula::data
