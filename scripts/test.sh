#!/usr/bin/env bash
# Set up and run the whole test suite: lint (ruff), pytest with the browser tests in
# headless Chromium (Debian's chromium package, driven by Playwright).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the browser tests..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium' and try again." >&2
    exit 1
  fi
fi

REQUIREMENTS=requirements-dev.txt bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
