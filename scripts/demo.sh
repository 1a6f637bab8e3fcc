#!/usr/bin/env bash
# Set up a virtualenv, install normcheck with dbt, parse the sample project and check it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DO_NOT_TRACK=1
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dbt]'
.venv/bin/dbt parse --quiet --project-dir sample_project --profiles-dir sample_project
status=0
.venv/bin/normcheck check --project-dir sample_project "$@" || status=$?
# 1 means "findings at or above --fail-on": the sample carries deliberate violations.
if [ "$status" -gt 1 ]; then exit "$status"; fi
