#!/usr/bin/env bash
# Refreshes the committed fuzz corpora (tests/fuzz/corpus/NAME) from what tools/fuzz.sh (or a
# longer run) found: libFuzzer -merge=1 of the committed corpus, BUILD/corpus/NAME and
# BUILD/seeds/NAME into a new directory, keeping only inputs that add coverage. Then drops every
# file byte-identical to a fixture file (the fixtures are never copied into the repository) and
# checks the size caps. Development tool, not run by CI.
#
# Usage: tools/fuzz_merge.sh TARGET...        (targets built in BUILD by tools/fuzz.sh)
# Env:   FUZZ_BUILD (default build-fuzz), SEALSUM_FIXTURES (default ../shared),
#        MERGE_MAX_LEN   -max_len for the merge (default 65536: bigger inputs are left out),
#        MERGE_FLAGS     extra libFuzzer flags for the merge (e.g. -use_counters=0: edges only, fewer files)
#        MERGE_MAX_FILES / MERGE_MAX_KIB  caps per target (default 300 files, 2048 KiB); over a cap
#                        the target's corpus is not replaced (exit 1)
# Exit:  0 when every target's corpus was replaced; 1 otherwise.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${FUZZ_BUILD:-$root/build-fuzz}"
fixtures="$(cd "${SEALSUM_FIXTURES:-$root/../shared}" && pwd)" || exit 1
max_len="${MERGE_MAX_LEN:-65536}"
max_files="${MERGE_MAX_FILES:-300}"
max_kib="${MERGE_MAX_KIB:-2048}"
[ $# -gt 0 ] || { echo "usage: tools/fuzz_merge.sh TARGET..." >&2; exit 2; }
# Hashes of every fixture file, to drop copies.
fixture_hashes="$(find "$fixtures" -type f -exec sha256sum {} + | cut -d' ' -f1 | sort -u)"
failed=0
for t in "$@"; do
  exe="$(find "$build" -type f -name "$t" -perm -u+x -not -path '*/CMakeFiles/*' | head -n 1)"
  [ -n "$exe" ] || { echo "$t: not built in $build"; failed=1; continue; }
  repo="$root/tests/fuzz/corpus/$t"
  new="$build/merge/$t"
  rm -rf "$new"; mkdir -p "$new" "$repo"
  inputs=("$repo")
  for d in "$build/corpus/$t" "$build/seeds/$t"; do [ -d "$d" ] && inputs+=("$d"); done
  if ! nice -n 19 "$exe" -merge=1 ${MERGE_FLAGS:-} -max_len="$max_len" -rss_limit_mb=2048 -timeout=60 "$new" "${inputs[@]}" \
      >"$build/merge/$t.log" 2>&1; then
    echo "$t: merge failed (a crash? log: $build/merge/$t.log)"; failed=1; continue
  fi
  dropped=0
  for f in "$new"/*; do
    [ -f "$f" ] || continue
    if grep -qx "$(sha256sum "$f" | cut -d' ' -f1)" <<<"$fixture_hashes"; then rm -f "$f"; dropped=$((dropped + 1)); fi
  done
  n=$(find "$new" -type f | wc -l)
  kib=$(du -sk --apparent-size "$new" | cut -f1)
  if [ "$n" -gt "$max_files" ] || [ "$kib" -gt "$max_kib" ]; then
    echo "$t: merged corpus has $n files, $kib KiB: over the caps ($max_files, $max_kib KiB); try a smaller MERGE_MAX_LEN"
    failed=1; continue
  fi
  rm -rf "$repo"; mkdir -p "$repo"
  cp "$new"/* "$repo"/ 2>/dev/null || true
  echo "$t: $n files, $kib KiB ($dropped fixture copies dropped); $(sed -nE 's/^MERGE-OUTER: [0-9]+ new files with ([0-9]+) new features added; ([0-9]+) new coverage edges/ft: \1 cov: \2/p' "$build/merge/$t.log" | tail -n 1)"
done
exit $failed
