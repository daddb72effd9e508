#!/usr/bin/env bash
# Builds the unit and end-to-end suites under AddressSanitizer + UndefinedBehaviorSanitizer and runs
# them with ctest. Any sanitizer report (memory error, leak, undefined behaviour) ends the process
# under test with an error, so its test fails and so does this script.
# Not built or run: the golden tests (long; the engine's unit tests cover the same code). Not run:
# the deploy tests (no sealsum code under test), the browser and load tests (see SANITIZE_EXCLUDE).
# Time (2026-12-03, 2 cores shared with another build, no ccache, right after a fresh
# `tools/fuzz.sh 10` in the same tree): build 1491 s wall / 1561 CPU-s (only the 83 test sources,
# the sealsum binary's CLI sources and the test support: the libraries are fuzz.sh's), ctest 350 s
# wall / 386 CPU-s (-j2; the serve end-to-end tests run alone); on CI's idle 2 cores about 19 minutes.
#
# The build is the libFuzzer build of tools/fuzz.sh (clang-14, every library compiled with
# -fsanitize=fuzzer-no-link,address,undefined) with the tests turned on: on 2 cores, compiling the
# libraries once for both stages is what keeps them within CI's time. The fuzzer's coverage hooks
# in those objects are no-ops outside a fuzzer.
#
# Usage: tools/sanitize.sh [ctest args...]        e.g. tools/sanitize.sh -R sealsum_secure_tests
# Env:   FUZZ_BUILD       build directory, shared with tools/fuzz.sh (default build-fuzz)
#        SANITIZE_JOBS    build and ctest parallelism (default nproc, at most 2)
#        SANITIZE_SUITES  space-separated unit-test binaries to build and run (default: every
#                         *_tests binary but the golden ones); the end-to-end tests always run
#        SANITIZE_EXCLUDE ctest -E regex of tests left out (default: the browser test, which spends its
#                         time in Chromium, not in sealsum, and the load test, whose wrk latency
#                         timeouts measure the instrumented build's speed, not its correctness)
#        SEALSUM_FIXTURES fixtures directory (default ../shared beside the repository)
#        SEALSUM_WERROR   as for tools/fuzz.sh (default OFF); give both the same value, or the shared
#                         libraries are compiled again
# Needs: clang-14 and libclang-rt-14-dev (tools/setup.sh installs them); ccache is used when present.
# Exit:  0 when every selected test passed; 1 otherwise (the failing tests' output is printed).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUZZ_BUILD:-$root/build-fuzz}"
jobs="${SANITIZE_JOBS:-$(nproc)}"
[ -n "${SANITIZE_JOBS:-}" ] || [ "$jobs" -le 2 ] || jobs=2
exclude="${SANITIZE_EXCLUDE-sealsum_e2e_(browser|load)}"
start=$(date +%s)
command -v clang++-14 >/dev/null || { echo "sanitize: clang++-14 not found; run tools/setup.sh" >&2; exit 1; }

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
mkdir -p "$build/logs"
echo "sanitize: configuring $build"
# The same cache as tools/fuzz.sh's configure (compiler, launcher, flags) except SEALSUM_TESTS, so
# neither stage recompiles the other's libraries.
if ! cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    -DSEALSUM_FUZZ=ON -DSEALSUM_TESTS=ON -DSEALSUM_WERROR="${SEALSUM_WERROR:-OFF}" >"$build/logs/sanitize-configure.log" 2>&1; then
  tail -n 30 "$build/logs/sanitize-configure.log"; echo "sanitize: FAILED: cmake configure"; exit 1
fi

# Every test binary except the golden ones (not run here, so not built), and the sealsum binary the end-to-end scripts run.
if [ -n "${SANITIZE_SUITES:-}" ]; then
  read -r -a targets <<<"$SANITIZE_SUITES"
else
  mapfile -t targets < <(cmake --build "$build" --target help | sed -nE 's/^(\.\.\. )?(sealsum_[a-z_]+_tests)(: .*)?$/\2/p' |
    grep -v -E '^sealsum_(quant_)?golden_tests$' | sort -u)
fi
select="^($(IFS='|'; echo "${targets[*]}")|sealsum_e2e_.*)\$"
targets+=(sealsum)
echo "sanitize: building ${targets[*]} with -j$jobs (log: $build/logs/sanitize-build.log)"
if ! cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$build/logs/sanitize-build.log" 2>&1; then
  grep -m 20 -E 'error|Error [0-9]' "$build/logs/sanitize-build.log" || tail -n 30 "$build/logs/sanitize-build.log"
  echo "sanitize: FAILED: build (log: $build/logs/sanitize-build.log)"; exit 1
fi
build_secs=$(( $(date +%s) - start ))
# CPU seconds of this script's finished children so far (the build), from /proc/self/stat.
cpu_secs() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%d", ($16 + $17) / hz }' /proc/$$/stat; }
build_cpu=$(cpu_secs)

symbolizer="$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)"
# halt_on_error for UBSan: the libraries are built with recoverable UB checks (libFuzzer's flags);
# this makes the first report fatal, as -fno-sanitize-recover would.
# quarantine_size_mb=16 (default 256): the hostile-client test bounds the server's RSS growth to
# 64 MiB, which freed-but-quarantined header floods would otherwise exceed.
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:quarantine_size_mb=16:detect_stack_use_after_return=1:check_initialization_order=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${symbolizer:+:external_symbolizer_path=$symbolizer}"
[ -n "${SEALSUM_FIXTURES:-}" ] || export SEALSUM_FIXTURES="$root/../shared"

cd "$build"
args=(--output-on-failure -j"$jobs" --timeout 1200 -LE 'golden|deploy' -R "$select")
[ -z "$exclude" ] || args+=(-E "$exclude")
echo "sanitize: ctest ${args[*]} $*"
rc=0
ctest "${args[@]}" "$@" || rc=$?
elapsed=$(( $(date +%s) - start ))
cpu="build ${build_secs}s (${build_cpu} CPU-s), total ${elapsed}s ($(cpu_secs) CPU-s)"
if [ $rc -eq 0 ]; then
  echo "sanitize: OK: $cpu"
  exit 0
fi
echo "sanitize: FAILED (ctest exit $rc): $cpu; logs in $build/Testing/Temporary"
exit 1
