#!/usr/bin/env python3
"""A small stand-in of Azure Blob Storage for the end-to-end tests, on 127.0.0.1.

It speaks the subset sealsum uses: List Blobs (GET /CONTAINER?restype=container&comp=list, XML,
three names a page with NextMarker), Get Blob (GET /CONTAINER/NAME) and Put Blob (PUT
/CONTAINER/NAME with x-ms-blob-type: BlockBlob; If-None-Match: * refuses an existing blob with 409).
Every request must carry the SAS query given with --sig (and sp with r for reads, w for writes),
else 403. GET /_stats (no SAS) answers {"puts": N}. Blobs are kept in memory, preloaded from
--preload DIR (its regular files, by name). Prints "http://127.0.0.1:PORT/CONTAINER" on stdout.

usage: blob_standin.py --container NAME --sig SIG [--preload DIR]
"""
import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--container", required=True)
    ap.add_argument("--sig", required=True)
    ap.add_argument("--preload")
    args = ap.parse_args()
    blobs = {}
    if args.preload:
        for name in sorted(os.listdir(args.preload)):
            path = os.path.join(args.preload, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    blobs[name] = f.read()
    lock = threading.Lock()
    stats = {"puts": 0}
    prefix = "/" + args.container

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def answer(self, status, body=b"", ctype="application/xml"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def error(self, status, code):
            self.answer(status, f"<Error><Code>{code}</Code></Error>".encode())

        def authorized(self, query, write):
            sp = query.get("sp", [""])[0]
            if query.get("sig", [""])[0] == args.sig and ("w" if write else "r") in sp:
                return True
            self.error(403, "AuthorizationPermissionMismatch")
            return False

        def do_GET(self):
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == "/_stats":
                return self.answer(200, json.dumps(stats).encode(), "application/json")
            if not self.authorized(query, False):
                return
            if url.path == prefix:
                if query.get("restype") != ["container"] or query.get("comp") != ["list"]:
                    return self.error(400, "InvalidQueryParameterValue")
                start = int(query.get("marker", ["page-0"])[0][5:])
                with lock:
                    names = sorted(blobs)
                page = "".join(f"<Blob><Name>{n}</Name><Properties/></Blob>" for n in names[start:start + PAGE])
                marker = f"page-{start + PAGE}" if start + PAGE < len(names) else ""
                xml = ('<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>' + page +
                       f"</Blobs><NextMarker>{marker}</NextMarker></EnumerationResults>")
                return self.answer(200, xml.encode())
            if url.path.startswith(prefix + "/"):
                with lock:
                    body = blobs.get(url.path[len(prefix) + 1:])
                if body is None:
                    return self.error(404, "BlobNotFound")
                return self.answer(200, body, "application/octet-stream")
            self.error(404, "ContainerNotFound")

        def do_PUT(self):
            url = urlsplit(self.path)
            if not self.authorized(parse_qs(url.query), True):
                return
            if not url.path.startswith(prefix + "/") or self.headers.get("x-ms-blob-type") != "BlockBlob":
                return self.error(400, "MissingRequiredHeader")
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            name = url.path[len(prefix) + 1:]
            with lock:
                if self.headers.get("If-None-Match") == "*" and name in blobs:
                    return self.error(409, "BlobAlreadyExists")
                blobs[name] = body
                stats["puts"] += 1
            self.answer(201)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}{prefix}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
