#!/usr/bin/env python3
"""Checks an OCI image archive (deploy/build-image.sh output) is the hardened sealsum image.

    inspect_image.py IMAGE.oci.tar

Checks: exactly one image in index.json; every blob's sha256 matches its digest; the config's
User is numeric, not uid 0, and a user of the image's /etc/passwd; Entrypoint is an exec-form
list whose program is in the image; no shell or busybox anywhere (bin/sh, bash, dash, ...);
the only executables are one sealsum program (sealsum-serve, or the broker's sealsum-kbs) and the
dynamic loader; every layer entry has
mtime 0 and owner 0:0; no setuid/setgid file. Prints one line per failed check and exits 1 on
any failure, else prints a summary and exits 0. Bounded: refuses archives over 2 GiB.
"""
import gzip
import hashlib
import io
import json
import sys
import tarfile

SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh", "csh", "tcsh", "busybox", "toybox"}
MAX_ARCHIVE = 2 << 30


def main(path):
    problems = []
    with open(path, "rb") as f:
        data = f.read(MAX_ARCHIVE + 1)
    if len(data) > MAX_ARCHIVE:
        print("FAIL archive larger than 2 GiB")
        return 1
    outer = tarfile.open(fileobj=io.BytesIO(data))
    files = {m.name.lstrip("./"): outer.extractfile(m).read() for m in outer.getmembers() if m.isfile()}
    blobs = {}
    for name, body in files.items():
        if name.startswith("blobs/sha256/"):
            want = name.rsplit("/", 1)[1]
            if hashlib.sha256(body).hexdigest() != want:
                problems.append(f"blob {want} does not match its digest")
            blobs["sha256:" + want] = body
    index = json.loads(files["index.json"])
    if len(index.get("manifests", [])) != 1:
        problems.append(f"index.json lists {len(index.get('manifests', []))} images, not 1")
    manifest = json.loads(blobs[index["manifests"][0]["digest"]])
    config = json.loads(blobs[manifest["config"]["digest"]])
    cfg = config.get("config", {})

    entries = {}
    for layer in manifest["layers"]:
        body = blobs[layer["digest"]]
        if layer["mediaType"].endswith("+gzip"):
            body = gzip.decompress(body)
        for m in tarfile.open(fileobj=io.BytesIO(body)).getmembers():
            entries[m.name.lstrip("./").rstrip("/")] = m
    for name, m in sorted(entries.items()):
        base = name.rsplit("/", 1)[-1]
        if base in SHELLS:
            problems.append(f"the image holds a shell or busybox: /{name}")
        if m.mtime != 0 or m.uid != 0 or m.gid != 0:
            problems.append(f"/{name}: mtime {m.mtime}, owner {m.uid}:{m.gid} (want 0, 0:0)")
        if m.mode & 0o6000:
            problems.append(f"/{name}: setuid/setgid")
    executables = sorted(n for n, m in entries.items() if m.isfile() and m.mode & 0o111)
    # One program: sealsum-serve (the TEE image) or sealsum-kbs (the broker's); never the full CLI.
    allowed = {"usr/local/bin/sealsum-serve", "usr/local/bin/sealsum-kbs"}
    for n in executables:
        if n not in allowed and not n.rsplit("/", 1)[-1].startswith("ld-linux"):
            problems.append(f"unexpected executable /{n}")
    for n in ("bin/sh", "usr/bin/sh"):
        if n in entries:
            problems.append(f"/{n} exists")

    user = str(cfg.get("User", ""))
    uid = user.split(":", 1)[0]
    if not uid.isdigit():
        problems.append(f"config User '{user}' is not numeric")
    elif int(uid) == 0:
        problems.append("config User is root (uid 0)")
    else:
        passwd = layer_file(blobs, manifest, "etc/passwd")
        uids = {line.split(":")[2] for line in passwd.splitlines() if line.count(":") >= 6}
        if uid not in uids:
            problems.append(f"uid {uid} is not in the image's /etc/passwd")
    ep = cfg.get("Entrypoint")
    if not isinstance(ep, list) or not ep or not ep[0].startswith("/"):
        problems.append(f"Entrypoint {ep!r} is not an exec-form list with an absolute program")
    elif ep[0].lstrip("/") not in entries:
        problems.append(f"Entrypoint program {ep[0]} is not in the image")
    if config.get("created") not in (None, "1970-01-01T00:00:00Z"):
        problems.append(f"config created {config.get('created')}, not the epoch")

    for p in problems:
        print("FAIL " + p)
    if problems:
        return 1
    print(f"image ok: user {user}, entrypoint {ep}, {len(entries)} entries, executables {executables}")
    return 0


def layer_file(blobs, manifest, name):
    """The text of file `name` from the (last) layer that holds it."""
    for layer in reversed(manifest["layers"]):
        body = blobs[layer["digest"]]
        if layer["mediaType"].endswith("+gzip"):
            body = gzip.decompress(body)
        t = tarfile.open(fileobj=io.BytesIO(body))
        for m in t.getmembers():
            if m.name.lstrip("./") == name and m.isfile():
                return t.extractfile(m).read().decode("utf-8", "replace")
    return ""


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: inspect_image.py IMAGE.oci.tar", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
