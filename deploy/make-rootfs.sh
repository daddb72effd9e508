#!/usr/bin/env bash
# Assembles the root filesystem of the sealsum image from a built binary:
#   deploy/make-rootfs.sh BINARY OUTDIR [CA_BUNDLE]
# OUTDIR (created, must not exist) receives exactly:
#   usr/local/bin/PROGRAM                 the binary; PROGRAM is $SEALSUM_IMAGE_PROGRAM, default
#                                         sealsum-serve (the TEE image; sealsum-kbs for the broker's)
#   <each path ldd names>                 the shared libraries it needs, and the dynamic loader
#   etc/ssl/certs/ca-certificates.crt     the CA bundle (default: the build host's Debian bundle)
#   etc/passwd, etc/group                 one non-root user, sealsum (uid/gid 65532), no login shell
#   tmp/                                  empty, mode 1777
# No shell, no package manager, no other executable. Every entry gets mtime 0 (1970-01-01) and
# normalized modes so that the same inputs give byte-identical layers. Used by the Dockerfile's
# build stage and by deploy/build-image.sh, so both produce the same tree.
# Fails (exit 1, message on stderr) when the binary is missing, ldd cannot resolve a library, or
# OUTDIR already exists.
set -euo pipefail
bin="${1:?usage: make-rootfs.sh BINARY OUTDIR [CA_BUNDLE]}"
out="${2:?usage: make-rootfs.sh BINARY OUTDIR [CA_BUNDLE]}"
ca="${3:-/etc/ssl/certs/ca-certificates.crt}"
uid=65532
program="${SEALSUM_IMAGE_PROGRAM:-sealsum-serve}"
case "$program" in sealsum-serve|sealsum-kbs) ;; *) echo "make-rootfs: SEALSUM_IMAGE_PROGRAM must be sealsum-serve or sealsum-kbs" >&2; exit 1 ;; esac
die() { echo "make-rootfs: $*" >&2; exit 1; }
[ -x "$bin" ] || die "binary '$bin' is missing or not executable; build the sealsum-serve target first"
[ -f "$ca" ] || die "CA bundle '$ca' is missing; install Debian's ca-certificates"
[ ! -e "$out" ] || die "'$out' already exists; give a new directory"

mkdir -p "$out/usr/local/bin" "$out/etc/ssl/certs" "$out/tmp"
install -m 0755 "$bin" "$out/usr/local/bin/$program"

# Shared libraries: every "=> /path" of ldd, plus the loader line (an absolute path, no arrow).
# A "not found" line means the binary cannot run in the image: refuse.
ldd_out="$(ldd "$bin")" || die "ldd failed on '$bin' (not a dynamic executable?)"
if grep -q "not found" <<<"$ldd_out"; then die "ldd cannot resolve: $(grep 'not found' <<<"$ldd_out" | tr -s ' \t' ' ')"; fi
libs="$(awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$ldd_out" | sort -u)"
[ -n "$libs" ] || die "ldd named no libraries for '$bin'"
for lib in $libs; do
  mkdir -p "$out$(dirname "$lib")"
  # Copy the file the path resolves to, under the path the loader looks for (no symlinks kept).
  install -m 0644 "$(readlink -f "$lib")" "$out$lib"
done
# The loader must be executable (it is the ELF interpreter).
interp="$(awk '$1 ~ /^\// {print $1}' <<<"$ldd_out")"
[ -n "$interp" ] && chmod 0755 "$out$interp"

install -m 0644 "$ca" "$out/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/:/nonexistent\nsealsum:x:%d:%d:sealsum:/nonexistent:/nonexistent\n' "$uid" "$uid" >"$out/etc/passwd"
printf 'root:x:0:\nsealsum:x:%d:\n' "$uid" >"$out/etc/group"
chmod 0644 "$out/etc/passwd" "$out/etc/group"

# Normalize: directories 0755 (tmp 1777), owner root, mtime 0.
find "$out" -type d -exec chmod 0755 {} +
chmod 1777 "$out/tmp"
[ "$(id -u)" = 0 ] && chown -R 0:0 "$out"
find "$out" -exec touch -h -d @0 {} +
