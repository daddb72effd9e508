#!/usr/bin/env bash
# Headless Chromium loads the web page of a --dev server, pins the measurement, picks a sealed
# document, summarizes it (the page's "?auto=" hook presses the button) and the summary on screen
# is checked against a local run; the attestation panel must show the simulated measurement and
# its checks. A second load pins another measurement: the page must refuse, show no summary, and
# send no summarize request.
source "$(dirname "$0")/serve_lib.sh"
CHROME="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$CHROME" ] || fail "chromium not installed (tools/setup.sh installs it)"
mkdir -p "$WORK/docs"
tiny_model "$WORK/model.sealsum"
printf 'The museum reopened on Sunday after a two-year renovation of its east wing and roof.\n' >"$WORK/doc.txt"
"$S" keygen -o "$WORK/docs.key" --kid browser-docs >/dev/null
"$S" seal --key "$WORK/docs.key" --type document "$WORK/doc.txt" -o "$WORK/docs/museum.sealed" >/dev/null
setup_broker
register "$WORK/docs.key"
start_bg serve "$S" serve --model "$WORK/model.sealsum" --kbs "$KBS_URL" --documents "$WORK/docs" --port 0 --dev
SERVE_URL="$URL"
expected="$("$S" summarize --model "$WORK/model.sealsum" --no-repeat-ngram-size 1 --max-length 20 --input "$WORK/doc.txt")"
[ -n "$expected" ] || fail "empty expected summary"

# page OUT QUERY: the DOM after the page ran with ?QUERY.
page() {
  "$CHROME" --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir="$WORK/chrome" \
    --virtual-time-budget=30000 --dump-dom "$SERVE_URL/?$2" >"$1" 2>"$WORK/chrome.err" \
    || { tail -20 "$WORK/chrome.err" >&2; fail "chromium failed"; }
}
page "$WORK/dom.html" "auto=document:museum&max_length=20&no_repeat_ngram_size=1&measurement=$(measurement)&allow_simulated=1"
before="$(summarize_requests "$SERVE_URL")"
[ "$before" -ge 1 ] || fail "the metrics do not count the page's summarize request"
page "$WORK/refused.html" "auto=document:museum&max_length=20&no_repeat_ngram_size=1&measurement=$(printf '0%.0s' $(seq 96))&allow_simulated=1"
[ "$(summarize_requests "$SERVE_URL")" = "$before" ] || fail "the page sent a request to a server whose measurement is not pinned"

python3 - "$WORK/dom.html" "$WORK/refused.html" "$expected" "$(measurement)" <<'PY'
import sys
from html.parser import HTMLParser
class Texts(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.text = {}
    def handle_starttag(self, tag, attrs):
        self.stack.append(dict(attrs).get("id"))
    def handle_endtag(self, tag):
        if self.stack: self.stack.pop()
    def handle_data(self, data):
        for i in self.stack:
            if i: self.text[i] = self.text.get(i, "") + data
def load(path):
    p = Texts(); p.feed(open(path, encoding="utf-8").read()); return p.text
t = load(sys.argv[1])
state = t.get("state", "").strip()
summary = t.get("summary", "")
if state != "done": sys.exit(f"FAIL: page state {state!r}, error {t.get('error', '')!r}")
if summary != sys.argv[3]: sys.exit(f"FAIL: summary on screen {summary!r} != {sys.argv[3]!r}")
if t.get("measurement", "").strip() != sys.argv[4]: sys.exit("FAIL: measurement not shown")
if "SIMULATED" not in t.get("attest", ""): sys.exit("FAIL: attestation panel does not flag simulation")
checks = t.get("checks", "")
for name in ("signature", "report_data_binding", "nonce_binding", "measurement_allowed"):
    if name not in checks: sys.exit(f"FAIL: check {name} not shown: {checks!r}")
if "\u2718" in checks: sys.exit(f"FAIL: a check failed on the good server: {checks!r}")
r = load(sys.argv[2])
if r.get("state", "").strip() != "refused": sys.exit(f"FAIL: wrong pin: state {r.get('state')!r}")
if r.get("summary", "").strip(): sys.exit("FAIL: wrong pin: a summary is on screen")
if "REFUSED" not in r.get("attest", "") or "measurement_allowed" not in r.get("attest", ""):
    sys.exit(f"FAIL: wrong pin: panel says {r.get('attest')!r}")
print(f"PASS browser: summary on screen {summary!r}; attestation: {t['attest'].strip()!r}; "
      f"wrong pin: {r['attest'].strip()!r}")
PY
