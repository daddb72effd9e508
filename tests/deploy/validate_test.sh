#!/usr/bin/env bash
# ctest sealsum_deploy_validate: runs validate_test.mjs (deploy/ against ../shared/schemas).
# Needs Node and the npm packages of tests/deploy/package-lock.json (tools/setup.sh runs
# `npm ci` here); SEALSUM_BIN (optional; its folder holds sealsum-serve and sealsum-kbs too) enables
# the flag checks of the deployed commands.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
fixtures="${SEALSUM_FIXTURES:-${SEALSUM_FIXTURES_DEFAULT:-$root/../shared}}"
if [ ! -d "$here/node_modules/ajv-draft-04" ] || [ ! -d "$here/node_modules/yaml" ]; then
  echo "validate_test: npm packages missing in $here/node_modules; run tools/setup.sh (or: cd tests/deploy && npm ci)" >&2
  exit 1
fi
[ -d "$fixtures/schemas" ] || { echo "validate_test: no schemas in $fixtures/schemas (set SEALSUM_FIXTURES)" >&2; exit 1; }
bin_dir=""; [ -n "${SEALSUM_BIN:-}" ] && bin_dir="$(dirname "$SEALSUM_BIN")"
exec node "$here/validate_test.mjs" "$root" "$fixtures" "$bin_dir"
