#!/usr/bin/env bash
# Builds every libFuzzer target (*_fuzz.cpp, clang + ASan/UBSan), replays each target's committed
# corpus (tests/fuzz/corpus/NAME: every input once), then fuzzes it briefly from that corpus and its
# seeds. A crash on replay fails the stage like one found by fuzzing. A target that fails to build, crashes, leaks, hangs or runs out of memory fails the
# stage (exit 1); the crash input is kept under BUILD/artifacts and shown in hex with the sanitizer's
# summary and top frames.
#
# Usage: tools/fuzz.sh [SECONDS_PER_TARGET]          (default 20)
# Env:   SEALSUM_FIXTURES   fixtures directory (default ../shared beside the repository); seeds are
#                           taken from it and targets that read fixtures get it too
#        FUZZ_BUILD         build directory (default build-fuzz in the repository)
#        FUZZ_TARGETS       space-separated subset of targets to build and run (default: all)
#        FUZZ_JOBS          build parallelism and number of fuzzers run at once (default: nproc,
#                           at most 2)
#        FUZZ_RSS_MB        per-fuzzer RSS limit in MB (default 2048)
#        FUZZ_INPUT_TIMEOUT seconds one input may take before it counts as a hang (default 60)
#        SEALSUM_WERROR     ON makes warnings errors, as in tools/setup.sh (default OFF)
# Output: per target one line "NAME RESULT runs=N secs=S", then one "fuzz: ..." total line.
# Files:  tests/fuzz/corpus/NAME (committed, read only here; minimized with -merge=1, see README
#         "Fuzzing"; no file may be byte-identical to a fixture file, checked here), BUILD/seeds/NAME
#         (regenerated each run by tests/fuzz/seeds.py), BUILD/corpus/NAME (grows across runs),
#         BUILD/artifacts/NAME-crash-* etc., BUILD/logs/{build,replay,run}-NAME.log.
# Needs:  clang-14 and libclang-rt-14-dev (tools/setup.sh installs them), python3 (seed generator).
set -uo pipefail

secs="${1:-20}"
case "$secs" in '' | *[!0-9]*) echo "usage: tools/fuzz.sh [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac
[ "$secs" -ge 1 ] || { echo "usage: tools/fuzz.sh [SECONDS_PER_TARGET] (at least 1)" >&2; exit 2; }

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUZZ_BUILD:-$root/build-fuzz}"
fixtures="${SEALSUM_FIXTURES:-$root/../shared}"
jobs="${FUZZ_JOBS:-$(nproc)}"
[ -n "${FUZZ_JOBS:-}" ] || [ "$jobs" -le 2 ] || jobs=2
rss_mb="${FUZZ_RSS_MB:-2048}"
input_timeout="${FUZZ_INPUT_TIMEOUT:-60}"
start=$(date +%s)

command -v clang++-14 >/dev/null || { echo "fuzz: clang++-14 not found; run tools/setup.sh" >&2; exit 1; }
command -v python3 >/dev/null || { echo "fuzz: python3 not found (needed for tests/fuzz/seeds.py)" >&2; exit 1; }
[ -d "$fixtures" ] || { echo "fuzz: fixtures directory $fixtures not found; set SEALSUM_FIXTURES" >&2; exit 1; }
fixtures="$(cd "$fixtures" && pwd)"
export SEALSUM_FIXTURES="$fixtures"

mkdir -p "$build/logs" "$build/artifacts" "$build/corpus"
logs="$build/logs"

# ---- configure ------------------------------------------------------------------------------
echo "fuzz: configuring $build"
# ccache when present, as tools/sanitize.sh, which shares this tree: the same launcher in both
# configures, so neither stage recompiles the other's libraries (Ninja would, on a changed command).
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if ! cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    -DSEALSUM_FUZZ=ON -DSEALSUM_TESTS=OFF -DSEALSUM_WERROR="${SEALSUM_WERROR:-OFF}" >"$logs/configure.log" 2>&1; then
  tail -n 30 "$logs/configure.log"
  echo "fuzz: FAILED: cmake configure failed (log: $logs/configure.log)"
  exit 1
fi

# The targets, as the build system knows them (Makefile: "... name", Ninja: "name: phony").
mapfile -t all_targets < <(cmake --build "$build" --target help 2>/dev/null |
  sed -nE 's/^(\.\.\. )?([A-Za-z0-9_]+_fuzz)(: .*)?$/\2/p' | sort -u)
if [ -n "${FUZZ_TARGETS:-}" ]; then
  targets=()
  for t in $FUZZ_TARGETS; do
    if printf '%s\n' "${all_targets[@]}" | grep -qx "$t"; then targets+=("$t")
    else echo "fuzz: FAILED: unknown target $t (known: ${all_targets[*]})"; exit 1; fi
  done
else
  targets=("${all_targets[@]}")
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: FAILED: no *_fuzz targets found in $build"; exit 1; }
echo "fuzz: ${#targets[@]} targets: ${targets[*]}"

# ---- build (only the fuzz targets) ------------------------------------------------------------
# One keep-going build of all targets (parallel across targets), then one build per target, which is
# a no-op when it is up to date and otherwise repeats the failure into that target's own log.
keep_going=(-- -k)
grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja' "$build/CMakeCache.txt" && keep_going=(-- -k 0)
echo "fuzz: building with -j$jobs (log: $logs/build.log)"
cmake --build "$build" -j"$jobs" --target "${targets[@]}" "${keep_going[@]}" >"$logs/build.log" 2>&1
build_secs=$(( $(date +%s) - start ))
declare -A result runs took
runnable=()
for t in "${targets[@]}"; do
  if cmake --build "$build" -j"$jobs" --target "$t" >"$logs/build-$t.log" 2>&1; then
    runnable+=("$t")
  else
    result[$t]="BUILD-FAILED"
    runs[$t]=0
    took[$t]=0
  fi
done
echo "fuzz: build done in ${build_secs}s; ${#runnable[@]}/${#targets[@]} targets built"

# ---- seeds ------------------------------------------------------------------------------------
rm -rf "$build/seeds"
if ! python3 "$root/tests/fuzz/seeds.py" "$build/seeds" >"$logs/seeds.log" 2>&1; then
  cat "$logs/seeds.log"
  echo "fuzz: FAILED: seed generation failed (log: $logs/seeds.log)"
  exit 1
fi

# ---- committed corpora: nothing copied from the fixtures -------------------------------------
committed="$root/tests/fuzz/corpus"
if [ -d "$committed" ]; then
  copies=$(python3 - "$committed" "$fixtures" <<'PY'
import hashlib, os, sys
def files(d):
    for dp, _, fs in os.walk(d):
        for f in fs:
            yield os.path.join(dp, f)
corpus = {}
for p in files(sys.argv[1]):
    corpus.setdefault(os.path.getsize(p), []).append(p)
digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
for p in files(sys.argv[2]):
    same = corpus.get(os.path.getsize(p), [])
    if same:
        h = digest(p)
        for c in same:
            if digest(c) == h:
                print(f"{c} (= {p})")
PY
)
  if [ -n "$copies" ]; then
    echo "$copies" | sed 's/^/    /'
    echo "fuzz: FAILED: committed corpus files above are copies of fixture files; remove them"
    exit 1
  fi
fi

# ---- run --------------------------------------------------------------------------------------
exe_of() { find "$build" -type f -name "$1" -perm -u+x -not -path '*/CMakeFiles/*' | head -n 1; }
symbolizer="$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)"

# run_one NAME: runs one fuzzer; writes its log and "RESULT RUNS SECONDS" to logs/result-NAME.
run_one() {
  local t="$1" exe log res n s rc t0
  exe="$(exe_of "$t")"
  log="$logs/run-$t.log"
  mkdir -p "$build/corpus/$t" "$build/seeds/$t"
  t0=$(date +%s)
  # Replay: every committed input once (-runs=0 stops after the initial corpus pass).
  if [ -d "$committed/$t" ]; then
    ( cd "$build" && ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:allocator_may_return_null=1${symbolizer:+:external_symbolizer_path=$symbolizer}" \
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${symbolizer:+:external_symbolizer_path=$symbolizer}" \
        timeout -k 10 $((input_timeout + 600)) "$exe" -runs=0 -rss_limit_mb="$rss_mb" -timeout="$input_timeout" \
        -artifact_prefix="$build/artifacts/$t-replay-" "$committed/$t" ) >"$logs/replay-$t.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ] || ! grep -q '^Done [0-9]* runs' "$logs/replay-$t.log"; then
      cp "$logs/replay-$t.log" "$log"
      echo "REPLAY-FAILED 0 $(( $(date +%s) - t0 ))" >"$logs/result-$t"
      return
    fi
  fi
  local corpora=("$build/corpus/$t" "$build/seeds/$t")
  [ -d "$committed/$t" ] && corpora+=("$committed/$t")
  ( cd "$build" && ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:allocator_may_return_null=1${symbolizer:+:external_symbolizer_path=$symbolizer}" \
      UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${symbolizer:+:external_symbolizer_path=$symbolizer}" \
      timeout -k 10 $((secs + input_timeout + 120)) "$exe" -max_total_time="$secs" -rss_limit_mb="$rss_mb" \
      -timeout="$input_timeout" -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
      "${corpora[@]}" ) >"$log" 2>&1
  rc=$?
  s=$(( $(date +%s) - t0 ))
  n=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  [ -n "$n" ] || n=$(sed -nE 's/^#([0-9]+)[[:space:]].*/\1/p' "$log" | tail -n 1)
  [ -n "$n" ] || n=0
  if [ $rc -eq 0 ] && grep -q '^Done [0-9]* runs' "$log"; then res=ok
  elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then res=HANG
  elif grep -q 'ERROR: libFuzzer: out-of-memory\|ERROR: libFuzzer: malloc' "$log"; then res=OOM
  elif grep -q 'ERROR: LeakSanitizer' "$log"; then res=LEAK
  elif grep -q 'Test unit written to\|ERROR: AddressSanitizer\|runtime error:\|ERROR: libFuzzer' "$log"; then res=CRASH
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then res=KILLED
  else res="ERROR(rc=$rc)"; fi
  echo "$res $n $s" >"$logs/result-$t"
}

# Show what a failing run found: the input in hex, the sanitizer summary and the top frames.
report_failure() {
  local t="$1" log="$logs/run-$1.log" art
  art=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)
  if [ -n "$art" ] && [ -f "$art" ]; then
    echo "    input: $art ($(stat -c %s "$art") bytes)"
    echo "    hex:   $(head -c 512 "$art" | od -An -v -tx1 | tr -d ' \n')$([ "$(stat -c %s "$art")" -gt 512 ] && echo ...)"
  fi
  grep -m 3 -E '^SUMMARY:|runtime error:|ERROR: libFuzzer|==ERROR' "$log" | sed 's/^/    /'
  # The first stack's frames, without libFuzzer's own and the build ids.
  awk '/^ +#[0-9]+ 0x/ { f = 1; print; next } f { exit }' "$log" | grep -v -E ' in (fuzzer::|main |__libc_start|_start )' | head -n 8 |
    sed -E 's/^ */    /; s/ \(BuildId: [0-9a-f]+\)//'
  echo "    log:   $log"
}

echo "fuzz: running ${#runnable[@]} targets for ${secs}s each, $jobs at a time (fixtures: $fixtures)"
active=0
for t in "${runnable[@]}"; do
  if [ $active -ge "$jobs" ]; then wait -n; active=$((active - 1)); fi
  rm -f "$logs/result-$t"
  run_one "$t" &
  active=$((active + 1))
done
wait

# ---- summary ----------------------------------------------------------------------------------
failed=0; build_failed=0; total_runs=0
for t in "${targets[@]}"; do
  if [ -z "${result[$t]:-}" ]; then
    if [ -f "$logs/result-$t" ]; then read -r r n s <"$logs/result-$t"; else r="ERROR(no result)"; n=0; s=0; fi
    result[$t]=$r; runs[$t]=$n; took[$t]=$s
  fi
  printf '%-24s %-13s runs=%-10s secs=%s\n' "$t" "${result[$t]}" "${runs[$t]}" "${took[$t]}"
  total_runs=$((total_runs + ${runs[$t]}))
  case "${result[$t]}" in
    ok) ;;
    BUILD-FAILED)
      failed=$((failed + 1)); build_failed=$((build_failed + 1))
      grep -m 5 -E 'error:|Error [0-9]|undefined reference' "$logs/build-$t.log" | sed 's/^/    /'
      echo "    log:   $logs/build-$t.log" ;;
    *) failed=$((failed + 1)); report_failure "$t" ;;
  esac
done
elapsed=$(( $(date +%s) - start ))
if [ $failed -eq 0 ]; then
  echo "fuzz: OK: ${#targets[@]} targets, $total_runs runs, ${secs}s each; build ${build_secs}s, total ${elapsed}s"
  echo "fuzz: ${#targets[@]} passed, 0 failed"
  exit 0
fi
echo "fuzz: FAILED: $failed of ${#targets[@]} targets ($build_failed did not build); $total_runs runs; build ${build_secs}s, total ${elapsed}s"
echo "fuzz: $(( ${#targets[@]} - failed )) passed, $failed failed"
exit 1
