"""The live page asks for every module live.js imports at once (modulepreload): on slow mobile data
each module found only when its importer arrives costs a round trip (the Slow 3G budget)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "static" / "js"
IMPORT = re.compile(r'^import\s[^;]*?from\s+"(\.[^"]+)"', re.MULTILINE | re.DOTALL)
PRELOAD = re.compile(r"rel=\"modulepreload\" href=\"\{\{ url_for\('static', filename='js/([^']+)'\) \}\}\"")


def imported_by(entry: Path) -> set[str]:
    """Every module `entry` imports, directly or not, as paths under static/js."""
    found: set[str] = set()
    waiting = [entry]
    while waiting:
        module = waiting.pop()
        for target in IMPORT.findall(module.read_text(encoding="utf-8")):
            path = (module.parent / target).resolve()
            name = path.relative_to(JS).as_posix()
            if name not in found:
                found.add(name)
                waiting.append(path)
    return found


def test_the_live_page_preloads_exactly_the_modules_live_js_imports():
    template = (ROOT / "templates" / "live" / "participant.html").read_text(encoding="utf-8")

    assert set(PRELOAD.findall(template)) == imported_by(JS / "live.js")


def test_the_import_graph_is_read_through_every_level():
    assert {"live_client.js", "live/page.js", "live/server_clock.js", "lib/client_id.js"} <= imported_by(
        JS / "live.js"
    )
