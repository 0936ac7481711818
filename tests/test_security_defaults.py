"""Defaults that must not let a stranger in or leak what they should not: the secret key, the
public base URL in production, /healthz, HSTS, the WhatsApp gateway's token, login timing."""

from __future__ import annotations

import stat
import threading
from http.server import BaseHTTPRequestHandler

import pytest
import werkzeug.security

from tests import factories
from tests.fakes import Gateway
from tests.test_reminder_channels_whatsapp import _whatsapp, _whatsapp_config
from workshop import create_app
from workshop.auth import services as auth
from workshop.auth.models import Role
from workshop.config import DEV_SECRET_KEY, SECRET_KEY_FILE, ConfigError, from_environment, validate
from workshop.reminders.channels import PermanentFailure, channel_for

PRODUCTION = {
    "BIMTEK_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-key",
    "PUBLIC_BASE_URL": "https://bimtek.tapanuliutarakab.go.id",
}


# The secret key


def test_without_secret_key_a_random_key_is_made_once_and_kept(tmp_path, caplog, monkeypatch):
    from workshop import config

    # Alembic's logging set-up (in the migration tests) disables the loggers that exist by then.
    monkeypatch.setattr(config.log, "disabled", False)

    first = config.instance_secret_key(tmp_path)
    second = config.instance_secret_key(tmp_path)

    path = tmp_path / SECRET_KEY_FILE
    assert first == second == path.read_text().strip()
    assert len(first) == 64 and first != DEV_SECRET_KEY  # 48 random bytes, URL-safe base64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.instance_secret_key(tmp_path / "other") != first  # each installation its own
    assert f"SECRET_KEY is not set: using the key in {path}" in caplog.text


def test_an_app_without_secret_key_uses_the_key_of_its_instance_folder(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("BIMTEK_ENV", raising=False)

    app = create_app({"TESTING": True})

    key_file = app.instance_path + "/" + SECRET_KEY_FILE
    with open(key_file) as handle:
        assert app.config["SECRET_KEY"] == handle.read().strip()
    assert app.config["SECRET_KEY"] != DEV_SECRET_KEY


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({**PRODUCTION, "SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({**PRODUCTION, "SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY must be set"),
        ({**PRODUCTION, "PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL .* must be set in production"),
        ({"PUBLIC_BASE_URL": "bimtek.example.go.id"}, "PUBLIC_BASE_URL must be an http"),
    ],
)
def test_production_needs_its_own_secret_key_and_public_address(environ, message):
    with pytest.raises(ConfigError, match=message):
        validate(from_environment(environ))


def test_production_never_makes_a_key_of_its_own(monkeypatch, tmp_path):
    for name, value in {**PRODUCTION, "SECRET_KEY": ""}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}"})


# /healthz


STRANGER = {"REMOTE_ADDR": "203.0.113.9"}


def test_healthz_tells_a_stranger_only_whether_the_process_serves(client):
    response = client.get("/healthz", environ_base=STRANGER)

    assert response.status_code == 503  # no scheduler has ever run here
    assert response.get_json() == {"status": "fail"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_shows_its_checks_on_loopback_and_to_an_admin(session, client, login):
    local = client.get("/healthz").get_json()  # the test client comes from 127.0.0.1
    assert set(local["checks"]) == {"database", "scheduler"}

    panitia, admin = factories.staff(session, Role.PANITIA), factories.staff(session, Role.ADMIN)
    session.commit()  # the health check ends its transactions: the users must be stored
    login(panitia)
    assert client.get("/healthz", environ_base=STRANGER).get_json() == {"status": "fail"}
    client.post("/logout")
    login(admin)
    details = client.get("/healthz", environ_base=STRANGER).get_json()
    assert details["checks"]["database"]["dialect"] in {"sqlite", "postgresql"}


# HSTS


def test_hsts_is_sent_when_cookies_are_https_only(app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    app.config["COOKIE_SECURE"] = True
    assert client.get("/").headers["Strict-Transport-Security"] == "max-age=31536000"


# The WhatsApp gateway's token never follows a redirect


class Redirecting(BaseHTTPRequestHandler):
    def do_POST(self):
        self.send_response(307)
        self.send_header("Location", self.server.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def servers():
    elsewhere = Gateway()  # where a redirect would lead: it must never hear from us
    redirecting = Gateway()
    redirecting.RequestHandlerClass = Redirecting
    redirecting.target = f"{elsewhere.url}/steal"
    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05})
        for s in (elsewhere, redirecting)
    ]
    for thread in threads:
        thread.start()
    yield redirecting, elsewhere
    for server in (elsewhere, redirecting):
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("provider", ["fonnte", "meta"])
def test_a_gateway_redirect_is_a_permanent_failure_and_the_token_goes_nowhere_else(
    session, servers, provider
):
    redirecting, elsewhere = servers
    channel = channel_for("whatsapp", _whatsapp_config(redirecting, provider), session)

    with pytest.raises(PermanentFailure) as failure:
        channel.send(_whatsapp())

    assert str(failure.value).startswith(
        f"HTTP 307: the gateway redirects to {elsewhere.url}/steal; set WHATSAPP_API_URL"
    )
    assert elsewhere.requests == []


# Login timing


@pytest.fixture
def hashes_checked(monkeypatch):
    """The method ("scrypt:32768:8:1", ...) of every password hash computed."""
    methods = []
    real = werkzeug.security._hash_internal

    def spy(method, salt, password):
        methods.append(method)
        return real(method, salt, password)

    monkeypatch.setattr(werkzeug.security, "_hash_internal", spy)
    return methods


def test_an_unknown_username_costs_one_hash_like_a_wrong_password(session, hashes_checked):
    user = factories.staff(session, Role.PANITIA)
    inactive = factories.staff(session, Role.PETUGAS)
    inactive.active = False
    session.commit()
    method = user.password_hash.split("$", 1)[0]
    auth.authenticate(session, "tidak-ada", "")  # the first makes the stand-in hash, once per process
    hashes_checked.clear()

    assert auth.authenticate(session, "tidak-ada", factories.PASSWORD) is None
    assert auth.authenticate(session, user.username, "salah sekali") is None
    assert auth.authenticate(session, inactive.username, factories.PASSWORD) is None
    assert auth.authenticate(session, user.username, factories.PASSWORD) == user

    assert hashes_checked == [method] * 4
