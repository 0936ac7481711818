"""The migrations build the schema from empty, on SQLite and on PostgreSQL, matching the models."""

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from tests import factories
from tests.old_schema import model_columns_added
from tests.postgres import PostgresServer
from workshop import create_app
from workshop.db import db
from workshop.extensions import init_migrations


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


def _migrate_and_compare(database_url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"})
    init_migrations(app)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            tables = set(inspect(connection).get_table_names())
        assert differences == []
        assert {"program", "stage", "registration", "registration_stage", "person", "user"} <= tables
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) == {"alembic_version"}
        db.engine.dispose()


def test_migrations_build_the_schema_on_sqlite(tmp_path):
    _migrate_and_compare(f"sqlite:///{tmp_path / 'migrated.sqlite3'}")


def test_migrations_build_the_schema_on_postgresql(postgres):
    _migrate_and_compare(postgres.create_database("bimtek_migrations"))


# Delivery failure codes (0012): the reasons stored before codes become codes, and come back.
OLD_REASONS = [
    ("The participant has no personal link (it was revoked).", "no_link", ""),
    ("The participant has no email address.", "no_email", ""),
    ("The participant has no phone number.", "no_phone", ""),
    ("No recipient.", "no_recipient", ""),
    ("The sending worker stopped before confirming the send.", "worker_stopped", ""),
    ("No message for channel inapp.", "no_message", "inapp"),
    ("Could not render the message: KeyError: 'nama'", "render_failed", "KeyError: 'nama'"),
    ("SMTP 550 for x@contoh.go.id: mailbox unavailable", "smtp_refused", None),
    ("SMTP 451: try later", "smtp_deferred", None),
    ("SMTP smtp.contoh.go.id:587: [Errno 111] Connection refused", "smtp_unreachable", None),
    (
        "HTTP 301: the gateway redirects to https://api.fonnte.com/send; set WHATSAPP_API_URL",
        "whatsapp_redirect",
        None,
    ),
    ("HTTP 401: invalid token", "whatsapp_http_4xx", None),
    ("HTTP 502: Bad Gateway", "whatsapp_http_5xx", None),
    ("WhatsApp gateway: timed out", "whatsapp_unreachable", None),
    ("Fonnte: device disconnected", "whatsapp_disconnected", None),
    ("Fonnte: invalid target", "whatsapp_refused", None),
    ("Meta: unexpected answer {}", "whatsapp_unexpected_answer", None),
    ("not an email address: 'budi'", "invalid_address", None),
    ("not a WhatsApp number: '12'", "invalid_address", None),
    ("a mail server said something new", "unexpected", None),
    ("", "", None),  # sent: no reason
]
BEFORE_CODES = "57724959e40f"


def _check_failure_codes_migration(database_url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"})
    init_migrations(app)
    with app.app_context():
        upgrade(revision=BEFORE_CODES)
        _insert_deliveries([reason for reason, _code, _detail in OLD_REASONS])

        upgrade()
        migrated = _deliveries("failure_code, error")
        downgrade(revision=BEFORE_CODES)
        restored = _deliveries("error")
        db.engine.dispose()

    assert migrated == [(code, reason if detail is None else detail) for reason, code, detail in OLD_REASONS]
    assert restored == [(reason,) for reason, _code, _detail in OLD_REASONS]


def _insert_deliveries(reasons: list[str]) -> None:
    """Delivery rows with these reasons, for one registration (the factories write the programme
    and the registration; the delivery rows as the table was then)."""
    tables = ["organization", "program", "stage", "person", "registration", "registration_stage"]
    with model_columns_added(tables):
        program = factories.program(db.session, stages=1)
        registration = factories.registration(db.session, program)
        db.session.commit()
        stage_id, registration_id = program.stages[0].id, registration.id
        db.session.remove()
    moment = datetime(2021, 6, 23, 3, tzinfo=UTC)
    with db.engine.begin() as connection:
        for number, reason in enumerate(reasons, start=1):
            connection.execute(
                text(
                    "INSERT INTO delivery (id, kind, stage_id, registration_id, channel, due_at, late_at,"
                    " status, attempts, next_attempt_at, recipient, provider_ref, error, sent_by,"
                    " created_at) VALUES (:id, 'reminder', :stage, :registration, 'email', :at, :at,"
                    " :status, 1, :at, '', '', :error, '', :at)"
                ),
                {
                    "id": number,
                    "stage": stage_id,
                    "registration": registration_id,
                    "at": moment.replace(tzinfo=None),
                    "status": "failed" if reason else "sent",
                    "error": reason,
                },
            )


def _deliveries(columns: str) -> list[tuple]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(f"SELECT {columns} FROM delivery ORDER BY id"))]


def test_delivery_failure_reasons_become_codes_and_come_back_on_sqlite(tmp_path):
    _check_failure_codes_migration(f"sqlite:///{tmp_path / 'codes.sqlite3'}")


def test_delivery_failure_reasons_become_codes_and_come_back_on_postgresql(postgres):
    _check_failure_codes_migration(postgres.create_database("bimtek_failure_codes"))
