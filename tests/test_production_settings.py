"""Settings for serving behind a reverse proxy in production: secure cookies (COOKIE_SECURE),
ProxyFix (PROXY_FIX_HOPS) and JSON logs (LOG_FORMAT)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import request

from tests import factories
from tests.csrf import use_csrf_client
from workshop import create_app
from workshop.auth.models import Role
from workshop.config import ConfigError, from_environment, validate
from workshop.db import db

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "BIMTEK_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-key",
    "PUBLIC_BASE_URL": "https://bimtek.tapanuliutarakab.go.id",
}
COOKIE_SETTINGS = ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE")


@pytest.mark.parametrize(
    ("environ", "secure"),
    [
        ({}, False),
        (PRODUCTION, True),
        ({**PRODUCTION, "COOKIE_SECURE": "0"}, False),  # a plain-HTTP intranet
        ({"COOKIE_SECURE": "1"}, True),
    ],
)
def test_cookies_are_secure_in_production_unless_turned_off(environ, secure):
    config = from_environment(environ)
    validate(config)
    assert config["COOKIE_SECURE"] is secure
    assert {name: config[name] for name in COOKIE_SETTINGS} == dict.fromkeys(COOKIE_SETTINGS, secure)
    assert config["SESSION_COOKIE_SAMESITE"] == config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_COOKIE_HTTPONLY"] is config["REMEMBER_COOKIE_HTTPONLY"] is True


def test_a_production_login_sets_a_secure_httponly_lax_cookie(tmp_path, monkeypatch):
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("COOKIE_SECURE", raising=False)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "TESTING": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    use_csrf_client(app)
    with app.app_context():
        db.create_all()
        user = factories.staff(db.session, Role.PANITIA)
        db.session.commit()
        response = app.test_client().post(
            "/login",
            data={"username": user.username, "password": factories.PASSWORD},
            base_url="https://bimtek.test",
        )
        db.session.remove()
    assert response.status_code == 302
    (cookie,) = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite"} <= attributes
    assert "SameSite=Lax" in cookie


def _probe_app(tmp_path, hops: int):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'proxy.sqlite3'}",
            "TESTING": True,
            "PROXY_FIX_HOPS": hops,
        }
    )

    @app.get("/_probe")
    def probe():
        return {"addr": request.remote_addr, "scheme": request.scheme, "host": request.host}

    return app


FORWARDED = {
    "X-Forwarded-For": "198.51.100.7, 203.0.113.9",  # a spoofed first address, then nginx's view
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "bimtek.tapanuliutarakab.go.id",
}


def test_behind_one_proxy_the_last_forwarded_address_scheme_and_host_are_used(tmp_path):
    response = _probe_app(tmp_path, 1).test_client().get("/_probe", headers=FORWARDED)
    assert response.get_json() == {
        "addr": "203.0.113.9",
        "scheme": "https",
        "host": "bimtek.tapanuliutarakab.go.id",
    }


def test_without_a_proxy_forwarded_headers_are_ignored(tmp_path):
    response = _probe_app(tmp_path, 0).test_client().get("/_probe", headers=FORWARDED)
    assert response.get_json() == {"addr": "127.0.0.1", "scheme": "http", "host": "localhost"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PROXY_FIX_HOPS": "-1"}, "PROXY_FIX_HOPS must be 0"),
        ({"PROXY_FIX_HOPS": "one"}, "PROXY_FIX_HOPS must be a whole number"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be 'plain' or 'json'"),
    ],
)
def test_bad_settings_stop_the_start(environ, message):
    with pytest.raises(ConfigError, match=message):
        validate(from_environment(environ))


def test_json_logs_are_one_object_per_line_on_stderr(tmp_path):
    script = """
import logging
from workshop import create_app
app = create_app()
logging.getLogger("workshop.reminders.jobs").info("reminders: %d sent", 3, extra={"stage_id": 7})
try:
    1 / 0
except ZeroDivisionError:
    app.logger.exception("tick failed")
from workshop.extensions import socketio
socketio.server.logger.error("Cannot receive from redis... retrying in 1 secs")
socketio.server.eio.logger.error("engine trouble")
print("stdout stays clean")
"""
    env = {
        **os.environ,
        "LOG_FORMAT": "json",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
        "SECRET_KEY": "log-test-key",  # else the start-up says which key file it uses
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "stdout stays clean\n"
    lines = result.stderr.splitlines()
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert len(records) == 4  # Socket.IO's own records once each, not also as plain text
    info, error, socketio_error, engineio_error = records
    assert info["level"] == "INFO"
    assert info["logger"] == "workshop.reminders.jobs"
    assert info["message"] == "reminders: 3 sent"
    assert info["stage_id"] == 7
    assert info["time"].endswith("Z")
    assert isinstance(info["process"], int)
    assert error["level"] == "ERROR"
    assert error["logger"] == "workshop"
    assert error["message"] == "tick failed"
    assert "ZeroDivisionError" in error["exception"]
    assert (socketio_error["logger"], socketio_error["level"]) == ("socketio.server", "ERROR")
    assert socketio_error["message"] == "Cannot receive from redis... retrying in 1 secs"
    assert (engineio_error["logger"], engineio_error["message"]) == ("engineio.server", "engine trouble")


def test_plain_logs_stay_as_they_were(tmp_path):
    script = "import logging\nfrom workshop import create_app\ncreate_app()\nlogging.getLogger('x').warning('hi')\n"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
        "SECRET_KEY": "log-test-key",
    }
    env.pop("LOG_FORMAT", None)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "hi\n"
