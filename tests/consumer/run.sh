#!/usr/bin/env bash
# Installs the project from BUILD into a temp prefix, then configures, builds
# and runs tests/consumer against it: find_package(mcunet) + mcunet::core.
set -euo pipefail
src="$1"; build="$2"; zoo_model="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/mcunet/cost_model.h"
cmake -S "$src/tests/consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/cfg.log"
cmake --build "$work/build" > "$work/build.log"
"$work/build/consumer" "$zoo_model" | tee "$work/out.txt"
grep -q "macs=12790096" "$work/out.txt"
