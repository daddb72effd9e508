#!/usr/bin/env bash
# End-to-end `sealsum batch` (simulated TEE, local key broker, the real binary):
#   - a directory store of sealed documents (some with an envelope sealing their summary to a
#     consumer) is summarized; batch is killed with SIGKILL after some summaries are written and
#     rerun: every document then has exactly one summary, the earlier ones were not rewritten
#     (inode and mtime unchanged), each is complete and opens (plaintext: equal to a local run;
#     sealed: `open-summary` with the consumer's key);
#   - shards 0..N-1 (one from JOB_COMPLETION_INDEX) cover every document exactly once;
#   - a corrupt document fails alone (exit 1, its id and the reason, never its text);
#   - a blob container (tests/e2e/blob_standin.py), SAS from SEALSUM_DOCUMENTS_SAS: summaries are
#     put next to the documents; a rerun puts nothing.
source "$(dirname "$0")/serve_lib.sh"
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$WORK"/{model_owner,data_owner/txt,operator/docs,consumer}

tiny_model "$WORK/model_owner/model.sealsum"
"$S" keygen -o "$WORK/model_owner/model.key" --kid model-owner-key >/dev/null
"$S" seal --key "$WORK/model_owner/model.key" --type model "$WORK/model_owner/model.sealsum" \
  -o "$WORK/operator/model.sealed" >/dev/null
"$S" keygen --type x25519 -o "$WORK/consumer/auditor.jwk" --consumer auditor \
  >"$WORK/data_owner/auditor-output.json" 2>/dev/null
"$S" keygen -o "$WORK/data_owner/docs.key" --kid data-owner-docs >/dev/null
N=16
IDS=()
for i in $(seq -w 0 $((N - 1))); do
  id="doc-$i"
  IDS+=("$id")
  printf 'Report %s: the Qworple shipyard in Vantrobe delivered hull number %s to the Kestrelmoor line.\n' \
    "$i" "$i" >"$WORK/data_owner/txt/$id.txt"
  if [ $((10#$i % 4)) = 0 ]; then  # every fourth: summaries sealed to the auditor (envelope)
    { printf 'SEALSUM-DOCUMENT-V1\n%s\n' "$(cat "$WORK/data_owner/auditor-output.json")"
      cat "$WORK/data_owner/txt/$id.txt"; } >"$WORK/data_owner/$id.env"
    in="$WORK/data_owner/$id.env"
  else
    in="$WORK/data_owner/txt/$id.txt"
  fi
  "$S" seal --key "$WORK/data_owner/docs.key" --type document "$in" -o "$WORK/data_owner/$id.sealed" >/dev/null
done

setup_broker
register "$WORK/model_owner/model.key"
register "$WORK/data_owner/docs.key"
# Slow enough generation (EOS banned below 200 tokens, 4 beams) that a kill lands half way.
GEN=(--num-beams 4 --min-length 200 --max-length 201 --no-repeat-ngram-size 0)
BATCH=("$S" batch --dev --sealed-model "$WORK/operator/model.sealed" --kbs "$KBS_URL" --progress-interval 1)
slow_batch() { "${BATCH[@]}" "${GEN[@]}" "$@"; }
batch() { "${BATCH[@]}" --max-length 20 --no-repeat-ngram-size 1 "$@"; }  # sections 2-4: speed only
fresh_store() { rm -rf "$1"; mkdir -p "$1"; cp "$WORK"/data_owner/*.sealed "$1/"; }
summaries() { find "$1" -maxdepth 1 -name '*.summary.json' | wc -l; }

# 1. Kill half way, rerun.
D="$WORK/operator/docs"
fresh_store "$D"
"${BATCH[@]}" "${GEN[@]}" --documents "$D" >"$WORK/run1.out" 2>"$WORK/run1.err" &
pid=$!  # the sealsum process itself (not a subshell), so SIGKILL reaches it
PIDS+=("$pid")
for _ in $(seq 1 3000); do
  [ "$(summaries "$D")" -ge 3 ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.01
done
kill -KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null && fail "batch finished before it could be killed (make the generation slower)"
before="$(summaries "$D")"
[ "$before" -ge 3 ] || { cat "$WORK/run1.err" >&2; fail "batch wrote only $before summaries before the kill"; }
[ "$before" -lt "$N" ] || fail "batch wrote all $N summaries before the kill: not a half-way kill"
python3 - "$D" >"$WORK/stat-before.json" <<'PY'
import json, os, sys
d = sys.argv[1]
print(json.dumps({f: [os.stat(os.path.join(d, f)).st_ino, os.stat(os.path.join(d, f)).st_mtime_ns]
                  for f in os.listdir(d) if f.endswith(".summary.json")}))
PY
slow_batch --documents "$D" >"$WORK/run2.out" 2>"$WORK/run2.err" || { cat "$WORK/run2.err" >&2; fail "the rerun failed"; }
grep -q "batch: finished: $((N - before)) processed, $before skipped, 0 failed, $N total" "$WORK/run2.err" \
  || { cat "$WORK/run2.err" >&2; fail "the rerun did not write exactly the $((N - before)) missing summaries"; }
grep -q '^batch: [0-9]*/16 done: ' "$WORK/run2.err" || fail "no periodic progress line on a non-terminal stderr"
[ "$(summaries "$D")" = "$N" ] || fail "not every document has a summary after the rerun"
python3 - "$D" "$WORK/stat-before.json" <<'PY' || fail "a summary written before the kill was rewritten"
import json, os, sys
d, before = sys.argv[1], json.load(open(sys.argv[2]))
for f, (ino, mtime) in before.items():
    st = os.stat(os.path.join(d, f))
    assert (st.st_ino, st.st_mtime_ns) == (ino, mtime), f
PY
# Each summary: complete, for its document; plaintext ones equal a local run, sealed ones open.
for id in "${IDS[@]}"; do
  f="$D/$id.summary.json"
  local_text="$("$S" summarize --model "$WORK/model_owner/model.sealsum" --input "$WORK/data_owner/txt/$id.txt" "${GEN[@]}")"
  if [ -f "$WORK/data_owner/$id.env" ]; then
    grep -q '"sealed_summary"' "$f" || fail "$id: the summary is not sealed"
    ! grep -q '"summary"' "$f" || fail "$id: a plaintext summary next to a sealed one"
    got="$("$S" open-summary --key "$WORK/consumer/auditor.jwk" --document "$id" "$f")" || fail "$id: open-summary refused"
  else
    got="$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["document"]==sys.argv[2]; print(j["summary"])' "$f" "$id")" \
      || fail "$id: not a complete plaintext summary file"
  fi
  [ "$got" = "$local_text" ] || fail "$id: summary differs from the local run"
done
echo "kill/rerun: $before summaries before the SIGKILL, $N after; none rewritten"

# 2. Shards 0..2 partition the store (index 2 from JOB_COMPLETION_INDEX, as in a Kubernetes Indexed Job).
D2="$WORK/operator/shards"
fresh_store "$D2"
total=0
for i in 0 1 2; do
  ls "$D2" >"$WORK/shard-before"
  if [ "$i" = 2 ]; then
    JOB_COMPLETION_INDEX=2 batch --documents "$D2" --shard-count 3 2>"$WORK/shard$i.err" >/dev/null || fail "shard $i failed"
  else
    batch --documents "$D2" --shard-count 3 --shard-index "$i" 2>"$WORK/shard$i.err" >/dev/null || fail "shard $i failed"
  fi
  grep -q "shard $i of 3" "$WORK/shard$i.err" || fail "shard $i did not run as shard $i"
  n="$(ls "$D2" | grep -cvxF -f "$WORK/shard-before" || true)"
  grep -q "batch: finished: $n processed, 0 skipped, 0 failed, $n total" "$WORK/shard$i.err" || fail "shard $i counts"
  total=$((total + n))
done
[ "$total" = "$N" ] && [ "$(summaries "$D2")" = "$N" ] || fail "shards wrote $total summaries for $N documents"
echo "shards: 3 shards wrote $N summaries, each once"

# 3. A corrupt document fails alone, named, with the reason and without its text.
python3 - "$WORK/data_owner/doc-01.sealed" "$D/broken.sealed" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-20] ^= 1; open(sys.argv[2], "wb").write(b)
PY
rm "$D/doc-05.summary.json"
if batch --documents "$D" >/dev/null 2>"$WORK/corrupt.err"; then fail "batch exited 0 with a corrupt document"; fi
grep -q 'FAILED "broken": .*authentic' "$WORK/corrupt.err" || { cat "$WORK/corrupt.err" >&2; fail "no clear failure line for the corrupt document"; }
grep -q "batch: finished: 1 processed, $((N - 1)) skipped, 1 failed, $((N + 1)) total" "$WORK/corrupt.err" \
  || { cat "$WORK/corrupt.err" >&2; fail "the corrupt document stopped the others"; }
! grep -q 'Qworple' "$WORK/corrupt.err" "$WORK/run1.err" "$WORK/run2.err" || fail "document text in batch's output"
[ ! -e "$D/broken.summary.json" ] || fail "a summary was written for the corrupt document"

# 4. A blob container: SAS from the environment, summaries put next to the documents, a rerun puts nothing.
SIG="YmF0Y2gtc2lnbmF0dXJl"
fresh_store "$WORK/blob-preload"
start_bg blob python3 "$HERE/blob_standin.py" --container store --sig "$SIG" --preload "$WORK/blob-preload"
BLOB="$URL"
export SEALSUM_DOCUMENTS_SAS="sv=2021-08-06&sr=c&sp=rcwl&sig=$SIG"
batch --documents "$BLOB" >/dev/null 2>"$WORK/blob1.err" || { cat "$WORK/blob1.err" >&2; fail "batch over the blob container failed"; }
grep -q "batch: finished: $N processed, 0 skipped, 0 failed, $N total" "$WORK/blob1.err" || fail "blob run counts"
port="${BLOB#http://127.0.0.1:}"; port="${port%%/*}"
[ "$(curl -sf "http://127.0.0.1:$port/_stats")" = '{"puts": 16}' ] || fail "expected 16 Put Blob calls"
for id in "${IDS[@]}"; do
  curl -sf "$BLOB/$id.summary.json?$SEALSUM_DOCUMENTS_SAS" | grep -q "\"document\":\"$id\"" || fail "no summary blob for $id"
done
batch --documents "$BLOB" >/dev/null 2>"$WORK/blob2.err" || fail "the blob rerun failed"
grep -q "batch: finished: 0 processed, $N skipped, 0 failed" "$WORK/blob2.err" || fail "the blob rerun redid work"
[ "$(curl -sf "http://127.0.0.1:$port/_stats")" = '{"puts": 16}' ] || fail "the blob rerun put blobs"
! grep -q "$SIG" "$WORK"/blob*.err || fail "the SAS appeared in batch's output"
# Outside --dev a SAS on the command line is refused (the command line is measured).
unset SEALSUM_DOCUMENTS_SAS
if "$S" batch --sealed-model "$WORK/operator/model.sealed" --kbs "$KBS_URL" --documents "https://h/c?sig=x" \
    >/dev/null 2>"$WORK/sas.err"; then fail "a SAS on the command line was accepted"; fi
grep -q 'SEALSUM_DOCUMENTS_SAS' "$WORK/sas.err" || fail "the refusal does not name SEALSUM_DOCUMENTS_SAS"
# The Kubernetes Job (deploy/k8s/batch-job.yaml) calls batch with flags it has.
"$S" batch --help >"$WORK/help.txt" 2>&1 || true
flags="$(sed -n 's/^ *- \(--[a-z-]*\)$/\1/p' "$HERE/../../deploy/k8s/batch-job.yaml")"
[ -n "$flags" ] || fail "no flags found in deploy/k8s/batch-job.yaml"
for flag in $flags; do grep -q -- "^  $flag " "$WORK/help.txt" || fail "batch-job.yaml uses $flag, which batch does not have"; done
grep -q 'SEALSUM_DOCUMENTS_SAS' "$HERE/../../deploy/k8s/batch-job.yaml" || fail "batch-job.yaml does not pass the SAS by environment"
echo "PASS batch: kill/rerun, shards, corrupt document, blob container"
