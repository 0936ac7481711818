#!/usr/bin/env bash
# Update the translation catalogs after strings changed in the code: extract every string, merge
# the new ones into workshop/translations/{id,en}. The catalogs are kept sorted and without source
# locations, so that two branches that add strings rarely touch the same lines. Then translate the
# new (empty) entries of workshop/translations/id/LC_MESSAGES/messages.po; tests/test_translations.py
# names any that is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
template=$(mktemp --suffix=.pot)
trap 'rm -f "$template"' EXIT
.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _ln:1,2 -k lazy_ngettext:1,2 --no-location --sort-output --no-wrap -o "$template" . >/dev/null 2>&1
.venv/bin/pybabel update -i "$template" -d workshop/translations --no-fuzzy-matching --ignore-obsolete --no-wrap >/dev/null 2>&1
