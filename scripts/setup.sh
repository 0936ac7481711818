#!/usr/bin/env bash
# Set up everything on a fresh machine: virtualenv, Python and npm packages, front-end
# assets, compiled translations, database schema. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
REQUIREMENTS=${REQUIREMENTS:-requirements.txt}

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"

command -v npm >/dev/null || { echo "npm is needed for the front-end packages: install Node.js 20+ (apt-get install nodejs npm)" >&2; exit 1; }
npm ci --no-audit --no-fund --silent
rm -rf static/vendor
mkdir -p static/vendor/pico
cp node_modules/@picocss/pico/css/pico.min.css static/vendor/pico/
mkdir -p static/vendor/qr-scanner && cp node_modules/qr-scanner/qr-scanner.min.js node_modules/qr-scanner/qr-scanner-worker.min.js static/vendor/qr-scanner/
mkdir -p static/vendor/socket.io && cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/socket.io/

.venv/bin/pybabel compile --use-fuzzy -d workshop/translations -f >/dev/null
export FLASK_APP=workshop
.venv/bin/flask db upgrade
.venv/bin/flask assets  # static files under hashed names, with gzip and brotli copies
