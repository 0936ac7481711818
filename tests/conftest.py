"""Fixtures shared by the whole suite, and the choice of database the suite runs against.

`BIMTEK_TEST_DATABASE` picks the database behind the `app` fixture:

- `sqlite` (default): a fresh SQLite file per test, schema by `db.create_all()`.
- `postgresql`: one throwaway PostgreSQL server for the whole session (tests/postgres.py), one
  database whose schema `db.create_all()` makes once, emptied before every test (every row
  deleted, every sequence back to 1, any connection a previous test left open ended, no table
  statistics carried over): 2-5 ms per test, where cloning a template database per test
  (CREATE DATABASE ... TEMPLATE, then DROP) took 55-275 ms and TRUNCATE 65-115 ms.

Tests of SQLite-only behaviour (pragmas, BEGIN IMMEDIATE, the SQLite online backup) carry
`@pytest.mark.sqlite_only(reason=...)`; the PostgreSQL run deselects them and says how many.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import time

import pytest
from flask import g
from hypothesis import settings

from tests import serving
from tests.csrf import CsrfClient
from workshop import clock, create_app
from workshop.db import db, sqlite_write_intent

# The property tests' examples have no deadline: on a machine shared by several runs (CI, the
# developers' 2 cores) a pause of the scheduler made a pure function's example "too slow" (200 ms)
# and failed it. Each test still bounds its own number of examples.
settings.register_profile("bimtek", deadline=None)
settings.load_profile("bimtek")

DATABASES = ("sqlite", "postgresql")
TEST_DATABASE = os.environ.get("BIMTEK_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
ON_POSTGRESQL = TEST_DATABASE == "postgresql"
REDIS_HINT = "redis-server is needed for these tests: run 'apt-get install redis-server' (scripts/test.sh does it as root)."
_SQLITE_ONLY = pytest.StashKey[list]()  # (node id, reason) of the tests the PostgreSQL run leaves out


def pytest_configure(config):
    if TEST_DATABASE not in DATABASES:
        raise pytest.UsageError(
            f"BIMTEK_TEST_DATABASE={TEST_DATABASE!r}: expected one of {', '.join(DATABASES)}"
        )
    config.addinivalue_line(
        "markers",
        "sqlite_only(reason): checks SQLite-specific behaviour; deselected when "
        "BIMTEK_TEST_DATABASE=postgresql",
    )
    config.stash[_SQLITE_ONLY] = []


def pytest_report_header(config):
    where = "a throwaway PostgreSQL server" if ON_POSTGRESQL else "a SQLite file per test"
    return f"test database: {TEST_DATABASE} ({where}; set by BIMTEK_TEST_DATABASE)"


def _sqlite_only_reason(marker) -> str:
    return str(marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")).strip()


@pytest.hookimpl(trylast=True)  # after -m/-k, so the count is of tests that would have run
def pytest_collection_modifyitems(config, items):
    unexplained = [
        item.nodeid
        for item in items
        if (marker := item.get_closest_marker("sqlite_only")) and not _sqlite_only_reason(marker)
    ]
    if unexplained:
        raise pytest.UsageError(
            "@pytest.mark.sqlite_only needs a reason (why the test holds only on SQLite): "
            + ", ".join(unexplained)
        )
    if not ON_POSTGRESQL:
        return
    kept, sqlite_only = [], []
    for item in items:
        (sqlite_only if item.get_closest_marker("sqlite_only") else kept).append(item)
    if sqlite_only:
        config.hook.pytest_deselected(items=sqlite_only)
        items[:] = kept
    config.stash[_SQLITE_ONLY] = [
        (item.nodeid, _sqlite_only_reason(item.get_closest_marker("sqlite_only"))) for item in sqlite_only
    ]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not ON_POSTGRESQL:
        return
    deselected = config.stash.get(_SQLITE_ONLY, [])
    terminalreporter.section("PostgreSQL run", sep="-")
    terminalreporter.write_line(
        f"{len(deselected)} test(s) marked sqlite_only deselected (they run in the SQLite run):"
    )
    for nodeid, reason in deselected:
        terminalreporter.write_line(f"  {nodeid}: {reason}")


# --- PostgreSQL: one server per session, one database emptied before each test -------------------


@pytest.fixture(scope="session")
def _postgres_server():
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres(_postgres_server):
    """The session's throwaway PostgreSQL server (started on first use); `create_database(name)`
    gives a new database's URL. (A module that defines its own `postgres` fixture gets its own server.)"""
    return _postgres_server


class _PostgresTestDatabase:
    """One database with the models' schema, emptied on demand in a single round trip."""

    NAME = "bimtek_test"

    def __init__(self, server) -> None:
        import psycopg

        self.url = server.create_database(self.NAME)
        # Through an app, as the tests do: create_app imports every feature's models.
        app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "SECRET_KEY": "test-secret-key"})
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        self.admin = psycopg.connect(
            f"host=127.0.0.1 port={server.port} user=postgres dbname={self.NAME}", autocommit=True
        )
        sequences = [
            name
            for (name,) in self.admin.execute(
                "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'"
            )
        ]
        self.tables = {table.name for table in db.metadata.sorted_tables}
        tables = [f'"{table.name}"' for table in reversed(db.metadata.sorted_tables)]
        # No autovacuum on these tables: its ANALYZE would leave one test's row counts to the next
        # test's query plans (a plan made for "empty" tables, reused by a test that adds a thousand
        # rows, took 30 s instead of 3). Every test plans as on a new database.
        self.admin.execute(
            "".join(f"ALTER TABLE {table} SET (autovacuum_enabled = false);" for table in tables)
        )
        # One round trip: every row (children first; the replica role skips the per-row foreign
        # key checks), then every sequence back to 1 (setval: ALTER SEQUENCE RESTART costs ~1 ms each).
        self.reset_sql = (
            "BEGIN;SET LOCAL session_replication_role = replica;"
            + "".join(f"DELETE FROM {table};" for table in tables)
            + "COMMIT;"
            + (
                f"SELECT {', '.join(f'setval({sequence!r}, 1, false)' for sequence in sequences)};"
                if sequences
                else ""
            )
        )

    def reset(self) -> None:
        # A connection a previous test left open (a thread, an undisposed engine) could hold
        # locks or go on writing into this test: end it first.
        self.admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        extra = [
            name
            for (name,) in self.admin.execute(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'"
            )
            if name.strip('"') not in self.tables
        ]
        if extra:  # a test made a table of its own
            self.admin.execute(f"DROP TABLE {', '.join(extra)} CASCADE")
        self.admin.execute(self.reset_sql)

    def close(self) -> None:
        self.admin.close()


@pytest.fixture(scope="session")
def _postgres_test_database(_postgres_server):
    database = _PostgresTestDatabase(_postgres_server)
    yield database
    database.close()


@pytest.fixture(scope="session")
def make_database_url(request, tmp_path_factory):
    """`make_database_url(name)`: a new empty database (no tables) on the configured backend, for
    a process of its own (the browser tests' server, a scheduler process) or a migration."""
    server = request.getfixturevalue("postgres") if ON_POSTGRESQL else None
    numbers = itertools.count(1)

    def _make(name: str = "bimtek") -> str:
        unique = f"{name}_{next(numbers)}".lower()
        if server is not None:
            return server.create_database(unique)
        return f"sqlite:///{tmp_path_factory.mktemp(name) / f'{unique}.sqlite3'}"

    return _make


@pytest.fixture
def database_url(request, tmp_path):
    """An empty database for this test on the configured backend (no tables yet on SQLite;
    the models' tables, empty, on PostgreSQL)."""
    if ON_POSTGRESQL:
        database = request.getfixturevalue("_postgres_test_database")
        database.reset()
        return database.url
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "CERTIFICATE_DIR": str(tmp_path / "certificates"),  # not the project's instance folder
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "bimtek.test",
            "LIVE_BROADCAST_SECONDS": 0,  # broadcast at once, in the request
            "LIVE_VOTE_BATCHING": False,
        }
    )
    app.test_client_class = CsrfClient  # CSRF stays on: the client sends the token (tests/csrf.py)

    @app.teardown_request
    def _forget_request_state(error):
        # Requests reuse the test's app context, and with it `g`: drop the user, the language and
        # the CSRF token that Flask-Login, Flask-Babel and Flask-WTF cache there, so each request
        # starts afresh as in production (another client's page must not get this one's token).
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)
        g.pop("csrf_token", None)

    # Each request or socket event of a server runs in a context of its own; here they all share
    # the test's: start every test with the write intent a fresh context has.
    write_intent = sqlite_write_intent.set(True)
    with app.app_context():
        if not ON_POSTGRESQL:  # the PostgreSQL test database has the tables already
            db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()  # every test has its own engine: close its pooled connections
    sqlite_write_intent.reset(write_intent)


@pytest.fixture
def set_now():
    """Set the app's one clock (workshop/clock.py): `set_now(moment)` fixes it, `set_now(callable)`
    reads it from the callable (a clock that moves); the wall clock again after the test."""
    yield clock.set_source
    clock.set_source(None)


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """Log the test client in as a staff user (password login)."""
    from tests.factories import PASSWORD

    def _login(user):
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.data
        return user

    return _login


@pytest.fixture
def redis_server(tmp_path):
    """A throwaway redis-server on loopback: (its process, its URL)."""
    if shutil.which("redis-server") is None:
        raise RuntimeError(REDIS_HINT)
    port = serving.free_port()
    process = subprocess.Popen(
        serving.redis_command(port, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait()
