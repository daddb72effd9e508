#!/usr/bin/env python3
"""Documents per second of `sealsum serve --dev` with 1 and with N concurrent clients (not a test).

Starts the server on a plaintext model, then for each client count runs that many clients, each
sending the corpus documents ({"text": ...} from ../shared/corpus/*.jsonl, field "document") in
turn until DOCS documents have been summarized in all, and prints JSON: documents/s per client
count, the ratio to one client, and the server's CPU seconds per document (robust on a shared
machine, where wall time is not). Run it more than once (--repeat) on a busy machine.

  tools/serve_throughput.py --model t5-small.sealsum [--clients 1,8] [--docs 16] [--workers 8]
      [--threads 1] [--num-beams 1] [--max-length 32] [--no-batch-decoding] [--max-encoders N] [--repeat 1]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request


def corpus(path):
    docs = []
    for f in sorted(glob.glob(os.path.join(path, "*.jsonl"))):
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    docs.append(json.loads(line)["document"])
    if not docs:
        sys.exit(f"no documents in {path}/*.jsonl")
    return docs


def post(url, body):
    req = urllib.request.Request(url + "/v1/summarize", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=600) as r:
        answer = json.loads(r.read())
    return answer


def cpu_s(pid):
    """User + system CPU seconds of process pid (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url, docs, clients, total, params, pid):
    lock = threading.Lock()
    state = {"next": 0, "errors": 0, "tokens": 0}

    def client():
        while True:
            with lock:
                i = state["next"]
                if i >= total:
                    return
                state["next"] = i + 1
            body = dict(params, text=docs[i % len(docs)])
            try:
                a = post(url, body)
                with lock:
                    state["tokens"] += int(a.get("output_tokens", 0))
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    state["errors"] += 1
                print(f"request failed: {e}", file=sys.stderr)

    c0 = cpu_s(pid)
    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    cpu = cpu_s(pid) - c0
    return {"clients": clients, "documents": total, "errors": state["errors"], "wall_s": round(wall, 3),
            "documents_per_s": round(total / wall, 4), "server_cpu_s_per_document": round(cpu / total, 3),
            "output_tokens": state["tokens"]}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--sealsum", default=os.path.join(here, "..", "build", "tools", "cli", "sealsum"))
    ap.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "corpus"))
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--docs", type=int, default=16)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--num-beams", type=int, default=1)
    ap.add_argument("--max-length", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-batch-decoding", action="store_true")
    ap.add_argument("--max-encoders", type=int, default=0, help="serve --max-encoders (0: serve's default)")
    a = ap.parse_args()
    docs = corpus(a.corpus)
    cmd = [a.sealsum, "serve", "--model", a.model, "--dev", "--port", "0", "--workers", str(a.workers),
           "--queue", "64", "--threads", str(a.threads), "--read-timeout", "600"]
    if a.no_batch_decoding:
        cmd.append("--no-batch-decoding")
    if a.max_encoders:
        cmd += ["--max-encoders", str(a.max_encoders)]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        first = server.stdout.readline().strip()
        url = first.split()[-1] if first else ""
        if not url.startswith("http"):
            sys.exit(f"serve did not print its URL (got {first!r})")
        params = {"num_beams": a.num_beams, "max_length": a.max_length}
        run(url, docs, 1, 1, params, server.pid)  # warm-up
        results = []
        for _ in range(a.repeat):
            for c in [int(x) for x in a.clients.split(",")]:
                results.append(run(url, docs, c, a.docs, params, server.pid))
        base = [r["documents_per_s"] for r in results if r["clients"] == 1]
        one = max(base) if base else None
        for r in results:
            if one:
                r["ratio_to_1_client"] = round(r["documents_per_s"] / one, 3)
        print(json.dumps({"command": " ".join(cmd), "params": params, "results": results}, indent=2))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
