#!/usr/bin/env bash
# End-to-end, three parties (and a consumer) on one machine, each step its own process (simulated TEE):
#   model owner  converts and seals the model, registers its key with the broker;
#   consumer     makes an X25519 output key and gives the data owner its public half;
#   data owner   seals documents under two keys and registers them with release policies
#                (`sealsum kbs`): "memo" may be summarized to the caller in plaintext, "board"
#                only sealed to the consumer (the output policy stored with the key);
#   operator     runs `sealsum serve` on the sealed model and sealed documents, never holding a key;
#   client       verifies the attestation (`sealsum verify`), then `sealsum summarize --server`.
# Asserts: the summaries equal local runs on the plaintext; the board summary is sealed and opens
# only with the consumer's key and the right document; no plaintext document text (nor the board
# summary) appears in any file, log or response the operator can see; a client pinning a different
# measurement or model is refused before it sends anything; a client refusing simulated evidence
# refuses. Model binding: the board key's release policy pins the model owner's published digest
# (sha256sum of the model file), so the server gets it only because it proves it runs that model;
# the client pins the same digest, and /v1/info shows it.
source "$(dirname "$0")/serve_lib.sh"
mkdir -p "$WORK"/{model_owner,data_owner,operator/docs,client,consumer}

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
cat >"$WORK/data_owner/board.txt" <<'DOC'
Strictly private minutes: Mirelle Oxtanby resigns as chair on May 9th after the Vantrobe audit
found 38 million dollars missing from the Kestrelmoor pension reserve; do not disclose before then.
DOC
"$S" keygen -o "$WORK/data_owner/docs.key" --kid data-owner-docs >/dev/null
"$S" keygen -o "$WORK/data_owner/board.key" --kid data-owner-board >/dev/null
"$S" seal --key "$WORK/data_owner/docs.key" --type document "$WORK/data_owner/memo.txt" \
  -o "$WORK/operator/docs/memo.sealed" >/dev/null
"$S" seal --key "$WORK/data_owner/board.key" --type document "$WORK/data_owner/board.txt" \
  -o "$WORK/operator/docs/board.sealed" >/dev/null

# Consumer: an output key; the public half, as an output policy, goes to the data owner.
"$S" keygen --type x25519 -o "$WORK/consumer/auditor.jwk" --consumer auditor \
  >"$WORK/data_owner/auditor-output.json" 2>/dev/null
[ "$(stat -c %a "$WORK/consumer/auditor.jwk")" = 600 ] || fail "consumer key file is not 0600"

setup_broker
register "$WORK/model_owner/model.key"
register "$WORK/data_owner/docs.key"
# The model owner publishes the digests of the model and of the sealed file.
MODEL_SHA="$(sha256sum "$WORK/model_owner/model.sealsum" | cut -d' ' -f1)"
SEALED_SHA="$(sha256sum "$WORK/operator/model.sealed" | cut -d' ' -f1)"
python3 - "$WORK/broker/policy.json" "$WORK/data_owner/auditor-output.json" "$MODEL_SHA" \
  >"$WORK/broker/board-policy.json" <<'PY'
import json, sys
policy = json.load(open(sys.argv[1]))
policy["output"] = json.load(open(sys.argv[2]))
policy["models"] = [sys.argv[3]]
print(json.dumps(policy))
PY
register "$WORK/data_owner/board.key" "$WORK/broker/board-policy.json"

# Operator.
start_bg serve "$S" serve --sealed-model "$WORK/operator/model.sealed" --kbs "$KBS_URL" \
  --documents "$WORK/operator/docs" --port 0 --dev
SERVE_URL="$URL"
M="$(measurement)"

# Client: verify, then summarize through the attested, verified server.
"$S" verify --server "$SERVE_URL" --measurement "$M" --insecure-simulated >"$WORK/client/verdict.json" \
  2>"$WORK/client/verify.err" || { cat "$WORK/client/verify.err" >&2; fail "verify refused a good server"; }
grep -q '"verdict": "accepted"' "$WORK/client/verdict.json" || fail "verdict not accepted"
# Model binding: the runtime data names the model file and the sealed file the server opened.
python3 - "$WORK/client/verdict.json" "$MODEL_SHA" "$SEALED_SHA" <<'PY' || fail "the verdict does not bind the model"
import json, sys
v = json.load(open(sys.argv[1]))
assert v["model"] == {"sha256": sys.argv[2], "sealed_sha256": sys.argv[3]}, v["model"]
PY
curl -s "$SERVE_URL/v1/info" | grep -q "\"sha256\":\"$MODEL_SHA\"" || fail "/v1/info does not show the model digest"
# The same pins from a policy file (the broker's format) plus a model pin: accepted.
printf '{"measurements":["%s"],"allow_simulated":true,"models":["%s"]}\n' "$M" "$SEALED_SHA" >"$WORK/client/pins.json"
"$S" verify --server "$SERVE_URL" --policy "$WORK/client/pins.json" >/dev/null 2>&1 \
  || fail "verify --policy with the sealed model's digest refused a good server"
# The tiny random model ignores its input, so the two documents are summarized with different
# n-gram settings to get summaries that differ (the scan below tells them apart).
MEMO_FLAGS=(--no-repeat-ngram-size 2 --max-length 20)
BOARD_FLAGS=(--no-repeat-ngram-size 1 --max-length 20)
remote() { "$S" summarize --server "$SERVE_URL" --measurement "$M" --insecure-simulated "$@"; }
local_summary() { "$S" summarize --model "$WORK/model_owner/model.sealsum" --input "$@"; }
remote --document memo "${MEMO_FLAGS[@]}" --json >"$WORK/client/answer.json" 2>"$WORK/client/summarize.err" \
  || { cat "$WORK/client/summarize.err" >&2; fail "summarize --server failed"; }
got="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"])' "$WORK/client/answer.json")"
expected="$(local_summary "$WORK/data_owner/memo.txt" "${MEMO_FLAGS[@]}")"
[ -n "$got" ] || fail "empty summary"
[ "$got" = "$expected" ] || fail "summary differs from the local run: '$got' vs '$expected'"
grep -q 'WARNING: plain HTTP' "$WORK/client/summarize.err" || fail "no plain-HTTP warning from the client"

# The board document: its key's output policy seals the summary to the consumer.
remote --document board "${BOARD_FLAGS[@]}" >"$WORK/client/board-sealed.json" 2>"$WORK/client/board.err" \
  || { cat "$WORK/client/board.err" >&2; fail "summarize --server (board) failed"; }
grep -q '"alg":"X25519-HKDF-SHA256-A256GCM"' "$WORK/client/board-sealed.json" || fail "board summary not sealed"
board_expected="$(local_summary "$WORK/data_owner/board.txt" "${BOARD_FLAGS[@]}")"
[ ${#board_expected} -ge 8 ] || fail "board summary too short to scan for: '$board_expected'"
board_got="$("$S" open-summary --key "$WORK/consumer/auditor.jwk" --document board "$WORK/client/board-sealed.json")" \
  || fail "the consumer cannot open the sealed summary"
[ "$board_got" = "$board_expected" ] || fail "opened board summary differs: '$board_got' vs '$board_expected'"
direct="$(remote --document board "${BOARD_FLAGS[@]}" --consumer-key "$WORK/consumer/auditor.jwk" 2>/dev/null)"
[ "$direct" = "$board_expected" ] || fail "summarize --consumer-key did not open the summary"
if "$S" open-summary --key "$WORK/consumer/auditor.jwk" --document memo "$WORK/client/board-sealed.json" \
    >/dev/null 2>&1; then fail "a sealed summary opened as another document's"; fi
"$S" keygen --type x25519 -o "$WORK/client/stranger.jwk" >/dev/null 2>&1
if "$S" open-summary --key "$WORK/client/stranger.jwk" --document board "$WORK/client/board-sealed.json" \
    >/dev/null 2>&1; then fail "a stranger's key opened the sealed summary"; fi

# A client pinning another measurement is refused, and sends nothing; so is one that refuses
# simulated evidence.
before="$(summarize_requests "$SERVE_URL")"
[ "$before" -ge 3 ] || fail "the metrics do not count the summarize requests made so far ($before)"
if remote --document memo --measurement "$(printf '0%.0s' $(seq 96))" >/dev/null 2>"$WORK/client/wrong.err"; then
  fail "summarize --server accepted a wrong measurement"
fi
grep -q 'measurement_allowed' "$WORK/client/wrong.err" || fail "the refusal does not name measurement_allowed"
[ "$(summarize_requests "$SERVE_URL")" = "$before" ] || fail "a refused client still sent its request"
if "$S" verify --server "$SERVE_URL" --measurement "$(printf '0%.0s' $(seq 96))" --insecure-simulated \
    >"$WORK/client/wrong.json" 2>/dev/null; then fail "a wrong measurement was accepted"; fi
grep -q '"name": "measurement_allowed"' "$WORK/client/wrong.json" || fail "no measurement check in the refusal"
if "$S" verify --server "$SERVE_URL" --measurement "$M" >/dev/null 2>&1; then
  fail "simulated evidence accepted without --insecure-simulated"
fi
if remote --document memo --model-digest "$(printf 'e%.0s' $(seq 64))" >/dev/null 2>"$WORK/client/wrong-model.err"; then
  fail "summarize --server accepted a server running another model"
fi
grep -q 'model_allowed' "$WORK/client/wrong-model.err" || fail "the refusal does not name model_allowed"
[ "$(summarize_requests "$SERVE_URL")" = "$before" ] || fail "a client refusing the model still sent its request"

# Stop the operator's server gracefully (SIGTERM) and check it exits 0.
kill -TERM "$serve_PID"
wait "$serve_PID" || fail "serve did not exit 0 on SIGTERM"
grep -q '"event":"stopped"' "$WORK/serve.err" || fail "no stopped event in the log"

# Nothing the operator can see holds document text: the operator's files, the server's log and
# output, and the answers it sent (for the plaintext-policy memo the answer is its summary; the
# board answer is sealed, so the board summary must not appear anywhere either).
python3 - "$board_expected" "$WORK/data_owner/memo.txt" "$WORK/data_owner/board.txt" -- "$WORK/operator" \
  "$WORK/serve.err" "$WORK/serve.out" "$WORK/client/answer.json" "$WORK/client/board-sealed.json" <<'PY'
import os, sys
args = sys.argv[1:]
sep = args.index("--")
secrets = [args[0].encode()] + [open(p, "rb").read() for p in args[1:sep]]
paths = []
for p in args[sep + 1:]:
    if os.path.isdir(p):
        paths += [os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs]
    else:
        paths.append(p)
# Every 12-byte window of each secret (words split at any offset) must be absent everywhere.
windows = {s[i:i + 12] for s in secrets for i in range(max(1, len(s) - 11))}
for path in paths:
    data = open(path, "rb").read()
    for w in windows:
        if w in data:
            sys.exit(f"FAIL: {path} contains secret text {w!r}")
print(f"checked {len(paths)} operator-visible files against {len(windows)} secret windows")
PY
grep '"route":"/v1/summarize"' "$WORK/serve.err" | grep -q '"status":200' || fail "no structured request log line"
echo "PASS three_party: memo summary '$got'; board summary sealed to the auditor and opened"
