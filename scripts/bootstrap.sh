#!/usr/bin/env bash
# Creates the local virtualenv (.venv) when missing and installs the project into it
# whenever pyproject.toml has changed since the last install. Usage: bootstrap.sh [main|dev]
set -euo pipefail
cd "$(dirname "$0")/.."

extra=${1:-main}
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))'; then
      python=$candidate
      break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "error: Python 3.11 or 3.12 is needed (set PYTHON=/path/to/python)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $python ..."
  "$python" -m venv .venv
fi

stamp=".venv/.installed-$extra-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Installing dependencies into .venv (first run takes a few minutes) ..."
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch first, pinned: this CPU build is on disk; letting a dependency choose pulls CUDA wheels.
  .venv/bin/python -m pip install --quiet torch==2.13.0
  if [ "$extra" = dev ]; then
    .venv/bin/python -m pip install --quiet -e ".[dev]"
  else
    .venv/bin/python -m pip install --quiet -e .
  fi
  rm -f .venv/.installed-"$extra"-*
  touch "$stamp"
fi
