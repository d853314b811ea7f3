#!/usr/bin/env bash
# Installs the pinned Slither into a project-local virtual environment (.venv-slither, gitignored).
# The audit sandbox runs .venv-slither/bin/slither and feeds it its own compilation, so no solc
# download is ever needed. Idempotent: a venv that already holds the pinned version is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
SLITHER_VERSION="0.11.6"
CRYTIC_COMPILE_VERSION="0.4.2"
VENV="${CCGP_SLITHER_VENV:-.venv-slither}"
PYTHON="${PYTHON:-python3}"
if [ -x "$VENV/bin/slither" ] && "$VENV/bin/python" -m pip show slither-analyzer 2>/dev/null | grep -qx "Version: $SLITHER_VERSION"; then
  echo "slither-analyzer $SLITHER_VERSION already in $VENV"
  exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  "slither-analyzer==$SLITHER_VERSION" "crytic-compile==$CRYTIC_COMPILE_VERSION"
echo "slither-analyzer $SLITHER_VERSION installed in $VENV"
