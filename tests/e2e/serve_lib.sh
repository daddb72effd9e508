# Shared helpers of the end-to-end scripts (sourced). Needs SEALSUM_BIN and fixtures
# ($SEALSUM_FIXTURES, else $SEALSUM_FIXTURES_DEFAULT as ctest sets it). Every process a script
# starts is recorded and stopped by PID on exit; the work directory is removed.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
: "${SEALSUM_BIN:?SEALSUM_BIN must point at the sealsum binary (ctest sets it)}"
FIXTURES="${SEALSUM_FIXTURES:-${SEALSUM_FIXTURES_DEFAULT:-}}"
[ -d "$FIXTURES/models/tiny-random-t5" ] || fail "fixtures not found (set SEALSUM_FIXTURES): $FIXTURES"
S="$SEALSUM_BIN"
WORK="$(mktemp -d /tmp/sealsum-e2e.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_bg NAME CMD...: runs CMD with stdout to $WORK/NAME.out and stderr to $WORK/NAME.err;
# waits for the first stdout line (the URL both servers print) and sets URL.
start_bg() {
  local name="$1"; shift
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$!
  PIDS+=("$pid")
  eval "${name}_PID=$pid"
  for _ in $(seq 1 600); do
    if [ -s "$WORK/$name.out" ]; then URL="$(head -n1 "$WORK/$name.out")"; return 0; fi
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.err" >&2; fail "$name exited early"; }
    sleep 0.1
  done
  fail "$name did not start"
}

# The simulated TEE's MEASUREMENT: SHA-384 of the sealsum binary (secure/attest/simulated.h).
measurement() { sha384sum "$S" | cut -d' ' -f1; }

# setup_broker: a key broker holding the keys of the model and document owners, releasing them
# only to evidence with this binary's measurement (simulated TEE allowed: local test).
setup_broker() {
  mkdir -p "$WORK/broker"
  "$S" kbs init --store "$WORK/broker/store" --broker-key "$WORK/broker/broker.key" >/dev/null
  printf '{"measurements":["%s"],"allow_simulated":true}\n' "$(measurement)" >"$WORK/broker/policy.json"
  start_bg kbs "$S" kbs serve --store "$WORK/broker/store" --broker-key "$WORK/broker/broker.key" --port 0
  KBS_URL="${URL#listening on }"
}

# register KEYFILE [POLICY]: the owner registers a sealing key with the broker under POLICY
# (default: policy.json).
register() {
  "$S" kbs register --store "$WORK/broker/store" --broker-key "$WORK/broker/broker.key" --key "$1" \
    --policy "${2:-$WORK/broker/policy.json}" >/dev/null
}

# summarize_requests URL: how many POST /v1/summarize requests the server at URL has answered.
summarize_requests() {
  curl -sf "$1/metrics" | awk '/^sealsum_http_requests_total\{route="\/v1\/summarize"/ {n += $2} END {print n + 0}'
}

# tiny_model OUT: the tiny T5 model converted with the real converter.
tiny_model() { "$S" convert "$FIXTURES/models/tiny-random-t5" -o "$1" >/dev/null 2>&1; }
