#!/usr/bin/env bash
# Headless Chromium loads the web page of a --dev server, picks a sealed document, summarizes it
# (the page's "#auto=" hook presses the button) and the summary on screen is checked against a
# local run; the page's attestation panel must show the simulated measurement.
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

"$CHROME" --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir="$WORK/chrome" \
  --virtual-time-budget=30000 --dump-dom \
  "$SERVE_URL/?auto=document:museum&max_length=20&no_repeat_ngram_size=1" >"$WORK/dom.html" 2>"$WORK/chrome.err" \
  || { tail -20 "$WORK/chrome.err" >&2; fail "chromium failed"; }

python3 - "$WORK/dom.html" "$expected" "$(measurement)" <<'PY'
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
p = Texts(); p.feed(open(sys.argv[1], encoding="utf-8").read())
state = p.text.get("state", "").strip()
summary = p.text.get("summary", "")
if state != "done": sys.exit(f"FAIL: page state {state!r}, error {p.text.get('error', '')!r}")
if summary != sys.argv[2]: sys.exit(f"FAIL: summary on screen {summary!r} != {sys.argv[2]!r}")
if p.text.get("measurement", "").strip() != sys.argv[3]: sys.exit("FAIL: measurement not shown")
if "SIMULATED" not in p.text.get("attest", ""): sys.exit("FAIL: attestation panel does not flag simulation")
print(f"PASS browser: summary on screen {summary!r}; attestation: {p.text['attest'].strip()!r}")
PY
