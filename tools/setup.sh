#!/usr/bin/env bash
# Installs the Debian packages Nebula builds and tests with. Idempotent: packages
# already present are skipped, so a second run costs nothing and needs no network.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-dev
  nlohmann-json3-dev
  libzip-dev
  libturbojpeg0-dev
  libjpeg62-turbo-dev  # libjpeg-turbo's libjpeg API: the loader decodes only a crop's window
  libcli11-dev
  libstb-dev
  # clang and its runtimes (libFuzzer, the sanitizers) build the reader fuzz
  # harnesses that ctest runs (tests/fuzz); without them that test is left out.
  clang libclang-rt-14-dev
  # PyTorch (CPU) regenerates the ResNet parity fixtures and runs the
  # comparison scripts; the tests skip those checks where it is absent.
  python3-torch python3-torchvision python3-pil
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
