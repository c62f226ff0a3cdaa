#!/usr/bin/env bash
# The main job: install if needed, build the index if missing or out of date, start the app (web UI + JSON API).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# Rebuilds only when the index is missing or was built from other code, corpus or settings (a pull that
# changes the index format); the embedding cache makes that a matter of seconds after the first build.
.venv/bin/assistant index build
exec .venv/bin/python app.py
