"""The production web server: `gunicorn -c deploy/gunicorn.conf.py 'workshop:create_app()'` as
docs/deploy.md runs it, on a free port with a SQLite database made by `flask db upgrade`.

It must load the app in its gevent worker (monkey-patched before the app, no patch warnings),
serve pages and /healthz (the embedded scheduler runs in the worker), accept a logged-in Socket.IO
connection over a real WebSocket, write JSON log lines, and stop cleanly on SIGTERM.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests import serving

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CONFIG = str(serving.PROJECT_ROOT / "deploy" / "gunicorn.conf.py")


@pytest.fixture
def gunicorn(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'bimtek.sqlite3'}"
    serving.prepare_database(database_url)
    port = serving.free_port()
    env = serving.environment(
        database_url, HOST="127.0.0.1", PORT=str(port), REMINDER_TICK_SECONDS="1", LOG_FORMAT="json"
    )
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = serving.start(
            [GUNICORN, "-c", CONFIG, "workshop:create_app()"],
            cwd=serving.PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        serving.wait_for(base_url + "/healthz", process)
        yield process, base_url, stdout, stderr
    finally:
        serving.stop(process)


def test_gunicorn_serves_pages_health_and_websockets(gunicorn):
    process, base_url, stdout, stderr = gunicorn

    status, health = serving.get_json(base_url + "/healthz")
    assert status == 200
    assert health["status"] == "ok"
    assert health["checks"]["database"] == {
        **health["checks"]["database"],
        "status": "ok",
        "dialect": "sqlite",
    }
    assert health["checks"]["scheduler"]["modes"] == ["embedded"]  # started in the worker
    assert health["checks"]["scheduler"]["max_age_seconds"] == 3

    browser = serving.Browser(base_url)
    with browser.get("/login") as response:
        assert response.status == 200
        assert "csrf_token" in response.read().decode()
    browser.log_in()

    # Engine.IO over a WebSocket straight away: the gevent worker hands the socket to the app.
    opened, answer = serving.socketio_connect(base_url, browser.cookie_header())
    assert opened["upgrades"] == []  # already on the WebSocket
    assert opened["pingInterval"] == 25000
    assert answer.startswith("40{") and '"sid"' in answer  # connected as the logged-in admin

    _, refused = serving.socketio_connect(base_url)  # no login: refused by the connect rule
    assert refused.startswith("44") and "login_required" in refused

    assert serving.stop(process) == 0  # SIGTERM: a clean, graceful stop
    database = sqlite3.connect(stdout.with_name("bimtek.sqlite3"))  # beside the logs, in tmp_path
    try:  # the worker's scheduler removed its heartbeat: the next start sees no other scheduler
        assert database.execute("SELECT count(*) FROM scheduler_heartbeat").fetchone() == (0,)
    finally:
        database.close()

    access = [json.loads(line) for line in stdout.read_text().splitlines() if line.startswith("{")]
    paths = {(entry["method"], entry["path"], entry["status"]) for entry in access}
    assert ("GET", "/healthz", 200) in paths
    assert ("POST", "/login", 302) in paths
    assert all(entry["logger"] == "gunicorn.access" and entry["duration_ms"] >= 0 for entry in access)

    # LOG_FORMAT=json: every stderr line is one JSON object (no plain warnings, e.g. about
    # monkey-patching too late).
    lines = stderr.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    messages = [record["message"] for record in records]
    assert any(message.startswith("Booting worker") for message in messages)
    assert any("Using worker: gevent" in message for message in messages)
    assert not [record for record in records if record["level"] in {"ERROR", "CRITICAL"}]


def test_gunicorn_web_process_with_flask_scheduler_apart(tmp_path):
    """EMBEDDED_SCHEDULER=0 (several web processes, one `flask scheduler`): /healthz says 503 until
    the scheduler process beats, 200 while it runs, 503 again once it stopped."""
    database_url = f"sqlite:///{tmp_path / 'bimtek.sqlite3'}"
    serving.prepare_database(database_url)
    port = serving.free_port()
    env = serving.environment(
        database_url, HOST="127.0.0.1", PORT=str(port), EMBEDDED_SCHEDULER="0", REMINDER_TICK_SECONDS="1"
    )
    health_url = f"http://127.0.0.1:{port}/healthz"
    web = serving.start(
        [GUNICORN, "-c", CONFIG, "workshop:create_app()"],
        cwd=serving.PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    scheduler = None
    try:
        health = json.loads(serving.wait_for(health_url, web, status=503))
        assert health["checks"]["database"]["status"] == "ok"
        assert health["checks"]["scheduler"]["status"] == "fail"
        assert health["checks"]["scheduler"]["running"] == 0

        scheduler = serving.start(
            [serving.FLASK, "scheduler"],
            cwd=serving.PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        health = json.loads(serving.wait_for(health_url, web, status=200))
        assert health["checks"]["scheduler"]["modes"] == ["process"]

        assert serving.stop(scheduler) == 0  # a clean stop removes its heartbeat
        serving.wait_for(health_url, web, status=503, timeout=5)
    finally:
        if scheduler is not None:
            serving.stop(scheduler)
        assert serving.stop(web) == 0
