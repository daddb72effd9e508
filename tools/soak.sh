#!/usr/bin/env bash
# Soak (issue 12; not a CI test): `wrk` with 64 connections for N seconds against `sealsum serve
# --dev` on the tiny T5 model, while the slow-header clients and the header flood of
# tests/e2e/serve_hostile.sh (tests/e2e/attack.py) attack the same server the whole time.
# Reports requests/s, p50/p99 latency, errors (non-2xx answers, socket errors), crashes (the server
# gone, or a sanitizer/abort line in its log) and the server's RSS idle, after a 10 s warm-up
# (start) and at the end, with the growth from start to end in %.
#
# Usage: tools/soak.sh [SECONDS]                    (default 300)
# Env:   SEALSUM_BIN       sealsum binary (default build/tools/cli/sealsum)
#        SEALSUM_FIXTURES  fixtures directory (default ../shared beside the repository)
#        SOAK_CONNECTIONS  wrk connections (default 64), SOAK_THREADS wrk threads (default 2)
#        SOAK_WORKERS      serve --workers (default 2)
# Exit:  0 when there were no errors and no crash and RSS grew by less than 5 %; 1 otherwise.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
SECS="${1:-300}"
case "$SECS" in '' | *[!0-9]*) echo "usage: tools/soak.sh [SECONDS]" >&2; exit 2 ;; esac
export SEALSUM_BIN="${SEALSUM_BIN:-$root/build/tools/cli/sealsum}"
export SEALSUM_FIXTURES="${SEALSUM_FIXTURES:-$root/../shared}"
[ -x "$SEALSUM_BIN" ] || { echo "soak: $SEALSUM_BIN not found; build first (tools/setup.sh)" >&2; exit 1; }
source "$root/tests/e2e/serve_lib.sh"
command -v wrk >/dev/null || fail "wrk not installed (tools/setup.sh installs it)"
CONNS="${SOAK_CONNECTIONS:-64}"; THREADS="${SOAK_THREADS:-2}"; WORKERS="${SOAK_WORKERS:-2}"

tiny_model "$WORK/model.sealsum"
# Room for all of wrk's connections from 127.0.0.1 (one legitimate heavy client): per-client cap
# and queue twice CONNS, since a connection wrk reopens may overlap the one it replaces, and the
# requests of the warm-up's last connections are still queued when the measured run starts.
start_bg serve "$S" serve --model "$WORK/model.sealsum" --port 0 --dev --workers "$WORKERS" \
  --queue "$((2 * CONNS))" --max-connections-per-client "$((2 * CONNS))" --read-timeout 3
SERVE_URL="$URL"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$serve_PID/status"; }
cat >"$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"text":"The city council approved a new budget on Tuesday that increases funding for public parks, libraries and road repairs, while cutting administrative costs by five percent.","num_beams":2,"max_length":32,"no_repeat_ngram_size":1}'
LUA
# --timeout 10s: with 64 connections queued on 2 workers a request waits for ~60 others; wrk's
# default 2 s would count that queueing as socket errors on a busy machine.
run_wrk() { wrk -t"$THREADS" -c"$CONNS" -d"$1"s --timeout 10s --latency -s "$WORK/post.lua" "$SERVE_URL/v1/summarize"; }

rss_idle="$(rss_kb)"
run_wrk 10 >"$WORK/warmup.txt"
sleep 5  # let the warm-up's queued requests finish
rss_start="$(rss_kb)"
CMD="wrk -t$THREADS -c$CONNS -d${SECS}s --timeout 10s --latency -s post.lua $SERVE_URL/v1/summarize"
echo "soak: $CMD, with tests/e2e/attack.py (50 slow-header clients + a header flood) for ${SECS}s"
python3 "$root/tests/e2e/attack.py" "$SERVE_URL" $'GET /healthz HTTP/1.1\r\n' "$SECS" >"$WORK/attack.txt" 2>&1 &
attacker=$!
PIDS+=("$attacker")
# RSS every 10 s, for the peak.
rss_peak="$rss_start"
( while kill -0 "$serve_PID" 2>/dev/null; do rss_kb; sleep 10; done ) >"$WORK/rss.txt" 2>/dev/null &
PIDS+=($!)
run_wrk "$SECS" | tee "$WORK/wrk.txt"
wait "$attacker" || true
crashed=0
kill -0 "$serve_PID" 2>/dev/null || crashed=1
grep -qE 'AddressSanitizer|runtime error|terminate called|Aborted|Segmentation' "$WORK/serve.err" && crashed=1
probe="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$SERVE_URL/healthz" || true)"
[ "$probe" = 200 ] || crashed=1
rss_end="$( [ "$crashed" = 0 ] && rss_kb || echo 0)"
while read -r r; do [ -n "$r" ] && [ "$r" -gt "$rss_peak" ] && rss_peak="$r"; done <"$WORK/rss.txt"

reqs="$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")"
non2xx="$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk.txt")"; non2xx="${non2xx:-0}"
sock="$(sed -nE 's/.*Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1 \2 \3 \4/p' "$WORK/wrk.txt")"
sock_total=0; for n in $sock; do sock_total=$((sock_total + n)); done
growth="$(awk -v a="$rss_start" -v b="$rss_end" 'BEGIN { printf "%.1f", (b - a) * 100.0 / a }')"
curl -s --max-time 5 "$SERVE_URL/metrics" | grep -E '^sealsum_(http_requests_total|queue_rejected_total|http_refused|guard)' >"$WORK/metrics.txt" || true
echo "---- server metrics after the run ----"
cat "$WORK/metrics.txt"
echo "---- soak summary ----"
echo "command:    $CMD"
echo "attackers:  $(cat "$WORK/attack.txt")"
echo "requests:   ${reqs:-0} in ${SECS}s, $(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt") requests/s"
echo "latency:    p50 $(awk '$1=="50%" {print $2}' "$WORK/wrk.txt"), p99 $(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")"
echo "errors:     non-2xx ${non2xx}, socket errors ${sock_total}${sock:+ (connect read write timeout: $sock)}"
echo "crashes:    ${crashed} (healthz after the run: ${probe:-none})"
echo "serve RSS:  idle ${rss_idle} kB, start (after warm-up) ${rss_start} kB, peak ${rss_peak} kB, end ${rss_end} kB, growth ${growth} %"
[ "$crashed" = 0 ] || fail "the server crashed or stopped answering"
[ "$non2xx" = 0 ] && [ "$sock_total" = 0 ] || fail "errors under load"
awk -v g="$growth" 'BEGIN { exit !(g < 5.0) }' || fail "RSS grew by ${growth} %"
echo "PASS soak"
