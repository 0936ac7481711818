"""The scan log (scan_attempt.code) keeps the first characters of each code only: it records who
was scanned (registration_id) and what failed, but a copy of it opens no door."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from tests import factories, test_checkin
from tests.old_schema import model_columns_added
from tests.test_checkin import scan
from workshop import create_app
from workshop.checkin.models import ScanAttempt, ScanMethod, ScanResult
from workshop.db import UTCDateTime, db
from workshop.extensions import init_migrations
from workshop.registration.models import Status
from workshop.tickets import codes

hall = test_checkin.hall  # fixture


def test_a_scanned_ticket_is_logged_by_its_first_characters_and_its_registration(session, hall):
    program, stage, _ = hall
    registration = factories.registration(session, program, status=Status.APPROVED)

    scan(session, stage, codes.qr_payload(registration.ticket_secret), nonce="nonce-qr-0001")
    scan(session, stage, registration.ticket_code, nonce="nonce-typed-01", method=ScanMethod.TYPED)

    logged = session.execute(
        select(ScanAttempt.code, ScanAttempt.registration_id).order_by(ScanAttempt.id)
    ).all()
    assert [tuple(row) for row in logged] == [
        (registration.ticket_secret[:4], registration.id),
        (registration.ticket_code[:4], registration.id),
    ]
    # the same nonce again answers as before: the log knows it by the code's start and the ticket
    again = scan(session, stage, codes.qr_payload(registration.ticket_secret), nonce="nonce-qr-0001")
    assert again.result == ScanResult.OK


# The two tables as they were at revision 6c3fda63274d: the models have grown columns since.
OLD_STAGE = sa.table(
    "stage",
    *(sa.column(name) for name in ("id", "program_id", "position", "title", "venue_name", "venue_address")),
    *(sa.column(name) for name in ("meeting_provider", "meeting_url", "meeting_id", "meeting_passcode")),
    sa.column("starts_at", UTCDateTime),
    sa.column("ends_at", UTCDateTime),
)
OLD_SCAN_ATTEMPT = sa.table(
    "scan_attempt",
    *(sa.column(name) for name in ("stage_id", "code", "method", "desk", "result")),
    sa.column("scanned_at", UTCDateTime),
    sa.column("received_at", UTCDateTime),
)


def test_the_migration_cuts_the_codes_already_logged(make_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": make_database_url("scanlog"), "SECRET_KEY": "test"})
    init_migrations(app)
    with app.app_context():
        upgrade(revision="6c3fda63274d")  # before the scan log was cut
        with model_columns_added(["program"]):
            program_id = factories.program(db.session, stages=0).id
            db.session.commit()
        secret = "k7m2p9qrstuvwxyz23456789abcdefgh"  # a ticket secret's shape; no registration needed
        start = factories.TAHAP_I_START
        db.session.execute(
            OLD_STAGE.insert().values(
                id=1,
                program_id=program_id,
                position=1,
                title="Tahap ke-1",
                starts_at=start,
                ends_at=start,
                venue_name="",
                venue_address="",
                meeting_provider="",
                meeting_url="",
                meeting_id="",
                meeting_passcode="",
            )
        )
        for code in (codes.qr_payload(secret), "https://example.com/not-a-ticket"):
            db.session.execute(
                OLD_SCAN_ATTEMPT.insert().values(
                    stage_id=1,
                    code=code,
                    method="CAMERA",
                    desk="Meja 1",
                    result="OK",
                    scanned_at=start,
                    received_at=start,
                )
            )
        db.session.commit()

        upgrade()

        assert db.session.scalars(select(ScanAttempt.code).order_by(ScanAttempt.id)).all() == [
            secret[:4],
            "http",
        ]
        db.session.remove()
        db.engine.dispose()
