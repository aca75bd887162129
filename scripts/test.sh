#!/usr/bin/env bash
# Set everything up (including Debian's chromium for the browser test) and run the whole test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"` for the quick run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser test drives Debian's chromium (no browser downloads); CJK fonts make its screenshots legible.
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then
  echo "== installing Debian's chromium and CJK fonts for the browser test"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1 \
    || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "== ruff (lint rules in pyproject.toml)"
.venv/bin/ruff check rag index ui tests benchmarks scripts
exec .venv/bin/python -m pytest "$@"
