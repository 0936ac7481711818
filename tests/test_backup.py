"""`flask backup` and `flask restore`: back up, change data, restore, the data is back exactly;
a file that is not a backup of this app is refused and changes nothing. On SQLite (online backup
API) and on a throwaway PostgreSQL server with the real pg_dump and pg_restore."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from tests import factories
from tests.postgres import PostgresServer
from workshop import backup, create_app
from workshop.db import db
from workshop.extensions import init_migrations
from workshop.programs.models import Program
from workshop.registration.models import Registration


def _app(database_url: str, backup_dir: Path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "backup-test-key",
            "TESTING": True,
            "BACKUP_DIR": str(backup_dir),
        }
    )
    init_migrations(app)
    with app.app_context():
        upgrade()  # the real schema, with its alembic_version row
        program = factories.program(db.session, stages=2, title="Bimtek Smart City Tapanuli Utara")
        for _ in range(3):
            factories.registration(db.session, program)
        db.session.commit()
        db.session.remove()
    return app


def _snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table (the schema's and alembic_version), in primary-key order."""
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            rows = {
                table.name: [
                    tuple(row)
                    for row in connection.execute(table.select().order_by(*table.primary_key.columns))
                ]
                for table in db.metadata.sorted_tables
            }
            rows["alembic_version"] = [
                tuple(row) for row in connection.execute(text("SELECT * FROM alembic_version"))
            ]
        db.engine.dispose()
    return rows


def _change_data(app) -> None:
    with app.app_context():
        db.session.delete(db.session.scalars(select(Registration).order_by(Registration.id)).first())
        factories.program(db.session, stages=1, title="Programme added after the backup")
        db.session.commit()
        db.session.remove()


def _titles(app) -> list[str]:
    with app.app_context():
        titles = list(db.session.scalars(select(Program.title).order_by(Program.id)))
        db.session.remove()
    return titles


def _registrations(app) -> int:
    with app.app_context():
        count = len(db.session.scalars(select(Registration.id)).all())
        db.session.remove()
    return count


def _cli(app, *args: str):
    with app.app_context():  # as the `flask` command runs them
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def _round_trip(app, backup_dir: Path, suffix: str) -> None:
    before = _snapshot(app)
    assert len(before["registration"]) == 3

    result = _cli(app, "backup")
    assert result.exit_code == 0, result.output
    (made,) = backup_dir.iterdir()
    assert re.fullmatch(rf"bimtek-\d{{8}}T\d{{6}}Z{re.escape(suffix)}", made.name)
    assert made.stat().st_mode & 0o777 == 0o600  # personal data: the owner only
    assert f"Backup written to {made}" in result.output

    _change_data(app)
    assert _registrations(app) == 2
    assert _titles(app) == ["Bimtek Smart City Tapanuli Utara", "Programme added after the backup"]

    result = _cli(app, "restore", "--yes", str(made))
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output
    after = _snapshot(app)
    assert after == before
    assert _registrations(app) == 3
    assert _titles(app) == ["Bimtek Smart City Tapanuli Utara"]

    # The database as it was before the restore is kept, and can itself be restored.
    (safety,) = (path for path in backup_dir.iterdir() if "pre-restore" in path.name)
    assert f"saved in {safety}" in result.output
    assert _cli(app, "restore", "--yes", str(safety)).exit_code == 0
    assert _titles(app) == ["Bimtek Smart City Tapanuli Utara", "Programme added after the backup"]
    assert _registrations(app) == 2


def _refused(app, backup_dir: Path, path: Path, message: str) -> None:
    before = _snapshot(app)
    files = set(backup_dir.iterdir()) if backup_dir.exists() else set()
    result = _cli(app, "restore", "--yes", str(path))
    assert result.exit_code == 1
    assert message in result.output, result.output
    assert _snapshot(app) == before
    assert (set(backup_dir.iterdir()) if backup_dir.exists() else set()) == files  # no safety copy either


# --- SQLite -------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_app(tmp_path):
    return _app(f"sqlite:///{tmp_path / 'bimtek.sqlite3'}", tmp_path / "backups")


def test_sqlite_backup_then_restore_brings_the_data_back(sqlite_app, tmp_path):
    _round_trip(sqlite_app, tmp_path / "backups", ".sqlite3")


def test_sqlite_backup_is_one_consistent_file_while_a_reader_holds_the_database(sqlite_app, tmp_path):
    reader = sqlite3.connect(tmp_path / "bimtek.sqlite3")
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM registration").fetchone()  # a read transaction stays open
    try:
        result = _cli(sqlite_app, "backup", "--output", str(tmp_path / "copy.sqlite3"))
    finally:
        reader.rollback()
        reader.close()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # no -wal file needed
    assert copy.execute("SELECT count(*) FROM registration").fetchone() == (3,)
    copy.close()
    assert sorted(path.name for path in tmp_path.glob("copy*")) == ["copy.sqlite3"]


def test_sqlite_restore_refuses_what_is_not_a_backup_of_this_app(sqlite_app, tmp_path):
    backup_dir = tmp_path / "backups"
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not a database at all, but long enough to look like one" * 20)
    _refused(sqlite_app, backup_dir, garbage, "not a SQLite database")

    other = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE registration (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    _refused(
        sqlite_app, backup_dir, other, "not a backup of this app (a SQLite file without alembic_version)"
    )

    _refused(sqlite_app, backup_dir, tmp_path / "missing.sqlite3", "no such file")


def test_backups_keep_the_newest(sqlite_app, tmp_path):
    backup_dir = tmp_path / "backups"
    backup_dir.mkdir()
    for stamp in ("20260101T010000Z", "20260102T010000Z", "20260103T010000Z"):
        (backup_dir / f"bimtek-{stamp}.sqlite3").write_bytes(b"")
    (backup_dir / "bimtek-pre-restore-20250101T010000Z.sqlite3").write_bytes(b"")
    (backup_dir / "unrelated.txt").write_bytes(b"")
    result = _cli(sqlite_app, "backup", "--keep", "2")
    assert result.exit_code == 0, result.output
    remaining = sorted(path.name for path in backup_dir.iterdir())
    assert remaining[0] == "bimtek-20260103T010000Z.sqlite3"
    assert re.fullmatch(r"bimtek-\d{8}T\d{6}Z\.sqlite3", remaining[1]) and remaining[1] > remaining[0]
    assert remaining[2:] == ["bimtek-pre-restore-20250101T010000Z.sqlite3", "unrelated.txt"]


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def pg_app(postgres, request, tmp_path):
    url = postgres.create_database(f"backup_{request.node.name[:40].lower()}")
    app = _app(url, tmp_path / "backups")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_postgresql_backup_then_restore_brings_the_data_back(pg_app, tmp_path):
    _round_trip(pg_app, tmp_path / "backups", ".dump")


def test_postgresql_password_goes_in_the_environment_never_on_the_command_line(pg_app, tmp_path, monkeypatch):
    # The test server trusts loopback, so the password is not checked; what matters is where it goes.
    url = pg_app.config["SQLALCHEMY_DATABASE_URI"].replace("postgres@", "postgres:s3cret%40pass@")
    calls = []
    real_run = subprocess.run

    def spy(command, *args, **kwargs):
        calls.append((command, kwargs.get("env") or {}))
        return real_run(command, *args, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", spy)
    target = backup.backup_database(url, directory=tmp_path, now=None, output=tmp_path / "pw.dump")
    assert target.read_bytes()[:5] == b"PGDMP"  # a pg_dump archive (custom format)
    ((command, env),) = calls
    assert Path(command[0]).name == "pg_dump"
    assert not any("s3cret" in part for part in command)
    assert f"--dbname=postgresql://postgres@127.0.0.1:{url.split(':')[-1]}" in command
    assert env["PGPASSWORD"] == "s3cret@pass"


def test_postgresql_restore_refuses_what_is_not_a_backup_of_this_app(pg_app, postgres, tmp_path):
    backup_dir = tmp_path / "backups"
    garbage = tmp_path / "garbage.dump"
    garbage.write_bytes(b"PGDMP but not really" * 50)
    _refused(pg_app, backup_dir, garbage, "not a pg_dump archive")

    # A real pg_dump archive, of another database.
    other_url = postgres.create_database("backup_other_app")
    other = create_app({"SQLALCHEMY_DATABASE_URI": other_url, "SECRET_KEY": "x", "TESTING": True})
    with other.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE registration (id integer PRIMARY KEY)"))
        db.engine.dispose()
    foreign = backup.backup_database(other_url, directory=tmp_path, now=None, output=tmp_path / "other.dump")
    _refused(
        pg_app, backup_dir, foreign, "not a backup of this app (no alembic_version table in the archive)"
    )
