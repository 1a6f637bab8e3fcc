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
# The HTML report is tested in a real headless Chromium: install Debian's when it is
# missing and apt-get can (CI runs as root); without it those tests are skipped.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
  && [ "$(id -u)" = 0 ]; then
  echo "installing chromium for the HTML report tests (apt-get)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
    >/dev/null 2>&1 || echo "could not install chromium: the HTML report tests will be skipped"
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python scripts/generate.py --check
.venv/bin/python -m pytest --cov --cov-report=term "$@"
