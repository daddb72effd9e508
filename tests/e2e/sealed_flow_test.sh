#!/usr/bin/env bash
# End-to-end, sealed-model local flow (simulated TEE), every step a separate `sealsum` process:
#   model owner  generates a key, converts tiny-random-t5 with `convert --seal` (no plaintext model
#                on disk), and registers the key with the broker (`sealsum kbs`) under a policy
#                naming the simulated TEE's measurement (SHA-384 of the binary) with allow_simulated;
#   engine       `summarize --kbs URL --insecure-simulated-tee` proves itself, receives the key and
#                summarizes a corpus article with the sealed model;
#   impostor     the same engine claiming a different measurement is refused, naming the check.
# Then: no file under the scanned directory (keys, sealed model, broker store, audit log, outputs,
# logs) contains plaintext model bytes or the raw key bytes; and `sealsum unseal` of the sealed
# model equals an unsealed conversion byte for byte. The reference (plaintext) conversion and the
# unsealed copy live in $WORK/ref, which is not scanned.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
: "${SEALSUM_BIN:?SEALSUM_BIN must point at the sealsum binary (ctest sets it)}"
FIXTURES="${SEALSUM_FIXTURES:-${SEALSUM_FIXTURES_DEFAULT:-}}"
[ -d "$FIXTURES/models/tiny-random-t5" ] || fail "fixtures not found (set SEALSUM_FIXTURES): '$FIXTURES'"
S="$SEALSUM_BIN"
WORK="$(mktemp -d /tmp/sealsum-sealed-flow.XXXXXX)"
kbs_PID=""
cleanup() {
  if [ -n "$kbs_PID" ]; then kill -TERM "$kbs_PID" 2>/dev/null || true; wait "$kbs_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The simulated TEE's MEASUREMENT: SHA-384 of the sealsum binary (secure/attest/simulated.h).
measurement() { sha384sum "$S" | cut -d' ' -f1; }

# setup_broker: key store + policy naming this binary's measurement (simulated TEE allowed: a local
# test), and `kbs serve --port 0`, whose first stdout line names the URL (waits at most 30 s).
setup_broker() {
  mkdir -p "$WORK/broker"
  "$S" kbs init --store "$WORK/broker/store" --broker-key "$WORK/broker/broker.key" 2>/dev/null
  printf '{"measurements":["%s"],"allow_simulated":true}\n' "$(measurement)" >"$WORK/broker/policy.json"
  "$S" kbs serve --store "$WORK/broker/store" --broker-key "$WORK/broker/broker.key" --port 0 \
    >"$WORK/broker/serve.out" 2>"$WORK/broker/serve.err" &
  kbs_PID=$!
  for _ in $(seq 1 300); do
    if [ -s "$WORK/broker/serve.out" ]; then
      KBS_URL="$(head -n1 "$WORK/broker/serve.out")"; KBS_URL="${KBS_URL#listening on }"; return 0
    fi
    kill -0 "$kbs_PID" 2>/dev/null || { cat "$WORK/broker/serve.err" >&2; fail "kbs serve exited early"; }
    sleep 0.1
  done
  fail "kbs serve did not start within 30 s"
}

# register KEYFILE: the owner registers a sealing key with the broker under policy.json.
register() {
  "$S" kbs register --store "$WORK/broker/store" --broker-key "$WORK/broker/broker.key" --key "$1" \
    --policy "$WORK/broker/policy.json" >/dev/null 2>"$WORK/broker/register.err" \
    || { cat "$WORK/broker/register.err" >&2; fail "kbs register failed"; }
}
mkdir -p "$WORK"/{owner,engine,ref}
REF="$WORK/ref"
ARTICLE="$WORK/engine/article.txt"
python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["document"])' \
  "$FIXTURES/corpus/cnn-articles.jsonl" >"$ARTICLE"
[ -s "$ARTICLE" ] || fail "could not extract a corpus article"

# Model owner: key, sealed conversion, broker registration.
"$S" keygen -o "$WORK/owner/model.key" --kid tiny-t5-model >/dev/null
"$S" convert "$FIXTURES/models/tiny-random-t5" --seal "$WORK/owner/model.key" -o "$WORK/engine/model.sealed" \
  2>"$WORK/owner/convert.err" || { cat "$WORK/owner/convert.err" >&2; fail "convert --seal failed"; }
[ "$(head -c 7 "$WORK/engine/model.sealed")" = "SEALSUM" ] || fail "convert --seal did not write a sealed file"
setup_broker
register "$WORK/owner/model.key"
case "$KBS_URL" in http://127.0.0.1:[0-9]*) echo "broker at $KBS_URL" ;; *) fail "unexpected kbs serve banner: $KBS_URL" ;; esac

# The engine, in the simulated TEE with the registered measurement: key released, summary produced.
timeout 300 "$S" summarize --model "$WORK/engine/model.sealed" --kbs "$KBS_URL" --insecure-simulated-tee \
  --input "$ARTICLE" --json >"$WORK/engine/summary.json" 2>"$WORK/engine/summarize.err" \
  || { cat "$WORK/engine/summarize.err" >&2; fail "summarize with the broker-released key failed"; }
# result: "summary" text and generated "ids" (timings vary between runs and are left out).
result() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps([d["summary"], d["ids"]]))' "$1"; }
got="$(result "$WORK/engine/summary.json")"
python3 -c 'import json,sys; s,ids=json.loads(sys.argv[1]); sys.exit(0 if ids else 1)' "$got" || fail "no tokens generated"
echo "summary (sealed model, key from broker) [text, ids]: ${got:0:200}"

# The same engine claiming another measurement: refused, exit non-zero, the failed check named.
other="$(printf 'ab%.0s' $(seq 48))"
[ "$other" != "$(measurement)" ] || fail "test measurement collides with the binary's"
rc=0
timeout 300 "$S" summarize --model "$WORK/engine/model.sealed" --kbs "$KBS_URL" --insecure-simulated-tee \
  --simulated-measurement "$other" --input "$ARTICLE" >"$WORK/engine/refused.out" 2>"$WORK/engine/refused.err" || rc=$?
[ "$rc" -ne 0 ] || fail "an engine with a different measurement got the key"
[ "$rc" -ne 124 ] || fail "summarize with a wrong measurement timed out"
[ ! -s "$WORK/engine/refused.out" ] || fail "the refused engine printed a summary"
grep -qi "measurement" "$WORK/engine/refused.err" || { cat "$WORK/engine/refused.err" >&2; fail "refusal does not name the measurement check"; }
echo "refused (exit $rc): $(grep -i measurement "$WORK/engine/refused.err" | head -n1)"

# Owner-held key, local use: the same summary as the broker-released key.
"$S" summarize --model "$WORK/engine/model.sealed" --key "$WORK/owner/model.key" --input "$ARTICLE" \
  --json >"$WORK/engine/summary_local.json" 2>"$WORK/engine/summarize_local.err" \
  || { cat "$WORK/engine/summarize_local.err" >&2; fail "summarize with --key failed"; }
[ "$(result "$WORK/engine/summary_local.json")" = "$got" ] || fail "--key and --kbs summaries differ"

"$S" kbs audit-verify --store "$WORK/broker/store" >"$WORK/broker/audit-verify.out" || fail "audit log does not verify"

# Reference: an unsealed conversion and the owner's unseal of the sealed model, outside the scan.
"$S" convert "$FIXTURES/models/tiny-random-t5" -o "$REF/model.sealsum" >/dev/null 2>&1 || fail "plain convert failed"
"$S" unseal --key "$WORK/owner/model.key" --type model "$WORK/engine/model.sealed" -o "$REF/model.unsealed" \
  >/dev/null 2>&1 || fail "unseal failed"
cmp "$REF/model.unsealed" "$REF/model.sealsum" || fail "unseal of the sealed model differs from an unsealed conversion"
"$S" summarize --model "$REF/model.sealsum" --input "$ARTICLE" --json >"$REF/summary.json" 2>/dev/null \
  || fail "summarize with the plaintext model failed"
[ "$(result "$REF/summary.json")" = "$got" ] || fail "sealed-model summary differs from the plaintext model's"

# Scan: no plaintext model slice and no raw key bytes in any file under $WORK except ref/.
kill -TERM "$kbs_PID"; wait "$kbs_PID" 2>/dev/null || true; kbs_PID=""  # broker's files flushed and closed
python3 - "$WORK" "$REF" "$REF/model.sealsum" "$WORK/owner/model.key" <<'PY'
import base64, json, os, sys
work, ref, model_path, key_path = sys.argv[1:5]
model = open(model_path, "rb").read()
k = json.load(open(key_path))["k"]
key = base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))
assert len(key) == 32, "key file does not hold 32 bytes"
needles = [("raw key", key)]
# 64-byte slices of the plaintext model spread over the file (header JSON, tokenizer blob, tensors);
# skip low-entropy slices (alignment padding) that could match by chance.
step = max(64, len(model) // 200)
for off in range(0, len(model) - 64, step):
    s = model[off:off + 64]
    if len(set(s)) >= 24:
        needles.append((f"model bytes at offset {off}", s))
assert len(needles) > 50, f"too few distinctive model slices ({len(needles)})"
scanned, bad = 0, []
for root, dirs, files in os.walk(work):
    if os.path.abspath(root).startswith(os.path.abspath(ref)):
        continue
    for f in files:
        p = os.path.join(root, f)
        if not os.path.isfile(p):
            continue
        data = open(p, "rb").read()
        scanned += 1
        for what, n in needles:
            if n in data:
                bad.append(f"{p}: {what}")
                break
if bad:
    sys.exit("FAIL: plaintext found:\n  " + "\n  ".join(bad))
print(f"scanned {scanned} files for {len(needles)} needles (raw key + {len(needles) - 1} model slices): none found")
PY
echo "PASS sealed_flow_test"
