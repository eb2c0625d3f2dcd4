#include "engine/cuda_architectures.h"

#include <cctype>
#include <sstream>
#include <vector>

#ifndef NEBULA_CUDA_ARCHITECTURES
#define NEBULA_CUDA_ARCHITECTURES "80,90"
#endif

namespace nebula {

namespace {

struct Target {
  int capability = 0;  // 80 for 8.0
  bool machine_code = true, ptx = true;
};

// CMake's entries: "80", "86-real", "90-virtual", "90a" (a Hopper-only variant, machine code).
std::vector<Target> parse_targets(const std::string& architectures) {
  std::vector<Target> out;
  std::string list = architectures;
  for (char& c : list)
    if (c == ',') c = ';';
  std::istringstream in(list);
  for (std::string entry; std::getline(in, entry, ';');) {
    if (entry.empty()) continue;
    Target t;
    size_t digits = 0;
    while (digits < entry.size() && std::isdigit(static_cast<unsigned char>(entry[digits]))) ++digits;
    if (digits == 0) continue;
    t.capability = std::stoi(entry.substr(0, digits));
    const std::string rest = entry.substr(digits);
    if (rest.find("-real") != std::string::npos || rest.find('a') == 0) t.ptx = false;
    if (rest.find("-virtual") != std::string::npos) t.machine_code = false;
    out.push_back(t);
  }
  return out;
}

bool runs(const Target& t, int capability) {
  if (t.machine_code && capability / 10 == t.capability / 10 && capability >= t.capability) return true;
  return t.ptx && capability >= t.capability;
}

}  // namespace

std::string unsupported_gpu_reason(const std::string& card, int major, int minor, const std::string& architectures) {
  const int capability = major * 10 + minor;
  const std::vector<Target> targets = parse_targets(architectures);
  for (const Target& t : targets)
    if (runs(t, capability)) return "";
  std::ostringstream why;
  why << "the GPU (" << card << ") has compute capability " << major << "." << minor
      << ", and this build has code only for " << architectures
      << " (rebuild with -DCMAKE_CUDA_ARCHITECTURES=" << capability << ")";
  return why.str();
}

const char* built_cuda_architectures() { return NEBULA_CUDA_ARCHITECTURES; }

}  // namespace nebula
