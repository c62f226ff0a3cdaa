#!/usr/bin/env bash
# The main job: install if needed, build the index if missing or out of date, start the app (web UI + JSON API).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# The app listens at once and shows a progress page while it builds the index when it is missing or was
# built from other code, corpus or settings (a pull that changes the index format); the embedding cache
# makes a rebuild a matter of seconds after the first build.
exec .venv/bin/python app.py
