"""The live page loads live.js and every module it imports as one bundle (workshop/assets.py): on
slow mobile data each file costs a round trip, and a module is found only when its importer arrives
(the Slow 3G budget)."""

from __future__ import annotations

import re
from pathlib import Path

from workshop import assets

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
JS = STATIC / "js"
IMPORT = re.compile(r'^import\s[^;]*?from\s+"(\.[^"]+)"', re.MULTILINE | re.DOTALL)
EXPORTED = re.compile(r"^export\s+(?:async\s+)?function\s+(\w+)", re.MULTILINE)
SCRIPT = re.compile(r"<script\b[^>]*\bsrc=\"\{\{ url_for\('static', filename='([^']+)'\) \}\}\"")


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


def test_the_live_page_loads_one_script_of_its_own_the_bundle_and_preloads_no_module():
    template = (ROOT / "templates" / "live" / "participant.html").read_text(encoding="utf-8")

    assert SCRIPT.findall(template) == ["bundle/live.js"]
    assert "modulepreload" not in template
    assert assets.BUNDLES == {"bundle/live.js": "js/live.js"}


def test_the_bundle_holds_every_module_live_js_imports_and_imports_nothing():
    assets.bundle(STATIC)
    bundle = (STATIC / "bundle" / "live.js").read_text(encoding="utf-8")
    modules = imported_by(JS / "live.js")

    assert "import " not in bundle.replace("import(", "")  # esbuild keeps no import of what it bundled
    assert {"live_client.js", "live/page.js", "live/server_clock.js", "lib/client_id.js"} <= modules
    for module in modules:  # each brings a function, under its own name (or with a number where two
        # modules share one); what live.js never uses is left out (esbuild's tree shaking)
        exported = EXPORTED.findall((JS / module).read_text(encoding="utf-8"))
        assert any(re.search(rf"\bfunction {name}\d*\(", bundle) for name in exported), module


def test_the_bundle_is_written_again_when_a_module_changes(tmp_path):
    root = tmp_path / "static"
    (root / "js" / "lib").mkdir(parents=True)
    (root / "js" / "lib" / "word.js").write_text('export const word = () => "first";\n')
    (root / "js" / "live.js").write_text('import { word } from "./lib/word.js";\nconsole.log(word());\n')
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")

    manifest = assets.ensure_built(root)
    first = (root / manifest["bundle/live.js"]).read_text()
    (root / "js" / "lib" / "word.js").write_text('export const word = () => "second";\n')
    second = (root / assets.ensure_built(root)["bundle/live.js"]).read_text()

    assert '"first"' in first and "import" not in first
    assert '"second"' in second and '"first"' not in second


def test_without_esbuild_the_bundle_s_name_gives_the_entry_module_which_imports_the_rest(tmp_path):
    root = tmp_path / "static"
    (root / "js").mkdir(parents=True)
    (root / "js" / "live.js").write_text('console.log("live");\n')

    manifest = assets.ensure_built(root)

    assert not (root / "bundle").exists()
    assert manifest["bundle/live.js"] == manifest["js/live.js"]
