"""Ticket secrets are stored as an HMAC (the lookup) and sealed (to draw the QR code again): a copy
of the database holds no secret that opens a door (docs/security.md)."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from tests import factories
from tests.old_schema import model_columns_added
from workshop import create_app
from workshop.checkin import services
from workshop.db import db, utcnow
from workshop.extensions import init_migrations
from workshop.registration.models import Registration, Status
from workshop.tickets import codes


def _stored_values(session) -> list[str]:
    """Every value of every registration row as the database holds it."""
    rows = session.execute(text("SELECT * FROM registration")).all()
    return [str(value) for row in rows for value in row]


def test_tickets_are_long_random_and_free_of_look_alikes(session):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program)

    assert len(registration.ticket_secret) == 32
    assert not set(registration.ticket_secret) & set("0o1il")
    assert len(registration.ticket_code) == 8
    assert codes.qr_payload(registration.ticket_secret) == f"BH1:{registration.ticket_secret}"
    assert codes.parse(f"BH1:{registration.ticket_secret}") == ("secret", registration.ticket_secret)
    code = registration.ticket_code
    assert codes.parse(f" {code[:4].lower()}-{code[4:]} ") == ("code", code)
    assert codes.parse("BH1:hello") is None


def test_the_database_holds_no_ticket_secret(session):
    program = factories.program(session, stages=1)
    registrations = [factories.registration(session, program, status=Status.APPROVED) for _ in range(3)]
    session.commit()
    secret_key = current_app.config["SECRET_KEY"]

    stored = _stored_values(session)
    for registration in registrations:
        secret = registration.ticket_secret
        assert not any(secret in value for value in stored)
        assert registration.ticket_secret_hash == codes.secret_hash(secret, secret_key)
        assert (
            registration.ticket_secret_hash
            == hmac.new(secret_key.encode(), f"ticket-secret:{secret}".encode(), hashlib.sha256).hexdigest()
        )
        assert codes.unseal(registration.ticket_secret_sealed, secret_key) == secret
    assert len({r.ticket_secret for r in registrations}) == 3
    with pytest.raises(InvalidToken):  # sealed under a key derived from SECRET_KEY, not another
        codes.unseal(registrations[0].ticket_secret_sealed, "another key")


def test_a_ticket_is_found_by_its_secret_only_under_the_apps_key(session):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, status=Status.APPROVED)
    other = factories.registration(session, program, status=Status.APPROVED)
    session.commit()
    secret_key = current_app.config["SECRET_KEY"]
    secret = registration.ticket_secret

    def found(text: str, key: str) -> int | None:
        ticket = services.find_ticket(session, text, key)
        return ticket.registration_id if ticket is not None else None

    assert found(codes.qr_payload(secret), secret_key) == registration.id
    assert found(secret.upper(), secret_key) == registration.id
    assert found(registration.ticket_code, secret_key) == registration.id
    assert found(other.ticket_secret, secret_key) == other.id
    assert services.find_ticket(session, secret, "another key") is None
    # what the database holds opens nothing
    assert services.find_ticket(session, registration.ticket_secret_hash, secret_key) is None


def test_a_new_secret_replaces_the_old_one(session):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, status=Status.APPROVED)
    secret_key = current_app.config["SECRET_KEY"]
    old = registration.ticket_secret

    new = registration.issue_ticket_secret(secret_key)
    session.commit()

    assert new != old and registration.ticket_secret == new
    assert services.find_ticket(session, new, secret_key).registration_id == registration.id
    assert services.find_ticket(session, old, secret_key) is None


def test_the_roster_key_is_one_per_stage_and_its_mac_is_the_hmac_of_the_secret():
    first, second = codes.roster_key(1, "key"), codes.roster_key(2, "key")
    assert first != second and first == codes.roster_key(1, "key") and len(first) == 64
    assert codes.roster_key(1, "another key") != first
    secret = "k7m2p9qrstuvwxyz23456789abcdefgh"
    expected = hmac.new(bytes.fromhex(first), secret.encode(), hashlib.sha256).hexdigest()
    assert codes.roster_mac(first, secret) == expected


# The registration table as it was at revision eb9a96ade73a (before the secrets were hashed).
BEFORE = "eb9a96ade73a"
OLD_REGISTRATION = sa.table(
    "registration",
    *(
        sa.column(name)
        for name in ("id", "program_id", "person_id", "status", "ticket_secret", "ticket_code")
    ),
    *(sa.column(name) for name in ("source", "created_at", "updated_at")),
)
OLD_PERSON = sa.table(
    "person",
    *(sa.column(name) for name in ("id", "name", "position", "organization_id", "phone", "email", "nip")),
    *(sa.column(name) for name in ("locale", "created_at")),
)
SECRETS = ["k7m2p9qrstuvwxyz23456789abcdefgh", "abcdefghjkmnpqrstuvwxyz234567892"]


def test_the_migration_hashes_and_seals_the_secrets_and_downgrade_unseals_them(make_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": make_database_url("ticketsecrets"), "SECRET_KEY": "migrate"})
    init_migrations(app)
    with app.app_context():
        upgrade(revision=BEFORE)
        with model_columns_added(["program", "organization"]):
            program_id = factories.program(db.session, stages=0).id
            organization_id = factories.organization(db.session).id
            db.session.commit()
        now = utcnow()
        for number, secret in enumerate(SECRETS, start=1):
            db.session.execute(
                OLD_PERSON.insert().values(
                    id=number,
                    name=f"Peserta {number}",
                    position="",
                    organization_id=organization_id,
                    phone=f"+6281200000{number}",
                    email="",
                    nip="",
                    locale="id",
                    created_at=now,
                )
            )
            db.session.execute(
                OLD_REGISTRATION.insert().values(
                    id=number,
                    program_id=program_id,
                    person_id=number,
                    status="APPROVED",
                    ticket_secret=secret,
                    ticket_code=f"ABCDEFG{number}",
                    source="form",
                    created_at=now,
                    updated_at=now,
                )
            )
        db.session.commit()

        upgrade()

        columns = {column["name"] for column in sa.inspect(db.engine).get_columns("registration")}
        assert "ticket_secret" not in columns
        assert not any(secret in value for value in _stored_values(db.session) for secret in SECRETS)
        for number, secret in enumerate(SECRETS, start=1):
            registration = db.session.get(Registration, number)
            assert registration.ticket_secret == secret  # the printed QR codes still draw and open
            ticket = services.find_ticket(db.session, codes.qr_payload(secret), "migrate")
            assert ticket is not None and ticket.registration_id == registration.id
        db.session.remove()

        downgrade(revision=BEFORE)

        restored = db.session.execute(
            select(OLD_REGISTRATION.c.id, OLD_REGISTRATION.c.ticket_secret).order_by(OLD_REGISTRATION.c.id)
        ).all()
        assert [tuple(row) for row in restored] == [(1, SECRETS[0]), (2, SECRETS[1])]
        db.session.remove()
        db.engine.dispose()


def _migration(name: str):
    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_old_migrations_carry_their_own_copy_of_the_ticket_helpers_and_it_matches_the_app():
    """Migrations do not import app code that moves; their copies still compute what the app does."""
    created = _migration("0003_check_in_and_attendance.py")
    logged = _migration("0007_scan_log_keeps_code_prefixes.py")
    hashed = _migration("0010_ticket_secrets_hashed_and_sealed.py")
    secret = codes.new_secret()

    assert created.SECRET_ALPHABET == codes.SECRET_ALPHABET
    assert created.CODE_ALPHABET == codes.CODE_ALPHABET
    assert codes.parse(created.new_secret()) is not None
    assert codes.parse(created.new_short_code())[0] == "code"
    for scanned in (f"BH1:{secret}", f" bh1:{secret} ", "K7PM-3XQ2", "", "https://example.com/x"):
        assert logged.logged_code(scanned) == codes.logged_code(scanned)
    assert hashed.secret_hash(secret, "key") == codes.secret_hash(secret, "key")
    assert codes.unseal(hashed.seal(secret, "key"), "key") == secret
    assert hashed.unseal(codes.seal(secret, "key"), "key") == secret
    for source in (created, logged, hashed):
        assert not [name for name in vars(source) if name in ("tickets", "codes")]
