"""The single-machine mode is light without nginx (issue 13): pages and JSON are compressed by the
app, static files carry a hash of their content in their name (workshop/assets.py) and are served
precompressed with a year of immutable caching; files that are compressed already are left alone,
and Socket.IO keeps working on the compressing server."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import subprocess
import sys

import brotli
import pytest

from tests import factories, serving
from workshop import assets
from workshop.auth.models import Role
from workshop.config import PROJECT_ROOT
from workshop.live import services as live_services
from workshop.registration.models import Status
from workshop.registration.services import ensure_participant_user

STATIC = PROJECT_ROOT / "static"
YEAR_IMMUTABLE = "max-age=31536000, public, immutable"
HASHED = re.compile(r'(?:href|src)="/static/(dist/[^"]+)"')


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[: assets.HASH_LENGTH]


def test_pages_name_static_files_under_a_hash_of_their_content(client):
    page = client.get("/login").get_data(as_text=True)

    names = HASHED.findall(page)
    source = (STATIC / "css" / "app.css").read_bytes()
    assert f"dist/css/app.{_digest(source)}.css" in names
    assert all(name.startswith(("dist/css/", "dist/js/", "dist/vendor/")) for name in names), names
    assert "/static/css/" not in page and "/static/js/" not in page


def test_a_module_imports_the_hashed_names_of_what_it_imports(app, client):
    manifest = app.extensions["static_manifest"]

    live = client.get(f"/static/{manifest['js/live.js']}").get_data(as_text=True)
    client_module = client.get(f"/static/{manifest['js/live_client.js']}").get_data(as_text=True)

    live_client_name = manifest["js/live_client.js"].removeprefix("dist/js/")
    assert f'from "./{live_client_name}"' in live
    assert 'from "./live_client.js"' not in live
    assert f'from "./{manifest["js/lib/page_socket.js"].removeprefix("dist/js/")}"' in client_module
    # The hash is that of the rewritten module, so it changes when an import's name does.
    assert manifest["js/live.js"] == f"dist/js/live.{_digest(live.encode())}.js"


@pytest.mark.parametrize(("accept", "encoding"), [("br, gzip", "br"), ("gzip", "gzip"), ("", None)])
def test_hashed_static_files_are_served_precompressed_with_a_year_of_immutable_caching(
    app, client, accept, encoding
):
    hashed = app.extensions["static_manifest"]["js/live_client.js"]

    response = client.get(f"/static/{hashed}", headers={"Accept-Encoding": accept} if accept else {})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == YEAR_IMMUTABLE
    assert response.headers["Content-Type"] == 'text/javascript; charset="utf-8"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.headers.get("Content-Encoding") == encoding
    body = response.get_data()
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda data: data}[encoding](body)
    assert decoded == (STATIC / hashed).read_bytes()


def test_a_static_file_under_its_own_name_is_revalidated_on_every_use(client):
    first = client.get("/static/css/app.css")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "max-age=0, public"
    assert first.get_data() == (STATIC / "css" / "app.css").read_bytes()

    again = client.get("/static/css/app.css", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def _as_participant(client, user) -> None:
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.get_id()
        cookie["_fresh"] = False


@pytest.mark.parametrize(
    ("accept", "encoding"), [("gzip, deflate, br, zstd", "br"), ("gzip", "gzip"), ("", None)]
)
def test_pages_and_json_are_compressed_as_the_browser_accepts(session, client, accept, encoding):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, status=Status.APPROVED)
    participant = ensure_participant_user(session, registration.person)
    stage, organiser = program.stages[0], factories.staff(session, Role.PANITIA)
    live_services.update_settings(
        session, stage, questions_moderated=False, anonymous_allowed=True, actor=organiser
    )
    for number in range(3):  # a state above the smallest size worth compressing (500 bytes)
        text = f"Pertanyaan {number}: kapan jaringan internet sampai ke desa kami?"
        live_services.ask(
            session, stage, registration, text, anonymous=False, now=stage.starts_at, per_minute=5
        )  # while the stage ran (an ended stage takes no question)
    session.commit()
    _as_participant(client, participant)
    headers = {"Accept-Encoding": accept} if accept else {}

    page = client.get(f"/saya/{program.slug}", headers=headers)
    state = client.get(f"/live/{program.stages[0].id}/state", headers=headers)

    for response in (page, state):
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda data: data}[encoding]
    assert registration.person.name in decode(page.get_data()).decode()
    assert json.loads(decode(state.get_data()))["stage_id"] == program.stages[0].id


def test_pdf_xlsx_and_png_downloads_are_not_compressed_again(session, client, login):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, status=Status.APPROVED)
    participant = ensure_participant_user(session, registration.person)
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    login(organiser)
    accept = {"Accept-Encoding": "br, gzip"}

    downloads = {
        "application/pdf": client.get(
            f"/admin/stages/{program.stages[0].id}/daftar-hadir.pdf", headers=accept
        ),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": client.get(
            f"/admin/programs/{program.id}/attendance.xlsx", headers=accept
        ),
    }
    client.post("/logout")
    _as_participant(client, participant)
    downloads["image/png"] = client.get(f"/saya/{program.slug}/tiket.png", headers=accept)

    for mimetype, response in downloads.items():
        assert response.status_code == 200, mimetype
        assert response.mimetype == mimetype
        assert "Content-Encoding" not in response.headers, mimetype
    assert downloads["application/pdf"].get_data().startswith(b"%PDF")
    assert downloads["image/png"].get_data().startswith(b"\x89PNG")


def test_a_changed_file_gets_a_new_name_and_the_one_before_is_kept_for_an_upgrade(tmp_path):
    root = tmp_path / "static"
    (root / "js").mkdir(parents=True)
    (root / "js" / "page.js").write_text('import { helper } from "./helper.js";\nhelper();\n')
    (root / "js" / "helper.js").write_text("export function helper() { return 1; }\n" * 40)

    first = assets.ensure_built(root)
    (root / "js" / "helper.js").write_text("export function helper() { return 2; }\n" * 40)
    second = assets.ensure_built(root)

    assert first["js/helper.js"] != second["js/helper.js"]
    assert first["js/page.js"] != second["js/page.js"]  # its import names the new file
    assert json.loads((root / "dist" / "manifest.json").read_text()) == second
    assert json.loads((root / "dist" / "manifest.previous.json").read_text()) == first
    helper = root / second["js/helper.js"]
    assert gzip.decompress((root / f"{second['js/helper.js']}.gz").read_bytes()) == helper.read_bytes()
    assert brotli.decompress((root / f"{second['js/helper.js']}.br").read_bytes()) == helper.read_bytes()

    (root / "js" / "helper.js").write_text("export function helper() { return 3; }\n" * 40)
    third = assets.ensure_built(root)
    removed = assets.prune(root)

    assert removed == 4  # the first build's page.js (too small to compress), helper.js and its two copies
    left = sorted(path.relative_to(root).as_posix() for path in (root / "dist").rglob("*.js"))
    assert left == sorted(
        {second["js/page.js"], second["js/helper.js"], third["js/page.js"], third["js/helper.js"]}
    )


def test_relative_imports_are_rewritten_and_an_import_cycle_is_left_as_written(tmp_path):
    root = tmp_path / "static"
    (root / "js").mkdir(parents=True)
    (root / "vendor").mkdir()
    (root / "js" / "a.js").write_text(
        'import { b } from "./b.js";\nimport "../vendor/side.js";\nconst c = () => import("./c.js");\n'
        'import x from "https://example.org/x.js";\nexport const a = 1;\n'
    )
    (root / "js" / "b.js").write_text('import { a } from "./a.js";\nexport const b = a;\n')
    (root / "js" / "c.js").write_text("export const c = 3;\n")
    (root / "vendor" / "side.js").write_text("window.side = true;\n")

    manifest = assets.ensure_built(root)

    a = (root / manifest["js/a.js"]).read_text()
    b = (root / manifest["js/b.js"]).read_text()
    assert f'from "./{manifest["js/b.js"].removeprefix("dist/js/")}"' in a
    assert f'import "../{manifest["vendor/side.js"].removeprefix("dist/")}"' in a
    assert f'import("./{manifest["js/c.js"].removeprefix("dist/js/")}")' in a
    assert 'from "https://example.org/x.js"' in a
    assert 'from "./a.js"' in b  # a imports b imports a: b keeps the plain name


def test_modules_in_subfolders_import_each_other_by_their_hashed_names(tmp_path):
    root = tmp_path / "static"
    for folder in ("js/lib", "js/scanner"):
        (root / folder).mkdir(parents=True)
    (root / "js" / "page.js").write_text('import { id } from "./lib/id.js";\nexport const page = id;\n')
    (root / "js" / "lib" / "id.js").write_text('export { config as id } from "./config.js";\n')
    (root / "js" / "lib" / "config.js").write_text("export const config = 1;\n")
    (root / "js" / "scanner" / "main.js").write_text(
        'import { id } from "../lib/id.js";\nimport { queue } from "./queue.js";\nexport const main = [id, queue];\n'
    )
    (root / "js" / "scanner" / "queue.js").write_text("export const queue = [];\n")

    manifest = assets.ensure_built(root)

    def text(name):
        return (root / manifest[name]).read_text()

    def hashed(name, folder):
        return manifest[name].removeprefix(f"dist/{folder}/")

    assert manifest["js/lib/id.js"].startswith("dist/js/lib/id.")
    assert f'from "./{hashed("js/lib/id.js", "js")}"' in text("js/page.js")
    assert f'from "./{hashed("js/lib/config.js", "js/lib")}"' in text("js/lib/id.js")
    assert f'from "../lib/{hashed("js/lib/id.js", "js/lib")}"' in text("js/scanner/main.js")
    assert f'from "./{hashed("js/scanner/queue.js", "js/scanner")}"' in text("js/scanner/main.js")


def test_python_app_py_compresses_its_pages_and_keeps_socket_io_working(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'bimtek.sqlite3'}"
    serving.prepare_database(database_url)
    port = serving.free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "app.log").open("wb")
    app = serving.start(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env=serving.environment(database_url, HOST="127.0.0.1", PORT=str(port)),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        serving.wait_for(base_url + "/healthz", app)
        browser = serving.Browser(base_url)
        with browser.get("/login", headers={"Accept-Encoding": "gzip"}) as page:
            assert page.headers["Content-Encoding"] == "gzip"
            assert 'name="csrf_token"' in gzip.decompress(page.read()).decode()
        # Engine.IO's long-polling answers (it compresses them itself) and a WebSocket upgrade.
        with browser.get(
            "/socket.io/?EIO=4&transport=polling", headers={"Accept-Encoding": "gzip"}
        ) as polling:
            body = polling.read()
            if polling.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            assert body.startswith(b"0{") and b'"sid"' in body
        browser.log_in()
        _opened, answer = serving.socketio_connect(base_url, browser.cookie_header())
        assert answer.startswith("40{") and '"sid"' in answer
    finally:
        serving.stop(app)
        log.close()
