#!/usr/bin/env bash
# ctest sealsum_deploy_image: the container image of deploy/ (deploy/build-image.sh) is
# reproducible and hardened.
#   - two builds from the same binary give one image digest (and byte-identical archives), with
#     each available tool: buildah (--timestamp 0) when it runs here, and deploy/oci_image.py;
#   - a changed binary gives another digest;
#   - the image holds no shell, runs as a numeric non-root user, exec-form ENTRYPOINT
#     (inspect_image.py), and the inspector rejects an image with /bin/sh or user root;
#   - the binary runs from the image's root filesystem alone, as uid 65532 (chroot, when root).
# Env: SEALSUM_SERVE_BIN (the sealsum-serve binary, required: the image holds it alone). Prints one
# line per case; exits 1 on failure.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SEALSUM_SERVE_BIN:?set SEALSUM_SERVE_BIN to the sealsum-serve binary}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0; failed=0; skipped=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
skip() { echo "skip $*"; skipped=$((skipped + 1)); }
build() {  # build TOOL OUTDIR [BINARY] -> prints the digest
  "$root/deploy/build-image.sh" --binary "${3:-$bin}" --out "$2" --tool "$1" 2>"$2.log"
}

tools=(python)
if command -v buildah >/dev/null && c="$(buildah --storage-driver vfs --root "$work/probe" --runroot "$work/probe-run" from scratch 2>"$work/probe.log")"; then
  buildah --storage-driver vfs --root "$work/probe" --runroot "$work/probe-run" rm "$c" >/dev/null 2>&1
  tools+=(buildah)
else
  skip "buildah: not installed or cannot run here ($(tail -1 "$work/probe.log" 2>/dev/null || echo 'not installed'))"
fi

for tool in "${tools[@]}"; do
  d1="$(build "$tool" "$work/$tool-1")" || { bad "$tool: first build failed: $(tail -3 "$work/$tool-1.log")"; continue; }
  d2="$(build "$tool" "$work/$tool-2")" || { bad "$tool: second build failed: $(tail -3 "$work/$tool-2.log")"; continue; }
  # The manifest digest covers the config and every layer; the blob lists must match as well.
  # (buildah's archive wrapper carries file times, so only python's archives are compared whole.)
  blobs1="$(tar -tf "$work/$tool-1/sealsum.oci.tar" | grep '^blobs/sha256/.' | sort)"
  blobs2="$(tar -tf "$work/$tool-2/sealsum.oci.tar" | grep '^blobs/sha256/.' | sort)"
  same=1; [ "$tool" = python ] && ! cmp -s "$work/$tool-1/sealsum.oci.tar" "$work/$tool-2/sealsum.oci.tar" && same=0
  if [[ "$d1" =~ ^sha256:[0-9a-f]{64}$ ]] && [ "$d1" = "$d2" ] && [ "$blobs1" = "$blobs2" ] && [ "$same" = 1 ]; then
    ok "$tool: two builds give one digest $d1 ($(wc -l <<<"$blobs1") identical blobs)"
  else
    bad "$tool: two builds differ: $d1 vs $d2"
  fi
  if out="$(python3 "$here/inspect_image.py" "$work/$tool-1/sealsum.oci.tar")"; then
    ok "$tool: $out"
  else
    bad "$tool: image checks: $out"
  fi
done

# A changed binary (one byte appended: still a valid ELF) must change the digest.
cp "$bin" "$work/sealsum-serve-changed"; printf '\0' >>"$work/sealsum-serve-changed"
d3="$(build python "$work/python-3" "$work/sealsum-serve-changed")"
if [ -n "$d3" ] && [ -n "${d1:-}" ] && [ "$d3" != "$(cat "$work/python-1/digest")" ]; then
  ok "a changed binary gives another digest ($d3)"
else
  bad "a changed binary gave the same digest or failed to build"
fi

# The inspector must reject a shell and a root user (so the checks above can fail).
shell_bin="$(command -v dash || command -v bash)"
cp -a "$work/python-1/rootfs" "$work/rootfs-sh"
mkdir -p "$work/rootfs-sh/bin" && cp "$shell_bin" "$work/rootfs-sh/bin/sh"
python3 "$root/deploy/oci_image.py" "$work/rootfs-sh" "$work/with-sh.tar" >/dev/null
if out="$(python3 "$here/inspect_image.py" "$work/with-sh.tar")"; then bad "an image with /bin/sh passed: $out"
else ok "rejects an image with /bin/sh ($(head -1 <<<"$out"))"; fi
python3 "$root/deploy/oci_image.py" "$work/python-1/rootfs" "$work/root-user.tar" --user 0:0 >/dev/null
if out="$(python3 "$here/inspect_image.py" "$work/root-user.tar")"; then bad "an image running as root passed: $out"
else ok "rejects an image whose user is root ($(head -1 <<<"$out"))"; fi

# The root filesystem alone runs the binary, as the image's user; it has no shell to run.
rootfs="$work/python-1/rootfs"
if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null && chroot "$rootfs" /usr/local/bin/sealsum-serve version >/dev/null 2>&1; then
  if v="$(chroot --userspec=65532:65532 "$rootfs" /usr/local/bin/sealsum-serve version 2>&1)"; then
    ok "the binary runs in the image's root filesystem as uid 65532: $(head -1 <<<"$v")"
  else
    bad "the binary does not run as uid 65532 in the root filesystem: $v"
  fi
  if chroot "$rootfs" /bin/sh -c true 2>/dev/null; then bad "/bin/sh runs in the root filesystem"
  else ok "no /bin/sh to run in the root filesystem"; fi
else
  skip "chroot run: needs root and chroot (uid $(id -u))"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
