#!/usr/bin/env bash
# Builds the sealsum image offline, from an already built binary, reproducibly:
#   deploy/build-image.sh [--binary PATH] [--out DIR] [--tool auto|buildah|python] [--program NAME]
# Writes DIR/rootfs/ (deploy/make-rootfs.sh), DIR/sealsum.oci.tar (an OCI image archive) and
# DIR/digest (the manifest digest, "sha256:<hex>"), and prints the digest on stdout.
#
# --tool buildah: Debian's buildah (vfs storage in DIR, no daemon, no base image) builds the final
#   stage of deploy/Dockerfile (FROM scratch, COPY rootfs, ENV, USER, ENTRYPOINT) with
#   `--timestamp 0`, which sets the image's creation time and every layer file's mtime to the epoch.
# --tool python: deploy/oci_image.py writes the OCI layout by hand (deterministic tar, sha256 blobs).
# --tool auto (default): buildah when `buildah from scratch` works here (it needs root or user
#   namespaces), else python.
# The image holds one program, /usr/local/bin/NAME, its entrypoint: --program sealsum-serve (the
# default: the TEE image, whose binary the measurement covers) or sealsum-kbs (the broker's image).
# Defaults: --binary build/tools/cli/NAME, --out build/image. Exit 1 with a message on failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin=""; out="$root/build/image"; tool=auto; program=sealsum-serve
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) bin="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --tool) tool="$2"; shift 2 ;;
    --program) program="$2"; shift 2 ;;
    *) echo "usage: build-image.sh [--binary PATH] [--out DIR] [--tool auto|buildah|python] [--program NAME]" >&2; exit 2 ;;
  esac
done
case "$program" in sealsum-serve|sealsum-kbs) ;; *) echo "build-image: --program must be sealsum-serve or sealsum-kbs" >&2; exit 2 ;; esac
[ -n "$bin" ] || bin="$root/build/tools/cli/$program"
die() { echo "build-image: $*" >&2; exit 1; }
# The image settings, shared by both tools (and equal to deploy/Dockerfile's final stage).
user=65532:65532
env_cert=SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
entrypoint="[\"/usr/local/bin/$program\"]"
cmd='["--help"]'

rm -rf "$out"; mkdir -p "$out"
out="$(cd "$out" && pwd)"
SEALSUM_IMAGE_PROGRAM="$program" "$root/deploy/make-rootfs.sh" "$bin" "$out/rootfs"

buildah_works() {
  command -v buildah >/dev/null || return 1
  local c
  c="$(buildah "${bopts[@]}" from scratch 2>/dev/null)" || return 1
  buildah "${bopts[@]}" rm "$c" >/dev/null 2>&1 || true
}
bopts=(--storage-driver vfs --root "$out/storage" --runroot "$out/runroot")
if [ "$tool" = auto ]; then
  if buildah_works; then tool=buildah; else tool=python; echo "build-image: buildah unavailable here, using oci_image.py" >&2; fi
fi

case "$tool" in
  buildah)
    mkdir -p "$out/context"
    mv "$out/rootfs" "$out/context/rootfs"
    cat >"$out/context/Containerfile" <<CF
FROM scratch
COPY rootfs/ /
ENV ${env_cert}
USER ${user}
EXPOSE 8443/tcp
ENTRYPOINT ${entrypoint}
CMD ${cmd}
CF
    buildah "${bopts[@]}" build --quiet --timestamp 0 --format oci --layers=false --no-cache \
      -t localhost/sealsum:build -f "$out/context/Containerfile" "$out/context" >/dev/null \
      || die "buildah build failed"
    rm -f "$out/sealsum.oci.tar"
    buildah "${bopts[@]}" push --quiet --disable-compression localhost/sealsum:build \
      "oci-archive:$out/sealsum.oci.tar" >/dev/null || die "buildah push to an OCI archive failed"
    buildah "${bopts[@]}" rmi -a -f >/dev/null 2>&1 || true
    rm -rf "$out/storage" "$out/runroot"
    mv "$out/context/rootfs" "$out/rootfs"; rm -rf "$out/context"
    # The manifest digest, from the archive's index.json.
    digest="$(tar -xOf "$out/sealsum.oci.tar" index.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifests"][0]["digest"])')"
    ;;
  python)
    # PATH as buildah (and docker) set it by default for a scratch image, so both tools agree.
    digest="$(python3 "$root/deploy/oci_image.py" "$out/rootfs" "$out/sealsum.oci.tar" --user "$user" \
      --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env "$env_cert" --entrypoint "$entrypoint" --cmd "$cmd" --expose 8443/tcp)" || die "oci_image.py failed"
    ;;
  *) die "unknown --tool '$tool' (auto, buildah or python)" ;;
esac
echo "$digest" >"$out/digest"
echo "$tool" >"$out/tool"
echo "$digest"
