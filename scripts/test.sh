#!/usr/bin/env bash
# The test suite: install if needed, then run every test (slow and browser tests included;
# a plain `pytest` runs only the fast ones).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
status=0
.venv/bin/python -m pytest -m "" "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$status"
