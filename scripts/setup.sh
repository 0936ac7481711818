#!/usr/bin/env bash
# Set up everything on a fresh machine: virtualenv, Python and npm packages, front-end
# assets, compiled translations, database schema. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/steps.sh

PYTHON=${PYTHON:-python3}
REQUIREMENTS=${REQUIREMENTS:-requirements.txt}

if [ ! -x .venv/bin/python ]; then
  step "Creating the Python virtualenv in .venv"
  "$PYTHON" -m venv .venv
fi
step "Installing the Python packages ($REQUIREMENTS; the first time takes a minute or two)"
with_progress .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off -r "$REQUIREMENTS"

command -v npm >/dev/null || { echo "npm is needed for the front-end packages: install Node.js 20+ (apt-get install nodejs npm)" >&2; exit 1; }
step "Installing the front-end packages (npm ci)"
with_progress npm ci --no-audit --no-fund --loglevel http
rm -rf static/vendor
# The scanner's QR decoder where the browser has no BarcodeDetector: the polyfill (an ES module and
# the one it imports) and ZXing's WebAssembly reader, served from here (the polyfill's default is a CDN).
mkdir -p static/vendor/barcode-detector && cp node_modules/barcode-detector/dist/es/ponyfill.js node_modules/barcode-detector/dist/es/zxing-exported.js node_modules/barcode-detector/LICENSE static/vendor/barcode-detector/
cp node_modules/zxing-wasm/dist/reader/zxing_reader.wasm static/vendor/barcode-detector/
cp node_modules/zxing-wasm/LICENSE static/vendor/barcode-detector/LICENSE-zxing-wasm
# IndexedDB in a few lines: the scanner's offline queue and roster.
mkdir -p static/vendor/idb-keyval && cp node_modules/idb-keyval/dist/index.js node_modules/idb-keyval/LICENCE static/vendor/idb-keyval/
mkdir -p static/vendor/socket.io && cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/socket.io/
# HMAC-SHA256 for the scanner's offline roster (ES modules importing one another; WebCrypto needs HTTPS).
mkdir -p static/vendor/noble-hashes && cp node_modules/@noble/hashes/{hmac,sha2,_md,_u64,utils}.js node_modules/@noble/hashes/LICENSE static/vendor/noble-hashes/

step "Compiling the translations"
.venv/bin/pybabel compile --use-fuzzy -d workshop/translations -f >/dev/null
export FLASK_APP=workshop
step "Bringing the database schema up to date (flask db upgrade)"
.venv/bin/flask db upgrade
step "Writing the static files under hashed names, with gzip and brotli copies (flask assets)"
.venv/bin/flask assets
