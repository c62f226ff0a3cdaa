#!/usr/bin/env bash
# The main job: install if needed, build the index if missing, start the app (web UI + JSON API).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python app.py
