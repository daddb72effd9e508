#!/usr/bin/env bash
# ctest sealsum_tee_binary: the attested binary holds only what runs in the enclave.
#   - sealsum-serve's commands are serve (+ batch) and version; nothing for owners, clients or the broker;
#   - its symbol table has no converter, broker, relying-party verifier, client, or (unless built with
#     SEALSUM_DEV_TEE=ON) simulated-TEE code; the same patterns do match the full `sealsum` binary,
#     so the check can fail;
#   - without the simulated TEE, `sealsum-serve serve --dev` refuses and says where to find it;
#   - sealsum-kbs is the broker: `sealsum-kbs --help` is `sealsum kbs --help`;
#   - each binary's `version` names that binary.
# Env: SEALSUM_SERVE_BIN, SEALSUM_KBS_BIN, SEALSUM_BIN (ctest sets them), SEALSUM_DEV_TEE (ON/OFF).
set -uo pipefail
serve="${SEALSUM_SERVE_BIN:?set SEALSUM_SERVE_BIN}"; kbs="${SEALSUM_KBS_BIN:?set SEALSUM_KBS_BIN}"
full="${SEALSUM_BIN:?set SEALSUM_BIN}"; dev_tee="${SEALSUM_DEV_TEE:-OFF}"
passed=0; failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

# Defined symbols (demangled) of each kind of code that must stay out of the TEE.
declare -A pattern=(
  [converter]='sealsum::convert::'
  [broker]='sealsum::secure::keyrelease::(Broker|KeyStore|AuditLog|NonceStore)\b'
  [verifier]='sealsum::secure::attest::(verify_evidence|check_amd_chain|parse_pem_chain|amd_pinned_roots|parse_uvm_endorsement|parse_policy_json|add_cce_policy_checks|inspect_cce_policy)\b|sealsum::server::verify_attestation_answer|sealsum::secure::TlsKeyPin'
  [simulated_tee]='sealsum::secure::attest::(SimulatedTee|open_simulated_evidence|is_simulated_evidence|measure_running_binary)\b|SimulatedEvidenceSource'
)
symbols() { nm -C --defined-only "$1" 2>/dev/null | cut -d' ' -f3-; }
serve_syms="$(symbols "$serve")"; full_syms="$(symbols "$full")"
[ -n "$serve_syms" ] || bad "nm found no symbols in $serve (stripped?)"
for kind in converter broker verifier simulated_tee; do
  n="$(grep -cE "${pattern[$kind]}" <<<"$serve_syms")"
  m="$(grep -cE "${pattern[$kind]}" <<<"$full_syms")"
  [ "$m" -gt 0 ] || bad "$kind: the pattern matches nothing in sealsum either; fix the pattern"
  if [ "$kind" = simulated_tee ] && [ "$dev_tee" = ON ]; then
    [ "$n" -gt 0 ] && ok "$kind: $n symbols (SEALSUM_DEV_TEE=ON)" || bad "$kind: missing although SEALSUM_DEV_TEE=ON"
  elif [ "$n" = 0 ]; then
    ok "$kind: 0 symbols in sealsum-serve ($m in sealsum)"
  else
    bad "$kind: $n symbols in sealsum-serve: $(grep -E "${pattern[$kind]}" <<<"$serve_syms" | head -3 | tr '\n' ';')"
  fi
done

# Commands.
cmds="$("$serve" --help | awk '/^commands:/ {c = 1; next} c && NF {print $1}' | sort | tr '\n' ' ')"
case "$cmds" in
  "serve version " | "batch serve version ") ok "sealsum-serve commands: $cmds" ;;
  *) bad "sealsum-serve commands are '$cmds' (want serve, version and batch when present)" ;;
esac
if "$kbs" --help 2>&1 | grep -q "init" && "$kbs" serve --help 2>&1 | grep -q -- "--store"; then
  ok "sealsum-kbs is the broker (init, serve --store ...)"
else
  bad "sealsum-kbs --help does not describe the broker"
fi

# Each binary names itself.
for pair in "$serve:sealsum-serve" "$kbs:sealsum-kbs" "$full:sealsum"; do
  bin="${pair%:*}"; want="${pair##*:}"
  v="$("$bin" version 2>&1)"
  if [[ "$v" =~ ^"$want "[0-9]+\.[0-9]+\.[0-9]+" (" ]]; then ok "$want version: $v"; else bad "$want version printed '$v'"; fi
done

# No simulated TEE: --dev must be refused with a message naming the way out.
if [ "$dev_tee" != ON ]; then
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  printf 'not a model' >"$work/m"
  msg="$("$serve" serve --model "$work/m" --dev --port 0 2>&1)"; rc=$?
  if [ "$rc" != 0 ] && grep -q "sealsum serve --dev" <<<"$msg" && grep -q "no simulated TEE" <<<"$msg"; then
    ok "sealsum-serve serve --dev refuses: $(grep 'no simulated TEE' <<<"$msg" | head -1 | cut -c1-100)"
  else
    bad "sealsum-serve serve --dev: exit $rc, message: $(tail -2 <<<"$msg")"
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
