"""`flask` commands: accounts, the regency's regions, demo data, backups, and Flask-Migrate's `flask db`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from workshop import backup, clock
from workshop.auth.models import Role
from workshop.auth.services import AccountError, create_staff_user
from workshop.db import db
from workshop.extensions import init_migrations
from workshop.programs.models import Program
from workshop.programs.services import import_regions
from workshop.reminders.cli import scheduler_command


def init_app(app: Flask) -> None:
    if click.get_current_context(silent=True) is not None:  # the `flask` command is making the app
        init_migrations(app)  # `flask db ...`
    app.cli.add_command(create_user)
    app.cli.add_command(import_regions_command)
    app.cli.add_command(seed_demo)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("create-user")
@click.argument("username")
@click.option("--name", required=True, help="Full name shown in the app.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role if r != Role.PARTICIPANT]),
    required=True,
)
@click.password_option(help="At least 10 characters; asked for when not given.")
def create_user(username: str, name: str, role: str, password: str) -> None:
    """Create a staff account (admin, panitia, narasumber or petugas)."""
    try:
        create_staff_user(db.session, username=username, name=name, role=Role(role), password=password)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {role} account {username!r}.")


@click.command("import-regions")
def import_regions_command() -> None:
    """Import the 15 kecamatan and 252 desa of Kabupaten Tapanuli Utara."""
    districts, villages = import_regions(db.session)
    db.session.commit()
    click.echo(f"Imported {districts} new kecamatan and {villages} new desa/kelurahan.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do not load it again when a programme already exists.")
@click.option(
    "--url",
    default=lambda: f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}",
    show_default="http://HOST:PORT as app.py listens",
    help="Where the app will be reached, for the participant link printed at the end.",
)
def seed_demo(if_empty: bool, url: str) -> None:
    """Load the Smart City Bimtek of Tapanuli Utara with made-up participants, then print the staff
    accounts and one participant's personal link."""
    from workshop.demo import seed, welcome

    credentials = Path(current_app.instance_path) / "demo-accounts.txt"
    if if_empty and db.session.scalar(select(func.count()).select_from(Program)):
        click.echo("Demo data already present.")
    else:
        passwords = {role: secrets.token_urlsafe(9) for role in ("admin", "panitia", "narasumber", "petugas")}
        summary = seed(db.session, passwords=passwords, config=current_app.config)
        db.session.commit()
        accounts = "Staff accounts (username / password):\n" + "".join(
            f"  {username:<11} {password}\n" for username, password in passwords.items()
        )
        credentials.parent.mkdir(parents=True, exist_ok=True)
        credentials.write_text(accounts, encoding="utf-8")
        credentials.chmod(0o600)
        click.echo(f"{summary}\n")
    accounts = credentials.read_text(encoding="utf-8") if credentials.exists() else ""
    base_url = current_app.config["PUBLIC_BASE_URL"] or url
    click.echo(
        welcome(db.session, accounts=accounts, secret_key=current_app.config["SECRET_KEY"], base_url=base_url)
    )
    click.echo(f"(The staff accounts are kept in {credentials}.)")


def _backup_directory() -> Path:
    return Path(current_app.config["BACKUP_DIR"])


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the backup to this file (default: a new timestamped file in BACKUP_DIR, instance/backups/).",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    help="Then delete all but this many newest timestamped backups in BACKUP_DIR.",
)
def backup_command(output: Path | None, keep: int | None) -> None:
    """Back up the whole database while the app runs (SQLite: online backup API; PostgreSQL:
    pg_dump --format=custom). The file is readable by its owner only: it holds personal data."""
    directory = _backup_directory()
    try:
        path = backup.backup_database(
            current_app.config["SQLALCHEMY_DATABASE_URI"], directory=directory, now=clock.now(), output=output
        )
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")
    if keep:
        for old in backup.prune_backups(directory, keep):
            click.echo(f"Deleted old backup {old}.")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the database's content with the backup in PATH (made by `flask backup`).

    Stop the web processes and the scheduler first, and start them again afterwards. The file is
    checked before anything changes; the current database is first saved to
    BACKUP_DIR (instance/backups/) as bimtek-pre-restore-<time>. Run `flask db upgrade` after restoring an older
    backup."""
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not yes:
        click.confirm(f"Replace everything in the database with {path}? Stop the app first.", abort=True)
    try:
        restored = backup.restore_database(url, path, directory=_backup_directory(), now=clock.now())
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        db.engine.dispose()
    if restored.safety_copy:
        click.echo(f"The database as it was is saved in {restored.safety_copy}.")
    click.echo(
        f"Restored {path} (schema revision {restored.revision}). Run `flask db upgrade` if this "
        "backup is older than the code, then start the app."
    )
