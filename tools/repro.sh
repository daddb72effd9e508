#!/usr/bin/env bash
# The auditor's check: build the attested binary from a checkout at another path and compare hashes.
#
# Usage: tools/repro.sh [--against BINARY | --tree BUILD_DIR] [--keep] [TARGET]
#                                                                   (TARGET default: sealsum-serve)
#   Without options: two fresh checkouts of the current commit, at two different paths, are built
#   with the compiler cache off and their TARGET binaries compared (the auditor's recipe).
#   With --against BINARY: one fresh checkout is built and compared with BINARY.
#   With --tree BUILD_DIR (ctest sealsum_repro): BUILD_DIR's TARGET (a checkout at one path) against
#   one fresh checkout at another path, configured with BUILD_DIR's CMAKE_BUILD_TYPE, SEALSUM_TESTS,
#   SEALSUM_WERROR and SEALSUM_DEV_TEE. Only when BUILD_DIR was built without a compiler launcher
#   (CI's tree: tools/setup.sh sets none); a tree built through ccache gets the two-checkout check
#   instead, because its objects may come from a cache shared with other checkouts and edits (a
#   ccache'd developer tree's binary differed from clean builds here while two clean builds agreed).
# Exit: 0 identical (prints the SHA-256), 1 different (prints both hashes and the first differing
#       sections), 2 usage or build failure.
# Uncommitted changes to tracked files are included (`git stash create`); untracked files are not.
# Env: SOURCE_DATE_EPOCH (default: the commit's time; nothing in the binary depends on it today, it
#      is set so that any tool that would stamp a time stamps the same one), REPRO_JOBS (default nproc).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
against="" tree="" keep=0 target=sealsum-serve
while [ $# -gt 0 ]; do
  case "$1" in
    --against) against="${2:?--against needs a binary}"; shift 2 ;;
    --tree) tree="${2:?--tree needs a build directory}"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "repro: unknown option $1" >&2; exit 2 ;;
    *) target="$1"; shift ;;
  esac
done
# The configure options of the fresh checkout(s): the auditor's, or BUILD_DIR's (--tree).
config=(-DCMAKE_BUILD_TYPE=Release -DSEALSUM_TESTS=OFF)
if [ -n "$tree" ]; then
  [ -z "$against" ] || { echo "repro: --against and --tree exclude each other" >&2; exit 2; }
  cache="$tree/CMakeCache.txt"
  [ -f "$cache" ] || { echo "repro: $cache not found; --tree takes a configured build directory" >&2; exit 2; }
  cached() { sed -nE "s/^$1:[A-Z]+=(.*)\$/\1/p" "$cache" | head -n 1; }
  if [ -n "$(cached CMAKE_CXX_COMPILER_LAUNCHER)" ]; then
    echo "repro: $tree compiles through '$(cached CMAKE_CXX_COMPILER_LAUNCHER)': comparing two fresh checkouts instead" >&2
  else
    config=()
    for v in CMAKE_BUILD_TYPE SEALSUM_TESTS SEALSUM_WERROR SEALSUM_DEV_TEE; do
      [ -z "$(cached "$v")" ] || config+=("-D$v=$(cached "$v")")
    done
    against="$(find "$tree" -type f -name "$target" -perm -u+x -not -path '*/CMakeFiles/*' | head -n 1)"
    [ -n "$against" ] || { echo "repro: $target not found under $tree; build it first" >&2; exit 2; }
  fi
fi
if [ -n "$against" ] && [ ! -f "$against" ]; then
  echo "repro: $against does not exist; build it first (cmake --build build --target $target)" >&2
  exit 2
fi

# A git checkout is cloned at the current commit (plus uncommitted changes to tracked files); a tree
# without git (an unpacked source archive) is copied, build directories and node_modules left out.
rev=""
if git -C "$root" rev-parse HEAD >/dev/null 2>&1; then
  rev="$(git -C "$root" stash create 2>/dev/null || true)"
  rev="${rev:-$(git -C "$root" rev-parse HEAD)}"
  export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct HEAD)}"
else
  export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"
fi
export CCACHE_DISABLE=1 LC_ALL=C TZ=UTC
jobs="${REPRO_JOBS:-$(nproc)}"
work="$(mktemp -d "${TMPDIR:-/tmp}/sealsum-repro.XXXXXX")"
cleanup() { [ "$keep" = 1 ] && echo "repro: kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT

# build_at DIR: clone the revision into DIR and build TARGET there; prints the binary's path.
build_at() {
  local src="$1"
  if [ -n "$rev" ]; then
    git clone -q --no-checkout --no-hardlinks "$root" "$src"
    git -C "$src" -c advice.detachedHead=false checkout -q "$rev"
  else
    mkdir -p "$src"
    tar -C "$root" --exclude='./build*' --exclude=./.git --exclude=node_modules -cf - . | tar -C "$src" -xf -
  fi
  cmake -S "$src" -B "$src/build" "${config[@]}" >"$src.configure.log" 2>&1 \
    || { echo "repro: configure failed at $src (log: $src.configure.log)" >&2; cat "$src.configure.log" >&2; exit 2; }
  cmake --build "$src/build" -j"$jobs" --target "$target" >"$src.build.log" 2>&1 \
    || { echo "repro: build failed at $src" >&2; tail -30 "$src.build.log" >&2; exit 2; }
  local bin
  bin="$(find "$src/build" -type f -name "$target" -perm -u+x | head -1)"
  [ -n "$bin" ] || { echo "repro: $target not found under $src/build" >&2; exit 2; }
  echo "$bin"
}

echo "repro: $target at ${rev:0:7}${rev:+, }SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH; configure: ${config[*]}" >&2
echo "repro: $(g++ --version | head -1); $(cmake --version | head -1); $(ld --version | head -1)" >&2
a="$(build_at "$work/a/sealsum")"
if [ -n "$against" ]; then
  b="$against"
else
  b="$(build_at "$work/a-second-checkout-at-a-longer-path/sealsum")"
fi
ha="$(sha256sum "$a" | cut -d' ' -f1)"
hb="$(sha256sum "$b" | cut -d' ' -f1)"
if [ "$ha" = "$hb" ]; then
  echo "repro: identical: sha256 $ha  $target ($(stat -c %s "$a") bytes)"
  exit 0
fi
echo "repro: DIFFERENT: $ha ($a) vs $hb ($b)" >&2
# Name the sections that differ, so the cause (a path, a time, an ordering) can be found.
for s in $(objdump -h "$a" | awk '$1 ~ /^[0-9]+$/ {print $2}'); do
  if ! cmp -s <(objcopy -O binary --only-section="$s" "$a" /dev/stdout 2>/dev/null) \
              <(objcopy -O binary --only-section="$s" "$b" /dev/stdout 2>/dev/null); then
    echo "repro: section $s differs" >&2
  fi
done
strings -n 8 "$a" | grep -n "$work" | head -5 >&2 || true
exit 1
