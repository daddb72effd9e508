#!/usr/bin/env bash
# Installs sealsum's build and test dependencies (Debian packages only) and builds it.
# Usage: tools/setup.sh [build-dir [target...]]     (default: build, every target)
#   With targets (tools/demo.sh: sealsum), only those are built, and the test-only Node packages are
#   not installed; without, everything is built, the whole test suite included (tools/test.sh).
# Env: SEALSUM_WERROR=ON makes warnings errors (CI); SEALSUM_SKIP_APT=1 skips apt-get.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
targets=("${@:2}")
packages=(
  build-essential cmake pkg-config          # toolchain
  libeigen3-dev libssl-dev libcpp-httplib-dev nlohmann-json3-dev catch2   # the five dependencies
  clang-14 libclang-rt-14-dev python3       # libFuzzer targets and their seed script (tests only)
  chromium wrk curl nodejs                  # end-to-end tests of `sealsum serve` (tests/e2e/serve_*.sh)
  buildah                                   # tests/deploy/image_test.sh: reproducible image build
)
# tests/deploy needs npm; Node packages that bundle it (NodeSource's nodejs) conflict with Debian's.
command -v npm >/dev/null || packages+=(npm)
if [ "${SEALSUM_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    echo "setup: installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
# tests/deploy's validators (ajv, ajv-draft-04, ajv-formats, yaml), pinned by its package-lock.json.
if [ ${#targets[@]} -eq 0 ] && [ ! -d "$root/tests/deploy/node_modules" ]; then
  (cd "$root/tests/deploy" && npm ci --no-audit --no-fund --loglevel=error)
fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSEALSUM_WERROR="${SEALSUM_WERROR:-OFF}" >/dev/null
if [ ${#targets[@]} -gt 0 ]; then
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
else
  cmake --build "$build" -j"$(nproc)"
fi
