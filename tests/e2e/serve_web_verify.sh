#!/usr/bin/env bash
# The web page's in-browser attestation verifier (server/web/verify.js) under Node's WebCrypto:
# real SEV-SNP evidence from the fixtures (virtee Milan, Azure ACI) must verify, and every
# tampering must fail; simulated evidence is fetched from a live `sealsum serve --dev`.
source "$(dirname "$0")/serve_lib.sh"
command -v node >/dev/null || fail "node not installed (tools/setup.sh installs nodejs)"
tiny_model "$WORK/model.sealsum"
start_bg serve "$S" serve --model "$WORK/model.sealsum" --port 0 --dev
nonce="web-verify-nonce-$RANDOM$RANDOM"
curl -sf "$URL/v1/attestation?nonce=$nonce" >"$WORK/answer.json" || fail "GET /v1/attestation failed"
node "$(dirname "$0")/../web/verify_test.mjs" "$(cd "$(dirname "$0")/../.." && pwd)" "$FIXTURES" \
  "$WORK/answer.json" "$nonce" "$(measurement)"
