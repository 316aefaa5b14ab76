#!/usr/bin/env bash
# Installs the Debian packages the build needs, only those that are missing.
# Sourced by scripts/run and scripts/test.
set -euo pipefail

MCUNET_APT_PACKAGES=(
  cmake ninja-build g++ ccache pkg-config
  nlohmann-json3-dev libspdlog-dev libcli11-dev
  libflatbuffers-dev flatbuffers-compiler
  zlib1g-dev libstb-dev dataset-fashion-mnist
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-dev pybind11-dev python3-numpy python3-pytest python3-matplotlib
  python3-nbclient python3-nbformat python3-ipykernel python3-tqdm
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
)

mcunet_install_deps() {
  local missing=()
  for p in "${MCUNET_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "==> installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Configures (once) and builds into build/ (Release, Ninja, ccache).
mcunet_build() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [ ! -f "$root/build/build.ninja" ]; then
    cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  fi
  cmake --build "$root/build" -j "$(nproc)"
}
