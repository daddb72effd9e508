#!/usr/bin/env bash
# End-to-end test of the CCE policy tools, each step a separate `sealsum` process:
#   policy hostdata      the azure-aci-milan policy gives its report's HOST_DATA (report offset 0xC0);
#                        the clean-room MAA policy gives its listed hostdata; Rego and base64 agree
#   policy inspect       both shared allow-all policies exit 1 naming the rules; the safe sample
#                        (tests/fixtures/cce/safe_policy.rego) exits 0; --json is valid JSON; usage exit 2
#   policy release-json  valid JSON with the three claims; refuses http://, short hex, the allow-all hash
#   attestation verify   on the real ACI evidence: refused on host_data_pinned without a pin;
#                        with --cce-policy (the pin): cce_policy_host_data passes,
#                        cce_policy_inspection fails, the verdict is refused (exit 1)
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
: "${SEALSUM_BIN:?SEALSUM_BIN must point at the sealsum binary (ctest sets it)}"
FIXTURES="${SEALSUM_FIXTURES:-${SEALSUM_FIXTURES_DEFAULT:-}}"
ACI="$FIXTURES/attestation/azure-aci-milan"
MAA="$FIXTURES/attestation/azure-cleanroom-maa"
[ -f "$ACI/uvm_security_policy.base64" ] || fail "fixtures not found (set SEALSUM_FIXTURES): '$FIXTURES'"
SAFE="$(cd "$(dirname "$0")/.." && pwd)/fixtures/cce/safe_policy.rego"
[ -f "$SAFE" ] || fail "safe sample $SAFE not found"
S="$SEALSUM_BIN"
WORK="$(mktemp -d /tmp/sealsum-policy-cli.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# run EXPECTED_RC CMD...: runs CMD with stdout/stderr in $WORK/out, $WORK/err; fails on another exit code.
run() {
  local want="$1"; shift
  set +e; "$@" >"$WORK/out" 2>"$WORK/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$WORK/out" "$WORK/err" >&2; fail "exit $rc (want $want): $*"; }
}
has() { grep -q -- "$1" "$WORK/$2" || { cat "$WORK/$2" >&2; fail "'$1' not in $2 of: $3"; }; }

# ---- hostdata ----
report_hd="$(od -An -v -tx1 -j $((0xC0)) -N 32 "$ACI/snp_report.bin" | tr -d ' \n')"
[ ${#report_hd} -eq 64 ] || fail "could not read HOST_DATA from the report"
run 0 "$S" policy hostdata "$ACI/uvm_security_policy.base64"
[ "$(cat "$WORK/out")" = "$report_hd" ] || fail "hostdata $(cat "$WORK/out") != report HOST_DATA $report_hd"
base64 -d "$ACI/uvm_security_policy.base64" >"$WORK/aci.rego"
run 0 "$S" policy hostdata "$WORK/aci.rego"
[ "$(cat "$WORK/out")" = "$report_hd" ] || fail "hostdata of the decoded Rego differs"
run 0 "$S" policy hostdata - <"$ACI/uvm_security_policy.base64"
[ "$(cat "$WORK/out")" = "$report_hd" ] || fail "hostdata from stdin differs"
sed -n 's/^ccepolicy: //p' "$MAA/values.txt" >"$WORK/maa.base64"
maa_hd="$(sed -n 's/^hostdata: //p' "$MAA/values.txt")"
run 0 "$S" policy hostdata "$WORK/maa.base64"
[ "$(cat "$WORK/out")" = "$maa_hd" ] || fail "clean-room hostdata $(cat "$WORK/out") != $maa_hd"
printf 'not a policy' >"$WORK/garbage"
run 1 "$S" policy hostdata "$WORK/garbage"
has "neither Rego" err "hostdata garbage"
run 2 "$S" policy hostdata
run 2 "$S" policy

# ---- inspect ----
for f in "$ACI/uvm_security_policy.base64" "$WORK/maa.base64"; do
  run 1 "$S" policy inspect "$f"
  for rule in allow_all_rule exec_in_container exec_external stdio_access dump_stacks runtime_logging unencrypted_scratch; do
    has "REFUSE $rule:" out "inspect $f"
  done
  has "verdict: REFUSED" out "inspect $f"
  run 1 "$S" policy inspect --json "$f"
  python3 - "$WORK/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["refused"] is True, j
for rule in ("allow_all_rule", "exec_in_container", "exec_external", "stdio_access"):
    assert rule in j["refused_rules"], (rule, j["refused_rules"])
assert len(j["host_data"]) == 64
PY
done
run 0 "$S" policy inspect "$SAFE"
has "verdict: PASSED" out "inspect safe"
if grep -q '^REFUSE' "$WORK/out"; then fail "the safe sample has refusals"; fi
sed 's/"allow_stdio_access": false/"allow_stdio_access": true/' "$SAFE" >"$WORK/stdio.rego"
run 1 "$S" policy inspect "$WORK/stdio.rego"
has "REFUSE stdio_access:" out "inspect stdio variant"

# ---- release-json ----
run 0 "$S" policy release-json --host-data "$report_hd" --maa https://sharedeus2.eus2.attest.azure.net --out "$WORK/skr.json"
python3 - "$WORK/skr.json" "$report_hd" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["version"] == "1.0.0", j
(entry,) = j["anyOf"]
assert entry["authority"] == "https://sharedeus2.eus2.attest.azure.net", entry
claims = {c["claim"]: c["equals"] for c in entry["allOf"]}
assert claims == {"x-ms-sevsnpvm-hostdata": sys.argv[2], "x-ms-compliance-status": "azure-compliant-uvm",
                  "x-ms-sevsnpvm-is-debuggable": "false"}, claims
PY
run 0 "$S" policy release-json --cce-policy "$SAFE" --maa https://maa.example
has "$("$S" policy hostdata "$SAFE")" out "release-json --cce-policy safe"
run 1 "$S" policy release-json --cce-policy "$ACI/uvm_security_policy.base64" --maa https://maa.example
run 1 "$S" policy release-json --host-data "$maa_hd" --maa https://maa.example
has "allow-all" err "release-json allow-all hash"
run 2 "$S" policy release-json --host-data "$report_hd" --maa http://maa.example
run 2 "$S" policy release-json --host-data abcd --maa https://maa.example
run 2 "$S" policy release-json --maa https://maa.example

# ---- attestation verify --cce-policy ----
verify() {
  "$S" attestation verify --report "$ACI/snp_report.bin" --host-amd-cert "$ACI/uvm_host_amd_certificate.json" \
    --endorsement "$ACI/body.uvm_reference_info.bin" --runtime-data "$ACI/runtime_data.json" --json "$@"
}
# Without a HOST_DATA pin, ACI evidence identifies no workload: refused on host_data_pinned alone.
run 1 verify
python3 - "$WORK/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
failed = [c["name"] for c in j["checks"] if not c["passed"]]
assert failed == ["host_data_pinned"], failed
PY
# --cce-policy pins HOST_DATA to the policy's hash and inspects the policy.
run 1 verify --cce-policy "$ACI/uvm_security_policy.base64"
python3 - "$WORK/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
checks = {c["name"]: c for c in j["checks"]}
assert j["verdict"] is False, j
assert checks["cce_policy_host_data"]["passed"] is True, checks["cce_policy_host_data"]
assert checks["cce_policy_inspection"]["passed"] is False, checks["cce_policy_inspection"]
assert "exec_in_container" in checks["cce_policy_inspection"]["detail"]
failed = [c["name"] for c in j["checks"] if not c["passed"]]
assert failed == ["cce_policy_inspection"], failed
PY
has "cce_policy_inspection" err "verify --cce-policy (refusal message)"
run 1 verify --cce-policy "$SAFE"
python3 - "$WORK/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
failed = [c["name"] for c in j["checks"] if not c["passed"]]
assert failed == ["host_data_allowed", "cce_policy_host_data"], failed
PY
echo "policy_cli_test: OK"
