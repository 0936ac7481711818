#!/usr/bin/env bash
# Set up and run the whole test suite: lint (ruff, Biome), then pytest, including the browser tests
# (Debian's chromium driven by Playwright), the PostgreSQL tests and the QR/PDF checks (Debian packages).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests drive: browser, database server, QR decoder, SVG and PDF renderers,
# Redis and nginx (the multi-process setup).
missing=()
command -v chromium >/dev/null || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v zbarimg >/dev/null || missing+=(zbar-tools)
command -v rsvg-convert >/dev/null || missing+=(librsvg2-bin)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
command -v redis-server >/dev/null || missing+=(redis-server)
{ command -v nginx || [ -x /usr/sbin/nginx ]; } >/dev/null || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian packages for the tests: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tests need Debian's ${missing[*]}: run 'sudo apt-get install ${missing[*]}' and try again." >&2
    exit 1
  fi
fi

REQUIREMENTS=requirements-dev.txt bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Types (pyproject.toml [tool.mypy]): the whole package, the services strictly.
.venv/bin/mypy
# Our JavaScript (static/js; static/vendor is npm's): Biome, pinned in package.json, config in biome.json.
node_modules/.bin/biome lint --error-on-warnings static/js

# pytest twice: on SQLite (the default), then the same suite on PostgreSQL (one throwaway server for
# the run, an emptied database per test: tests/conftest.py; the browser tests' server on its own
# database there). BIMTEK_TEST_DATABASE=sqlite or =postgresql runs only that one. On PostgreSQL
# the tests marked sqlite_only are deselected (the run lists them).
status=0
results=()
for database in ${BIMTEK_TEST_DATABASE:-sqlite postgresql}; do
  extra=()
  case "$database" in
    sqlite) echo "== pytest on SQLite ==" ;;
    postgresql) echo "== pytest on PostgreSQL ==" ;;
    *) echo "BIMTEK_TEST_DATABASE=$database: expected sqlite or postgresql" >&2; exit 2 ;;
  esac
  code=0
  BIMTEK_TEST_DATABASE="$database" .venv/bin/python -m pytest "${extra[@]}" "$@" || code=$?
  results+=("$database: $([ "$code" = 0 ] && echo passed || echo "FAILED (pytest exit $code)")")
  [ "$code" = 0 ] || status=$code
done
printf '== %s\n' "${results[@]}"
exit "$status"
