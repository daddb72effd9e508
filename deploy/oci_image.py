#!/usr/bin/env python3
"""Writes a reproducible OCI image archive from a root filesystem directory, without a container tool.

    oci_image.py ROOTFS OUT.tar [--user UID:GID] [--entrypoint JSON] [--cmd JSON] [--env K=V ...]
                 [--expose PORT/tcp ...]

Contract: the output depends only on the bytes, names, modes and link targets under ROOTFS and on
the arguments. The layer is an uncompressed tar (names sorted, mtime 0, uid/gid 0, no user/group
names, no device numbers); the config says created 1970-01-01T00:00:00Z; the archive is an OCI
image layout (oci-layout, index.json, blobs/sha256/...) tarred the same way. Prints the manifest
digest ("sha256:<hex>"), which is what a registry reports as the image digest. Hard links, devices,
sockets and FIFOs are refused (exit 1): make-rootfs.sh never creates them.
"""
import argparse
import hashlib
import io
import json
import os
import stat
import sys
import tarfile

EPOCH = "1970-01-01T00:00:00Z"


def tar_info(name, mode, kind, size=0, link=""):
    ti = tarfile.TarInfo(name)
    ti.mode, ti.type, ti.size, ti.linkname = mode, kind, size, link
    ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 0, 0, 0, "", ""
    return ti


def layer_tar(root):
    """The rootfs as a deterministic tar (bytes). Raises ValueError on an unsupported entry."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in dirnames + filenames:
            entries.append(os.path.join(dirpath, n))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries, key=lambda p: os.path.relpath(p, root)):
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISDIR(st.st_mode):
                tar.addfile(tar_info(rel + "/", mode, tarfile.DIRTYPE))
            elif stat.S_ISLNK(st.st_mode):
                tar.addfile(tar_info(rel, 0o777, tarfile.SYMTYPE, link=os.readlink(path)))
            elif stat.S_ISREG(st.st_mode):
                if st.st_nlink > 1:
                    raise ValueError(f"{rel}: hard links are not supported")
                with open(path, "rb") as f:
                    tar.addfile(tar_info(rel, mode, tarfile.REGTYPE, st.st_size), f)
            else:
                raise ValueError(f"{rel}: unsupported file type")
    return buf.getvalue()


def blob(blobs, data, media_type):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rootfs")
    ap.add_argument("out")
    ap.add_argument("--user", default="65532:65532")
    ap.add_argument("--entrypoint", default='["/usr/local/bin/sealsum"]')
    ap.add_argument("--cmd", default='["--help"]')
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--expose", action="append", default=[])
    a = ap.parse_args()
    try:
        layer = layer_tar(a.rootfs)
    except (OSError, ValueError) as e:
        print(f"oci_image: {e}", file=sys.stderr)
        return 1
    blobs = {}
    layer_desc = blob(blobs, layer, "application/vnd.oci.image.layer.v1.tar")
    config = {
        "created": EPOCH,
        "architecture": "amd64",
        "os": "linux",
        "config": {"User": a.user, "Env": a.env, "Entrypoint": json.loads(a.entrypoint), "Cmd": json.loads(a.cmd),
                   "ExposedPorts": {p: {} for p in a.expose}, "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
        "history": [{"created": EPOCH, "created_by": "deploy/oci_image.py: rootfs of deploy/make-rootfs.sh"}],
    }
    config_desc = blob(blobs, canonical(config), "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_desc, "layers": [layer_desc]}
    manifest_desc = blob(blobs, canonical(manifest), "application/vnd.oci.image.manifest.v1+json")
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [manifest_desc]}
    files = {"oci-layout": canonical({"imageLayoutVersion": "1.0.0"}), "index.json": canonical(index)}
    for d, data in blobs.items():
        files["blobs/sha256/" + d.split(":", 1)[1]] = data
    with open(a.out, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for d in ("blobs/", "blobs/sha256/"):
            tar.addfile(tar_info(d, 0o755, tarfile.DIRTYPE))
        for name in sorted(files):
            tar.addfile(tar_info(name, 0o644, tarfile.REGTYPE, len(files[name])), io.BytesIO(files[name]))
    print(manifest_desc["digest"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
