#!/usr/bin/env bash
# End-to-end, three parties on one machine (simulated TEE):
#   model owner  converts and seals the model, registers its key with the broker;
#   data owner   seals documents, registers their key and release policy (`sealsum kbs`);
#   operator     runs `sealsum serve` on the sealed model and sealed documents, never holding a key;
#   client       verifies the attestation (`sealsum verify`) and receives a summary.
# Asserts: the summary equals a local run on the plaintext; no plaintext document text appears in
# any file, log or response the operator can see; a client pinning a different measurement is
# refused; a client refusing simulated evidence refuses.
source "$(dirname "$0")/serve_lib.sh"
mkdir -p "$WORK"/{model_owner,data_owner,operator/docs,client}

# Model owner.
tiny_model "$WORK/model_owner/model.sealsum"
"$S" keygen -o "$WORK/model_owner/model.key" --kid model-owner-key >/dev/null
"$S" seal --key "$WORK/model_owner/model.key" --type model "$WORK/model_owner/model.sealsum" \
  -o "$WORK/operator/model.sealed" >/dev/null

# Data owner.
cat >"$WORK/data_owner/memo.txt" <<'DOC'
Confidential board memo: the Zyxwv Corporation will acquire Qlmnop Industries for 4.2 billion
dollars on March 3rd; the chief financial officer Ada Quibblesworth negotiated the terms in secret.
DOC
"$S" keygen -o "$WORK/data_owner/docs.key" --kid data-owner-docs >/dev/null
"$S" seal --key "$WORK/data_owner/docs.key" --type document "$WORK/data_owner/memo.txt" \
  -o "$WORK/operator/docs/memo.sealed" >/dev/null

setup_broker
register "$WORK/model_owner/model.key"
register "$WORK/data_owner/docs.key"

# Operator.
start_bg serve "$S" serve --sealed-model "$WORK/operator/model.sealed" --kbs "$KBS_URL" \
  --documents "$WORK/operator/docs" --port 0 --dev
SERVE_URL="$URL"
M="$(measurement)"

# Client: verify, then summarize.
"$S" verify --server "$SERVE_URL" --measurement "$M" --insecure-simulated >"$WORK/client/verdict.json" \
  2>"$WORK/client/verify.err" || { cat "$WORK/client/verify.err" >&2; fail "verify refused a good server"; }
grep -q '"verdict": "accepted"' "$WORK/client/verdict.json" || fail "verdict not accepted"
curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"document":"memo","no_repeat_ngram_size":1,"max_length":20}' "$SERVE_URL/v1/summarize" \
  >"$WORK/client/answer.json" || fail "summarize request failed"
got="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"])' "$WORK/client/answer.json")"
expected="$("$S" summarize --model "$WORK/model_owner/model.sealsum" --no-repeat-ngram-size 1 --max-length 20 \
  --input "$WORK/data_owner/memo.txt")"
[ -n "$got" ] || fail "empty summary"
[ "$got" = "$expected" ] || fail "summary differs from the local run: '$got' vs '$expected'"

# A client pinning another measurement is refused; so is one that refuses simulated evidence.
if "$S" verify --server "$SERVE_URL" --measurement "$(printf '0%.0s' $(seq 96))" --insecure-simulated \
    >"$WORK/client/wrong.json" 2>/dev/null; then fail "a wrong measurement was accepted"; fi
grep -q '"name": "measurement_allowed"' "$WORK/client/wrong.json" || fail "no measurement check in the refusal"
if "$S" verify --server "$SERVE_URL" --measurement "$M" >/dev/null 2>&1; then
  fail "simulated evidence accepted without --insecure-simulated"
fi

# Stop the operator's server gracefully (SIGTERM) and check it exits 0.
kill -TERM "$serve_PID"
wait "$serve_PID" || fail "serve did not exit 0 on SIGTERM"
grep -q '"event":"stopped"' "$WORK/serve.err" || fail "no stopped event in the log"

# Nothing the operator can see holds document text: the operator's files, the server's log and
# output, and the answers it sent (for a plaintext-policy document the answer is the summary).
python3 - "$WORK/data_owner/memo.txt" "$WORK/operator" "$WORK/serve.err" "$WORK/serve.out" \
  "$WORK/client/answer.json" <<'PY'
import os, sys
doc = open(sys.argv[1], "rb").read()
paths = []
for p in sys.argv[2:]:
    if os.path.isdir(p):
        paths += [os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs]
    else:
        paths.append(p)
# Every 12-byte window of the document (words split at any offset) must be absent everywhere.
windows = {doc[i:i + 12] for i in range(len(doc) - 12)}
for path in paths:
    data = open(path, "rb").read()
    for w in windows:
        if w in data:
            sys.exit(f"FAIL: {path} contains document text {w!r}")
print(f"checked {len(paths)} operator-visible files against {len(windows)} document windows")
PY
grep '"route":"/v1/summarize"' "$WORK/serve.err" | grep -q '"status":200' || fail "no structured request log line"
echo "PASS three_party: summary '$got'"
