#!/usr/bin/env bash
# Hostile clients against the real processes (issue 12): `sealsum serve --dev` and `sealsum kbs serve`
# each get 50 slow-header clients (one line every 2 s, from 127.0.0.2) and a header flood (from
# 127.0.0.3) for 8 s, while curl probes /healthz (serve) and POST /v1/challenge (broker) from
# 127.0.0.1: every probe must answer within 1 s, and each server's RSS must stay within 64 MiB of
# its idle value. Then 8 concurrent 1 MiB '[' bodies to /v1/summarize must all get 4xx. Also
# checks both processes run with a core-file limit of 0 (/proc/PID/limits).
source "$(dirname "$0")/serve_lib.sh"
command -v python3 >/dev/null || fail "python3 not installed"
tiny_model "$WORK/model.sealsum"
start_bg serve "$S" serve --model "$WORK/model.sealsum" --port 0 --dev --read-timeout 3
SERVE_URL="$URL"
setup_broker

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
for pid in "$serve_PID" "$kbs_PID"; do
  grep -E '^Max core file size +0 +0 ' "/proc/$pid/limits" >/dev/null || fail "pid $pid has a core-file limit: $(grep core /proc/$pid/limits)"
done

ATTACK="$(dirname "$0")/attack.py"  # the slow-header clients and the header flood

# probe NAME PID URL CURL_ARGS...: attacks for 8 s while probing every 0.5 s.
probe() {
  local name="$1" pid="$2" url="$3"; shift 3
  local idle; idle="$(rss_kb "$pid")"; local peak="$idle"
  python3 "$ATTACK" "$url" "$ATTACK_LINE" 8 &
  local attacker=$!
  PIDS+=("$attacker")
  sleep 0.5
  for _ in $(seq 1 14); do
    local t; t="$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 2 "$@")"
    [ "${t%% *}" = 200 ] || fail "$name probe answered '${t}' under attack"
    awk -v s="${t#* }" 'BEGIN { exit !(s < 1.0) }' || fail "$name probe took ${t#* } s under attack"
    local r; r="$(rss_kb "$pid")"; [ "$r" -gt "$peak" ] && peak="$r"
    sleep 0.5
  done
  wait "$attacker" || true
  echo "$name: 14 probes < 1 s under attack; RSS idle ${idle} kB, peak ${peak} kB"
  [ $((peak - idle)) -le 65536 ] || fail "$name RSS grew by $((peak - idle)) kB under attack"
}
ATTACK_LINE=$'GET /healthz HTTP/1.1\r\n' probe serve "$serve_PID" "$SERVE_URL" "$SERVE_URL/healthz"
ATTACK_LINE=$'POST /v1/challenge HTTP/1.1\r\n' probe kbs "$kbs_PID" "$KBS_URL" -X POST "$KBS_URL/v1/challenge"

# JSON amplification: 8 concurrent 1 MiB bodies of '['.
python3 -c "import sys; sys.stdout.write('[' * (1 << 20))" >"$WORK/deep.json"
idle="$(rss_kb "$serve_PID")"
CURLS=()
for i in $(seq 1 8); do
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 -H 'Content-Type: application/json' \
    --data-binary @"$WORK/deep.json" "$SERVE_URL/v1/summarize" >"$WORK/code.$i" &
  CURLS+=($!)
done
for p in "${CURLS[@]}"; do wait "$p" || true; done
after="$(rss_kb "$serve_PID")"
for i in $(seq 1 8); do
  code="$(cat "$WORK/code.$i")"
  [ "${code:0:1}" = 4 ] || fail "1 MiB '[' body answered $code"
done
echo "JSON amplification: 8 x 1 MiB '[' -> $(sort -u "$WORK"/code.* | tr '\n' ' ')RSS ${idle} -> ${after} kB"
[ $((after - idle)) -le 65536 ] || fail "RSS grew by $((after - idle)) kB on deep JSON"
echo "PASS hostile clients"
