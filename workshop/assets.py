"""Static files under content-hashed names, compressed ahead of time, cached for a year.

The build copies every file of static/ (our own and the npm packages in static/vendor) to
static/dist/ under a name that carries a hash of its content (js/live.js becomes
dist/js/live.3f2a1b9c0d4e.js), points the relative imports of JavaScript modules at those names,
writes gzip and brotli copies next to each file that shrinks, and records the names in
static/dist/manifest.json. The setup step runs it (`flask assets`), and every start-up checks that
the manifest still matches the files and builds what is missing, so that a checkout edited since
the setup never serves old code.

The live page's script and every module it imports are first bundled into one file,
static/bundle/live.js (esbuild, an npm package the setup installs; not committed): on slow mobile
data each file costs a round trip, and a module is found only when its importer arrives. The
bundle is written again whenever a file of static/js is newer than it; without esbuild (npm
packages older than it) its name gives the entry module, which imports the rest file by file. The
source modules stay in static/js (the other pages import them as they are).

`url_for('static', filename='js/live.js')` then gives the hashed URL. WhiteNoise serves static/
in the app (nginx serves it itself in front of several processes, see deploy/): the precompressed
copy the browser accepts, a year's immutable caching for the hashed names, revalidation for the rest.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import posixpath
import re
import subprocess
import tempfile
from pathlib import Path

import brotli
import click
from flask import Flask, current_app
from whitenoise import WhiteNoise

from workshop.extensions import wrap_wsgi_app

DIST = "dist"
MANIFEST = "manifest.json"
PREVIOUS_MANIFEST = "manifest.previous.json"
HASH_LENGTH = 12
IMMUTABLE_MAX_AGE = 365 * 24 * 60 * 60
COMPRESSIBLE = frozenset({".js", ".css", ".svg", ".json", ".txt", ".map", ".wasm"})
# Worth storing only when it saves at least 5% (as WhiteNoise's own compressor decides).
COMPRESSED_RATIO = 0.95
# The relative specifiers of `import ... from "./x.js"`, `import "./x.js"` and `import("./x.js")`.
MODULE_SPECIFIER = re.compile(r"""(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?/[^"'\s]+)\2""")

log = logging.getLogger(__name__)

# bundle under static/ -> its entry module there (its imports are read from static/js).
BUNDLES = {"bundle/live.js": "js/live.js"}
BUNDLE_SOURCES = "js"
ESBUILD = Path("node_modules") / ".bin" / "esbuild"  # under the project root, static/'s parent
ESBUILD_OPTIONS = (
    "--bundle",
    "--format=esm",
    "--target=es2020",
    "--minify-whitespace",
    "--minify-syntax",
    "--log-level=warning",
)

# static root -> (the sources' sizes and times, manifest): each process reads the files once.
_built: dict[Path, tuple[tuple, dict[str, str]]] = {}


class StaticFiles(WhiteNoise):
    FOREVER = IMMUTABLE_MAX_AGE  # WhiteNoise's "immutable" caching, a year rather than ten


def _static_root(app: Flask) -> Path:
    assert app.static_folder is not None  # create_app names it
    return Path(app.static_folder)


def init_app(app: Flask) -> None:
    """Hashed names for url_for('static', ...), and static/ served with the right caching."""
    root = _static_root(app)
    manifest = ensure_built(root)
    app.extensions["static_manifest"] = manifest

    @app.url_defaults
    def _hashed_static_name(endpoint: str, values: dict) -> None:
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    wrap_wsgi_app(
        app,
        StaticFiles(
            app.wsgi_app,
            root=str(root),
            prefix=app.static_url_path,
            max_age=0,  # names without a hash: the browser revalidates them on every use
            allow_all_origins=False,
            immutable_file_test=lambda _path, url: url.startswith(f"{app.static_url_path}/{DIST}/"),
            add_headers_function=_nosniff,
        ),
    )
    app.cli.add_command(assets_command)


def _nosniff(headers, _path, _url) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def ensure_built(root: Path) -> dict[str, str]:
    """The manifest of static/, after writing whatever bundle, hashed file or manifest is missing."""
    bundle(root)
    sources = _sources(root)
    signature = tuple((name, path.stat().st_size, path.stat().st_mtime_ns) for name, path in sources.items())
    manifest_path = root / DIST / MANIFEST
    known = _built.get(root)
    if known and known[0] == signature and manifest_path.exists():
        return known[1]
    planned = _plan(sources)
    manifest = {name: hashed for name, (hashed, _content) in planned.items()}
    for name, entry in BUNDLES.items():
        if name not in manifest and entry in manifest:
            # No esbuild (a checkout whose npm packages predate it): the entry module, which
            # imports the rest one file at a time; slower on mobile data, but the page works.
            manifest[name] = manifest[entry]
    for hashed, content in planned.values():
        target = root / hashed
        if not target.exists():
            _write_with_compressed_copies(target, content)
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    if not manifest_path.exists() or manifest_path.read_text() != text:
        if manifest_path.exists():
            # Kept for processes still running the version before, during an upgrade.
            os.replace(manifest_path, root / DIST / PREVIOUS_MANIFEST)
        _write(manifest_path, text.encode())
    _built[root] = (signature, manifest)
    return manifest


def bundle(root: Path) -> None:
    """Write each bundle of BUNDLES that is missing or older than a file of static/js (or than
    these options)."""
    for name, entry in BUNDLES.items():
        target = root / name
        if not (root / entry).exists():
            continue
        inputs = [Path(__file__), *(root / BUNDLE_SOURCES).rglob("*.js")]  # this file: the options
        newest = max(path.stat().st_mtime_ns for path in inputs)
        if target.exists() and target.stat().st_mtime_ns >= newest:
            continue
        esbuild = root.parent / ESBUILD
        if not esbuild.exists():  # a server without the npm packages keeps the bundle it was given
            if not target.exists():
                log.warning("%s is missing to write static/%s (run scripts/setup.sh)", esbuild, name)
            continue
        built = subprocess.run(
            [str(esbuild), entry, *ESBUILD_OPTIONS], cwd=root, capture_output=True, check=True
        )
        _write(target, built.stdout)


def prune(root: Path) -> int:
    """Remove the hashed files that neither the manifest nor the one before it names; returns how
    many."""
    wanted = set()
    for name in (MANIFEST, PREVIOUS_MANIFEST):
        if (root / DIST / name).exists():
            wanted.update(json.loads((root / DIST / name).read_text()).values())
    removed = 0
    for path in sorted((root / DIST).rglob("*")):
        hashed = path.relative_to(root).as_posix().removesuffix(".gz").removesuffix(".br")
        if path.is_file() and path.name not in (MANIFEST, PREVIOUS_MANIFEST) and hashed not in wanted:
            path.unlink()
            removed += 1
    return removed


@click.command("assets")
def assets_command() -> None:
    """Build static/dist (hashed names, gzip and brotli copies) and drop outdated files."""
    root = _static_root(current_app)
    manifest = ensure_built(root)
    removed = prune(root)
    click.echo(
        f"Static files: {len(manifest)} under hashed names in {root / DIST}, {removed} outdated removed."
    )


def _sources(root: Path) -> dict[str, Path]:
    """Every static file outside dist/, by its name under static/."""
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).parts[0] != DIST
    }


def _plan(sources: dict[str, Path]) -> dict[str, tuple[str, bytes]]:
    """name -> (hashed name, content). A module's relative imports are rewritten to the hashed
    names of what it imports (so its own hash changes when theirs do); other files are copied."""
    planned: dict[str, tuple[str, bytes]] = {}

    def visit(name: str, importers: frozenset[str]) -> str:
        if name not in planned:
            content = sources[name].read_bytes()
            if name.endswith(".js"):
                content = rewrite_imports(name, content, importers | {name})
            stem, suffix = posixpath.splitext(name)
            digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
            planned[name] = (f"{DIST}/{stem}.{digest}{suffix}", content)
        return planned[name][0]

    def rewrite_imports(name: str, content: bytes, importers: frozenset[str]) -> bytes:
        folder = posixpath.dirname(name)

        def replace(match: re.Match) -> str:
            target = posixpath.normpath(posixpath.join(folder, match[3]))
            if target not in sources or target in importers:
                return match[0]  # not a file of ours, or an import cycle: left as written
            relative = posixpath.relpath(visit(target, importers), posixpath.join(DIST, folder))
            specifier = relative if relative.startswith("../") else f"./{relative}"
            return f"{match[1]}{match[2]}{specifier}{match[2]}"

        try:
            return MODULE_SPECIFIER.sub(replace, content.decode()).encode()
        except UnicodeDecodeError:
            return content

    for name in sources:
        visit(name, frozenset())
    return planned


def _write_with_compressed_copies(target: Path, content: bytes) -> None:
    _write(target, content)
    if target.suffix not in COMPRESSIBLE:
        return
    for suffix, compressed in (
        (".gz", gzip.compress(content, compresslevel=9, mtime=0)),
        (".br", brotli.compress(content, quality=11)),
    ):
        if len(compressed) <= COMPRESSED_RATIO * len(content):
            _write(target.with_name(target.name + suffix), compressed)


def _write(target: Path, content: bytes) -> None:
    """Write atomically: processes starting at once write the same bytes side by side."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
