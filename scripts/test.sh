#!/usr/bin/env bash
# Run every test and quality gate: pytest (branch coverage of src/ >= 90%), ruff, mypy strict.
set -euo pipefail
cd "$(dirname "$0")/.."
export DO_NOT_TRACK=1
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python scripts/generate.py --check
.venv/bin/python -m pytest --cov --cov-report=term "$@"
