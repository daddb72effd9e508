#!/usr/bin/env bash
# The trusted code of sealsum-serve, counted from the build (see tools/tcb.py for the method).
# Usage: tools/tcb.sh BUILD_DIR [--files | --markdown | --check README.md | --update-readme [README.md]]
set -euo pipefail
exec python3 "$(cd "$(dirname "$0")" && pwd)/tcb.py" "$@"
