"""Ticket secrets are stored as an HMAC (the lookup) and sealed (to draw the QR code again): a copy
of the database holds no secret that opens a door (docs/security.md)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import sqlalchemy as sa
from cryptography.fernet import InvalidToken
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from tests import factories
from workshop import create_app
from workshop.checkin import services, tickets
from workshop.db import db, utcnow
from workshop.registration.models import Registration, Status


def _stored_values(session) -> list[str]:
    """Every value of every registration row as the database holds it."""
    rows = session.execute(text("SELECT * FROM registration")).all()
    return [str(value) for row in rows for value in row]


def test_the_database_holds_no_ticket_secret(session):
    program = factories.program(session, stages=1)
    registrations = [factories.registration(session, program, status=Status.APPROVED) for _ in range(3)]
    session.commit()
    secret_key = current_app.config["SECRET_KEY"]

    stored = _stored_values(session)
    for registration in registrations:
        secret = registration.ticket_secret
        assert not any(secret in value for value in stored)
        assert registration.ticket_secret_hash == tickets.secret_hash(secret, secret_key)
        assert (
            registration.ticket_secret_hash
            == hmac.new(secret_key.encode(), f"ticket-secret:{secret}".encode(), hashlib.sha256).hexdigest()
        )
        assert tickets.unseal(registration.ticket_secret_sealed, secret_key) == secret
    assert len({r.ticket_secret for r in registrations}) == 3
    with pytest.raises(InvalidToken):  # sealed under a key derived from SECRET_KEY, not another
        tickets.unseal(registrations[0].ticket_secret_sealed, "another key")


def test_a_ticket_is_found_by_its_secret_only_under_the_apps_key(session):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, status=Status.APPROVED)
    other = factories.registration(session, program, status=Status.APPROVED)
    session.commit()
    secret_key = current_app.config["SECRET_KEY"]
    secret = registration.ticket_secret

    assert services.find_ticket(session, tickets.qr_payload(secret), secret_key) == registration
    assert services.find_ticket(session, secret.upper(), secret_key) == registration
    assert services.find_ticket(session, registration.ticket_code, secret_key) == registration
    assert services.find_ticket(session, other.ticket_secret, secret_key) == other
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
    assert services.find_ticket(session, new, secret_key) == registration
    assert services.find_ticket(session, old, secret_key) is None


def test_the_roster_key_is_one_per_stage_and_its_mac_is_the_hmac_of_the_secret():
    first, second = tickets.roster_key(1, "key"), tickets.roster_key(2, "key")
    assert first != second and first == tickets.roster_key(1, "key") and len(first) == 64
    assert tickets.roster_key(1, "another key") != first
    secret = "k7m2p9qrstuvwxyz23456789abcdefgh"
    expected = hmac.new(bytes.fromhex(first), secret.encode(), hashlib.sha256).hexdigest()
    assert tickets.roster_mac(first, secret) == expected


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
    with app.app_context():
        upgrade(revision=BEFORE)
        program = factories.program(db.session, stages=0)
        organization = factories.organization(db.session)
        now = utcnow()
        for number, secret in enumerate(SECRETS, start=1):
            db.session.execute(
                OLD_PERSON.insert().values(
                    id=number,
                    name=f"Peserta {number}",
                    position="",
                    organization_id=organization.id,
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
                    program_id=program.id,
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
            assert services.find_ticket(db.session, tickets.qr_payload(secret), "migrate") == registration
        db.session.remove()

        downgrade(revision=BEFORE)

        restored = db.session.execute(
            select(OLD_REGISTRATION.c.id, OLD_REGISTRATION.c.ticket_secret).order_by(OLD_REGISTRATION.c.id)
        ).all()
        assert [tuple(row) for row in restored] == [(1, SECRETS[0]), (2, SECRETS[1])]
        db.session.remove()
        db.engine.dispose()
