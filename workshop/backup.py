"""Backups of the whole database, and restoring one: `flask backup` and `flask restore`.

- SQLite: SQLite's online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot
  while the app keeps running (WAL), into one self-contained file. Restoring copies the backup's
  pages into the database file with the same API, in one transaction.
- PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --no-owner
  --single-transaction`, with the connection from DATABASE_URL; the password goes to the tools
  in the PGPASSWORD environment variable, never on the command line.

A restore refuses a file that is not a backup of this app's database (a SQLite file or a
pg_dump archive that has the `alembic_version` table) before it changes anything, and first
saves the current database (a "pre-restore" backup), so a wrong restore can be undone.
Stop the web and scheduler processes before a restore.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

FILE_PREFIX = "bimtek-"
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".dump"}
_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_BACKUP_NAME = re.compile(r"^bimtek-(pre-restore-)?\d{8}T\d{6}Z(-\d+)?\.(sqlite3|dump)$")
VERSION_TABLE = "alembic_version"


class BackupError(RuntimeError):
    """A backup or restore that could not be done; nothing was changed."""


@dataclass(frozen=True)
class Restored:
    revision: str  # the backup's schema revision (`flask db upgrade` brings it up to date)
    safety_copy: Path | None  # the database as it was before the restore


def backup_database(database_url: str, *, directory: Path, now: datetime, output: Path | None = None) -> Path:
    """Write a backup of the database to `output`, or to a new timestamped file in `directory`.

    The file is readable by its owner only (it holds personal data). Returns its path."""
    url = make_url(database_url)
    kind = _kind(url)
    target = Path(output) if output is not None else _timestamped(directory, kind, now)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write next to the target, then rename: an interrupted backup never looks like a finished one.
    handle, partial_name = tempfile.mkstemp(prefix=".partial-", dir=target.parent)
    os.close(handle)
    partial = Path(partial_name)
    try:
        if kind == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg_dump(url, partial)
        partial.chmod(0o600)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore_database(database_url: str, source: Path, *, directory: Path, now: datetime) -> Restored:
    """Replace the database's content with the backup in `source`.

    Checks `source` first (BackupError, nothing changed), then saves the current database to
    `directory` as bimtek-pre-restore-<time>, then restores. Stop the app before calling this."""
    url = make_url(database_url)
    kind = _kind(url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such file")

    def safety_copy() -> Path:
        return backup_database(
            database_url,
            directory=directory,
            now=now,
            output=_timestamped(directory, kind, now, "pre-restore-"),
        )

    if kind == "sqlite":
        revision = _sqlite_revision(source)
        database = _sqlite_path(url)
        safety = safety_copy() if database.exists() else None
        _sqlite_restore(source, database)
    else:
        revision = _pg_revision(source)
        safety = safety_copy()
        _pg_restore(url, source)
    return Restored(revision=revision, safety_copy=safety)


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest timestamped backups in `directory` (pre-restore copies are
    kept). Returns the deleted files."""
    found = sorted(
        path
        for path in Path(directory).glob(f"{FILE_PREFIX}*")
        if _BACKUP_NAME.match(path.name) and "pre-restore" not in path.name
    )
    doomed = found[:-keep] if keep > 0 else found
    for path in doomed:
        path.unlink()
    return doomed


# --- SQLite -------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("the database is not a SQLite file; nothing to back up")
    return Path(url.database)


def _sqlite_backup(database: Path, target: Path) -> None:
    if not database.exists():
        raise BackupError(f"{database}: no such database file (run `flask db upgrade` first)")
    source = sqlite3.connect(_read_only(database), uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        # One self-contained file: no -wal/-shm files next to the backup.
        copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as error:
        raise BackupError(f"the SQLite backup failed: {error}") from error
    finally:
        copy.close()
        source.close()


def _sqlite_revision(backup: Path) -> str:
    """The schema revision of a SQLite backup of this app; BackupError if it is not one."""
    try:
        connection = sqlite3.connect(_read_only(backup), uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{backup}: cannot be opened: {error}") from error
    try:
        check = connection.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{backup}: the SQLite file is damaged ({check})")
        has_versions = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
        ).fetchone()
        if not has_versions:
            raise BackupError(f"{backup}: not a backup of this app (a SQLite file without {VERSION_TABLE})")
        row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{backup}: not a SQLite database ({error})") from error
    finally:
        connection.close()
    if row is None:
        raise BackupError(f"{backup}: not a backup of this app (no schema revision in {VERSION_TABLE})")
    return row[0]


def _sqlite_restore(backup: Path, database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(_read_only(backup), uri=True)
    target = sqlite3.connect(database, timeout=10)
    try:
        # The backup API replaces every page of the target in one write transaction, WAL included.
        source.backup(target)
    except sqlite3.Error as error:
        raise BackupError(f"the restore failed, the database is unchanged: {error}") from error
    finally:
        target.close()
        source.close()


# --- PostgreSQL ---------------------------------------------------------------------------------


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password (SQLAlchemy's `+psycopg` dropped), and the
    environment for the tools, with the password in PGPASSWORD."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    # URL.set(password=None) would keep the password: build the URL without it.
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    conninfo = plain.render_as_string(hide_password=False)
    return conninfo, env


def _tool(name: str) -> str:
    """The PostgreSQL client program: on the PATH, or the newest in Debian's /usr/lib/postgresql."""
    found = shutil.which(name)
    if found is None:
        installed = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        found = str(installed[-1]) if installed else None
    if found is None:
        raise BackupError(f"{name} is needed for PostgreSQL backups: install Debian's postgresql-client")
    return found


def _run(command: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False, **kwargs)


def _pg_dump(url: URL, target: Path) -> None:
    conninfo, env = _libpq(url)
    result = _run(
        [_tool("pg_dump"), "--format=custom", "--no-password", f"--file={target}", f"--dbname={conninfo}"],
        env,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def _pg_revision(archive: Path) -> str:
    """The schema revision in a pg_dump archive of this app; BackupError if it is not one."""
    result = _run([_tool("pg_restore"), "--list", str(archive)], dict(os.environ))
    if result.returncode != 0:
        raise BackupError(f"{archive}: not a pg_dump archive ({result.stderr.strip()})")
    if not re.search(rf"\bTABLE DATA \S+ {VERSION_TABLE}\b", result.stdout):
        raise BackupError(f"{archive}: not a backup of this app (no {VERSION_TABLE} table in the archive)")
    # The table's data as a COPY block: "COPY public.alembic_version (version_num) FROM stdin;" ...
    data = _run(
        [_tool("pg_restore"), "--data-only", f"--table={VERSION_TABLE}", "--file=-", str(archive)],
        dict(os.environ),
    )
    found = re.search(r"^COPY \S+ \(version_num\) FROM stdin;\n([^\n\\]+)\n", data.stdout, re.MULTILINE)
    if data.returncode != 0 or not found:
        raise BackupError(f"{archive}: not a backup of this app (no schema revision in {VERSION_TABLE})")
    return found.group(1).strip()


def _pg_restore(url: URL, archive: Path) -> None:
    conninfo, env = _libpq(url)
    result = _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",  # all or nothing
            "--exit-on-error",
            "--no-password",
            f"--dbname={conninfo}",
            str(archive),
        ],
        env,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed, the database is unchanged: {result.stderr.strip()}")


# --- Helpers ------------------------------------------------------------------------------------


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in SUFFIXES:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {backend}")
    return backend


def _timestamped(directory: Path, kind: str, now: datetime, label: str = "") -> Path:
    stem = f"{FILE_PREFIX}{label}{now.strftime(_TIMESTAMP)}"
    target = Path(directory) / f"{stem}{SUFFIXES[kind]}"
    number = 1
    while target.exists():  # two backups within a second
        number += 1
        target = Path(directory) / f"{stem}-{number}{SUFFIXES[kind]}"
    return target


def _read_only(path: Path) -> str:
    """A read-only SQLite URI for `path` (percent-encoded: any file name works)."""
    return Path(path).resolve().as_uri() + "?mode=ro"
