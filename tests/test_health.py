"""GET /healthz: database, Redis (when configured) and the reminder scheduler's heartbeat;
200 when all pass, 503 when one is down. Redis is a real redis-server on loopback."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from workshop.db import db, utcnow
from workshop.health import health_report
from workshop.reminders import services


def _beat(session, name: str, age: timedelta, mode: str = "process") -> None:
    now = utcnow()
    services.beat(
        session,
        name=name,
        mode=mode,
        pid=1,
        host="web-1",
        started_at=now - age - timedelta(hours=1),
        now=now - age,
    )
    session.commit()


def test_no_scheduler_ever_is_a_failure(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "fail"
    assert set(body["checks"]) == {"database", "scheduler"}  # no Redis configured: not checked
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["dialect"] == db.engine.dialect.name
    scheduler = body["checks"]["scheduler"]
    assert scheduler["status"] == "fail"
    assert scheduler["last_heartbeat"] is None
    assert scheduler["age_seconds"] is None
    assert scheduler["running"] == 0
    assert scheduler["max_age_seconds"] == 90  # three ticks of 30 s
    assert "flask scheduler" in scheduler["error"]


def test_a_recent_heartbeat_passes(client, session):
    _beat(session, "process:web-1:1", timedelta(seconds=5))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    scheduler = body["checks"]["scheduler"]
    assert scheduler["status"] == "ok"
    assert scheduler["running"] == 1
    assert scheduler["modes"] == ["process"]
    assert 5 <= scheduler["age_seconds"] < 10
    assert scheduler["last_heartbeat"].endswith("+00:00")
    assert "warning" not in scheduler


def test_a_heartbeat_older_than_three_ticks_fails(app, client, session):
    _beat(session, "process:web-1:1", timedelta(seconds=95))
    response = client.get("/healthz")
    assert response.status_code == 503
    scheduler = response.get_json()["checks"]["scheduler"]
    assert scheduler["status"] == "fail"
    assert scheduler["running"] == 0
    assert 95 <= scheduler["age_seconds"] < 100

    app.config["REMINDER_TICK_SECONDS"] = 60  # a slower tick: three ticks are 180 s
    assert client.get("/healthz").status_code == 200


def test_two_schedulers_pass_with_a_warning(client, session):
    _beat(session, "embedded:web-1:1", timedelta(seconds=2), mode="embedded")
    _beat(session, "process:web-2:1", timedelta(seconds=3))
    response = client.get("/healthz")
    assert response.status_code == 200
    scheduler = response.get_json()["checks"]["scheduler"]
    assert scheduler["running"] == 2
    assert sorted(scheduler["modes"]) == ["embedded", "process"]
    assert "more than one" in scheduler["warning"]


def test_a_database_that_cannot_be_reached_fails_everything_that_needs_it(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}")
    with Session(engine) as broken:
        report = health_report(
            broken, {"REMINDER_TICK_SECONDS": 30, "RATELIMIT_STORAGE_URI": "memory://"}, now=utcnow()
        )
    assert report == {
        "status": "fail",
        "checks": {
            "database": {"status": "fail", "error": "OperationalError"},
            "scheduler": {"status": "fail", "error": "database unavailable"},
        },
    }


def test_redis_is_checked_when_configured_and_a_dead_one_fails_quickly(app, client, session, redis_server):
    process, url = redis_server
    _beat(session, "process:web-1:1", timedelta(seconds=1))
    app.config["RATELIMIT_STORAGE_URI"] = url  # the check reads the settings at each request

    response = client.get("/healthz")
    assert response.status_code == 200
    redis_check = response.get_json()["checks"]["redis"]
    assert redis_check["status"] == "ok"
    assert redis_check["servers"] == {"RATELIMIT_STORAGE_URI": "ok"}

    process.kill()
    process.wait()
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 3  # a short time-out, not a hanging probe
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["redis"]["status"] == "fail"
    assert body["checks"]["redis"]["servers"] == {"RATELIMIT_STORAGE_URI": "fail: ConnectionError"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["scheduler"]["status"] == "ok"
    assert "127.0.0.1" not in response.get_data(as_text=True)  # details go to the log only


def test_a_redis_that_accepts_but_never_answers_times_out(app, client, session):
    _beat(session, "process:web-1:1", timedelta(seconds=1))
    with socket.socket() as silent:  # accepts connections (backlog), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        app.config["SOCKETIO_MESSAGE_QUEUE"] = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        response = client.get("/healthz")
        elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.get_json()["checks"]["redis"]["servers"] == {
        "SOCKETIO_MESSAGE_QUEUE": "fail: TimeoutError"
    }
    assert 0.9 <= elapsed < 3
