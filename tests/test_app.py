import threading
import time

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError

from tests import factories
from tests.csrf import use_csrf_client
from workshop import create_app
from workshop.auth.models import Role
from workshop.config import ConfigError
from workshop.db import db
from workshop.extensions import socketio


def test_production_refuses_the_default_secret_key(monkeypatch):
    monkeypatch.setenv("BIMTEK_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)

    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_sets_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("BIMTEK_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://bimtek.tapanuliutarakab.go.id")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")

    app = create_app()

    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_time_zone_is_refused_at_start_up(monkeypatch):
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Asia/Atlantis")

    with pytest.raises(ConfigError, match="DEFAULT_TIMEZONE"):
        create_app()


def test_socketio_runs_on_gevent(app):
    assert socketio.server.async_mode == "gevent"


@pytest.mark.sqlite_only(reason="SQLite's pragmas")
def test_sqlite_connections_use_wal_and_foreign_keys_and_never_sleep_inside_sqlite(app):
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 0


@pytest.mark.sqlite_only(reason="SQLite's BEGIN IMMEDIATE and its retry in Python")
def test_a_writer_waits_for_the_lock_in_python_and_gets_it_when_released(app):
    holder = db.engine.connect()
    holder.begin()  # BEGIN IMMEDIATE: holds the write lock
    releasing_at = []

    def release():
        releasing_at.append(time.monotonic())
        holder.commit()

    released = threading.Timer(0.2, release)
    released.start()

    with db.engine.begin() as waiting:
        got_lock_at = time.monotonic()
        waiting.execute(text("CREATE TABLE lock_probe (id INTEGER)"))

    released.join()
    holder.close()
    assert releasing_at and got_lock_at > releasing_at[0]
    assert "lock_probe" in inspect(db.engine).get_table_names()


@pytest.mark.sqlite_only(reason="SQLite's BEGIN IMMEDIATE and its retry in Python")
def test_a_writer_that_never_gets_the_lock_gets_sqlalchemys_locked_error(app, monkeypatch):
    monkeypatch.setattr("workshop.db.SQLITE_LOCK_WAIT_SECONDS", 0.0)  # give up after the first retry
    holder = db.engine.connect()
    holder.begin()  # BEGIN IMMEDIATE: holds the write lock
    try:
        with pytest.raises(OperationalError, match="database is locked"), db.engine.begin():
            pass
    finally:
        holder.close()

    with db.engine.begin() as writer:  # released: the next writer gets it
        writer.execute(text("CREATE TABLE lock_probe (id INTEGER)"))


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get("/").headers["Content-Security-Policy"]

    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy


def test_a_post_without_csrf_token_is_refused(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'csrf.sqlite3'}",
            "SECRET_KEY": "x",
            "TESTING": True,
        }
    )
    with app.app_context():
        db.create_all()
        response = app.test_client().post("/login", data={"username": "admin", "password": "whatever"})

    assert response.status_code == 400
    assert "Formulir sudah kedaluwarsa. Kembali, muat ulang halaman, lalu coba lagi." in response.get_data(
        as_text=True
    )


def test_staff_login_is_rate_limited(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'limit.sqlite3'}",
            "SECRET_KEY": "x",
            "LOGIN_RATE_LIMIT": "3 per minute",
        }
    )
    use_csrf_client(app)
    with app.app_context():
        db.create_all()
        client = app.test_client()
        statuses = [
            client.post("/login", data={"username": "admin", "password": "wrong"}).status_code
            for _ in range(4)
        ]

    assert statuses == [200, 200, 200, 429]


def test_wrong_password_is_refused_in_indonesian(session, client):
    user = factories.staff(session, Role.PANITIA)
    session.commit()

    response = client.post("/login", data={"username": user.username, "password": "salah"})

    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
