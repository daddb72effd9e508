#!/usr/bin/env bash
# Load test: wrk against `sealsum serve --dev` with the tiny T5 model for a bounded time.
# Asserts zero socket errors and zero non-2xx answers, and no memory growth: the server's RSS
# after the measured run is within LOAD_RSS_SLACK_KB (default 16 MiB) of its RSS after a warm-up
# run of the same load. Prints wrk's requests/s and latency percentiles.
# Env: LOAD_SECONDS (default 20), LOAD_CONNECTIONS (default 4), LOAD_THREADS (default 2).
source "$(dirname "$0")/serve_lib.sh"
command -v wrk >/dev/null || fail "wrk not installed (tools/setup.sh installs it)"
SECS="${LOAD_SECONDS:-20}"; CONNS="${LOAD_CONNECTIONS:-4}"; THREADS="${LOAD_THREADS:-2}"
SLACK_KB="${LOAD_RSS_SLACK_KB:-16384}"
tiny_model "$WORK/model.sealsum"
start_bg serve "$S" serve --model "$WORK/model.sealsum" --port 0 --dev --workers 2 --queue 16
SERVE_URL="$URL"
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"text":"The city council approved a new budget on Tuesday that increases funding for public parks, libraries and road repairs, while cutting administrative costs by five percent.","num_beams":2,"max_length":32,"no_repeat_ngram_size":1}'
LUA
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$serve_PID/status"; }
run_wrk() { wrk -t"$THREADS" -c"$CONNS" -d"$1"s --latency -s "$WORK/post.lua" "$SERVE_URL/v1/summarize"; }

run_wrk 5 >"$WORK/warmup.txt"
rss_before="$(rss_kb)"
CMD="wrk -t$THREADS -c$CONNS -d${SECS}s --latency -s post.lua $SERVE_URL/v1/summarize"
run_wrk "$SECS" | tee "$WORK/wrk.txt"
rss_after="$(rss_kb)"

! grep -q "Socket errors" "$WORK/wrk.txt" || fail "socket errors: $(grep 'Socket errors' "$WORK/wrk.txt")"
! grep -q "Non-2xx" "$WORK/wrk.txt" || fail "error answers: $(grep 'Non-2xx' "$WORK/wrk.txt")"
reqs="$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")"
[ "${reqs:-0}" -gt 0 ] || fail "no requests completed"
growth=$((rss_after - rss_before))
echo "command: $CMD"
echo "requests/s: $(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")  p50: $(awk '$1=="50%" {print $2}' "$WORK/wrk.txt")  p99: $(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")"
echo "RSS before: ${rss_before} kB  after: ${rss_after} kB  growth: ${growth} kB (limit ${SLACK_KB} kB)"
[ "$growth" -le "$SLACK_KB" ] || fail "RSS grew by $growth kB under load"
curl -sf "$SERVE_URL/metrics" | grep -E '^sealsum_(http_requests_total\{route="/v1/summarize"|queue_rejected_total|tokens_per_second)' || true
echo "PASS load: $reqs requests, 0 errors"
