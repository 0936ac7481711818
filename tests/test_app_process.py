"""`python app.py` as `scripts/run.sh` runs it, as a real process on a migrated SQLite file.

- SIGTERM and Ctrl-C (SIGINT) stop it cleanly: exit status 0, no traceback, and the embedded
  scheduler's heartbeat row is gone, so the next start sees no other scheduler.
- After a kill (no clean stop) the next start does not warn about the dead process's heartbeat.
- It serves WebSockets through gevent-websocket (Engine.IO's choice when it is installed).
- The certificates' bulk run works in the background there, and the ZIP is served.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests import factories, serving
from tests.test_certificates import HADIR, TIDAK, _attend, _rule
from workshop import create_app
from workshop.certificates import bulk
from workshop.db import db
from workshop.registration.models import Status

DUPLICATE_WARNING = "another reminder scheduler is running"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """One database made by `flask db upgrade` (with an admin), copied for each test."""
    path = tmp_path_factory.mktemp("migrated") / "bimtek.sqlite3"
    serving.prepare_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def database(migrated, tmp_path) -> tuple[str, Path]:
    path = Path(shutil.copy(migrated, tmp_path / "bimtek.sqlite3"))
    return f"sqlite:///{path}", path


def _start(url: str, port: int, **extra: str) -> subprocess.Popen:
    env = serving.environment(url, HOST="127.0.0.1", PORT=str(port), REMINDER_TICK_SECONDS="1", **extra)
    return serving.start(
        [sys.executable, "app.py"],
        cwd=serving.PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _heartbeats(path: Path) -> list[str]:
    connection = sqlite3.connect(path, timeout=10)
    try:
        return [name for (name,) in connection.execute("SELECT name FROM scheduler_heartbeat ORDER BY name")]
    finally:
        connection.close()


def _finish(process: subprocess.Popen, signum: int) -> str:
    process.send_signal(signum)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"app.py did not stop within 30 s of signal {signum}:\n{output}") from None
    return output


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_app_py_stops_cleanly_and_removes_its_scheduler_heartbeat(database, signum):
    url, path = database
    port = serving.free_port()
    process = _start(url, port)
    try:
        serving.wait_for(f"http://127.0.0.1:{port}/healthz", process)  # 200 once the scheduler beat
        assert len(_heartbeats(path)) == 1
    finally:
        output = _finish(process, signum)

    assert process.returncode == 0, output
    assert "Traceback" not in output
    assert "KeyboardInterrupt" not in output
    assert output.endswith("Bimtek Hybrid stopped.\n"), output
    assert _heartbeats(path) == []


def test_a_start_after_a_kill_does_not_warn_about_the_dead_processes_heartbeat(database):
    url, path = database
    port = serving.free_port()
    killed = _start(url, port)
    try:
        serving.wait_for(f"http://127.0.0.1:{port}/healthz", killed)
    finally:
        killed.kill()
        killed.communicate(timeout=30)
    (left_behind,) = _heartbeats(path)

    restarted = _start(url, port)
    try:
        serving.wait_for(f"http://127.0.0.1:{port}/healthz", restarted)
        # Both rows are fresh at first; the dead one's stops counting after three ticks (3 s), by
        # which time the new scheduler has beaten three times and looked at it each time.
        deadline = time.monotonic() + 30
        while serving.get_json(f"http://127.0.0.1:{port}/healthz")[1]["checks"]["scheduler"]["running"] != 1:
            assert time.monotonic() < deadline, "the killed scheduler's heartbeat never expired"
            time.sleep(0.2)
        time.sleep(1.5)  # another tick that looks at the stale row
    finally:
        output = _finish(restarted, signal.SIGTERM)

    assert restarted.returncode == 0, output
    assert DUPLICATE_WARNING not in output
    assert _heartbeats(path) == [left_behind]  # only the clean stop's own row went


def test_app_py_serves_websockets_through_gevent_websocket(database):
    url, _ = database
    port = serving.free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = _start(url, port)
    try:
        serving.wait_for(base_url + "/healthz", process)
        browser = serving.Browser(base_url)
        browser.log_in()
        # Engine.IO uses gevent-websocket (installed): the WebSocket works only if our handler is its handler.
        opened, answer = serving.socketio_connect(base_url, browser.cookie_header())
        assert opened["upgrades"] == []
        assert answer.startswith("40{") and '"sid"' in answer
    finally:
        output = _finish(process, signal.SIGTERM)
    assert process.returncode == 0, output
    assert "Traceback" not in output


def test_app_py_issues_the_certificates_in_the_background_and_serves_their_zip(database, tmp_path):
    """The bulk run as `python app.py` runs it (gevent: a greenlet, the standings and the PDFs in a
    child process of workshop/offload.py): progress up to "done", then the ZIP with every PDF."""
    url, _path = database
    folder = tmp_path / "certificates"  # CERTIFICATE_DIR: this database's, not the project's instance folder
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": serving.SECRET_KEY, "CERTIFICATE_DIR": str(folder)}
    )
    with app.app_context():
        program = factories.program(db.session, stages=4)  # four stages of 2021: all ended
        for name, statuses in [
            ("Rina Siregar", [HADIR] * 3 + [TIDAK]),
            ("Budi Hutabarat", [HADIR] + [TIDAK] * 3),
        ]:
            _attend(
                db.session,
                factories.registration(db.session, program, status=Status.APPROVED, name=name),
                statuses,
            )
        _rule(db.session, program)
        program_id, slug = program.id, program.slug
        db.session.commit()
        db.engine.dispose()
    port = serving.free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = _start(url, port, CERTIFICATE_DIR=str(folder))
    try:
        serving.wait_for(base_url + "/healthz", process)
        organiser = serving.Browser(base_url)
        organiser.log_in()
        page = organiser.get(f"/admin/programs/{program_id}/sertifikat").read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        request = urllib.request.Request(
            f"{base_url}/admin/programs/{program_id}/sertifikat/generate",
            data=urllib.parse.urlencode({"csrf_token": token}).encode(),
            headers={"Origin": base_url},
        )
        with organiser.opener.open(request, timeout=30) as response:
            assert response.status == 200  # the certificates page again, after the redirect

        deadline = time.monotonic() + 120
        while (
            progress := json.loads(organiser.get(f"/admin/programs/{program_id}/sertifikat/progress").read())
        )["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert progress == {"status": "done", "done": 1, "total": 1, "issued": 1}
        with organiser.get(f"/admin/programs/{program_id}/sertifikat.zip") as response:
            assert response.headers["Content-Disposition"] == f"attachment; filename=sertifikat-{slug}.zip"
            archive = zipfile.ZipFile(io.BytesIO(response.read()))
        assert bulk.zip_path(app, program_id) == folder / f"program-{program_id}.zip"
        assert bulk.zip_path(app, program_id).exists()
        [name] = archive.namelist()
        assert name == "0001-Rina-Siregar.pdf"
        assert "Rina Siregar" in PdfReader(archive.open(name)).pages[0].extract_text()
    finally:
        output = _finish(process, signal.SIGTERM)
    assert "Traceback" not in output, output
