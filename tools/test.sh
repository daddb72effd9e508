#!/usr/bin/env bash
# Builds sealsum and runs the whole test suite (unit, golden, end-to-end).
# Fixtures come from $SEALSUM_FIXTURES (default ../shared beside the repo); tests fail, never skip,
# when they are missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
"$root/tools/setup.sh" "$build"
cd "$build"
ctest --output-on-failure -j"$(nproc)" --timeout 3000
