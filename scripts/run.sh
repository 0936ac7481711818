#!/usr/bin/env bash
# Set up (see setup.sh), load the demo data into an empty database, start the app on
# http://127.0.0.1:5000 (SQLite, no other service needed).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/steps.sh
bash scripts/setup.sh
export FLASK_APP=workshop
step "Loading the demo data (only into an empty database)"
.venv/bin/flask seed-demo --if-empty  # and prints the staff accounts and a participant's link
step "Starting the app"
exec .venv/bin/python app.py
