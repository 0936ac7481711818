"""Request bodies: at most MAX_BODY_BYTES (64 KiB) for forms and JSON, whoever sends them; only
the upload pages and the scanner's offline batch take more, and only from logged-in staff."""

from __future__ import annotations

import io
import json

from sqlalchemy import func, select

from tests import factories, test_scanner_api
from tests.test_scanner_api import NOW, body, log_in, staff_member
from workshop.auth.models import Role
from workshop.checkin.models import ScanAttempt

hall, clock, notified = test_scanner_api.hall, test_scanner_api.clock, test_scanner_api.notified  # fixtures

KIB = 1024


def test_a_form_or_json_body_over_64_kib_is_refused_before_anyone_reads_it(client):
    assert client.post("/login", data={"username": "x" * 70 * KIB, "password": "y"}).status_code == 413
    assert client.post("/live/1/questions", json={"text": "x" * 70 * KIB}).status_code == 413
    assert client.post("/login", data={"username": "x" * 60 * KIB, "password": "y"}).status_code == 200


def _upload(client, size: int):
    return client.post(
        "/admin/programs/1/import",
        data={"file": (io.BytesIO(b"nama;instansi;no_hp\r\n" + b"x" * size), "peserta.csv")},
        content_type="multipart/form-data",
    )


def test_a_large_upload_is_refused_unread_unless_staff_send_it(session, client, login):
    program = factories.program(session, stages=1)
    session.commit()
    assert program.id == 1

    # A stranger is sent to the login page before the body is read (tests/test_upload_limits.py
    # counts the bytes read).
    stranger = _upload(client, 200 * KIB)
    assert (stranger.status_code, stranger.location) == (302, "/login?next=/admin/programs/1/import")
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    login(organiser)
    assert _upload(client, 200 * KIB).status_code in (303, 400)  # read and checked: not too large
    assert _upload(client, 6 * KIB * KIB).status_code == 413  # past MAX_UPLOAD_BYTES for staff too


def test_the_scanner_batch_takes_more_than_64_kib_from_the_door_staff_only(session, client, hall):
    scans = [body(hall.nelson.ticket_code, desk=f"Meja {'x' * 50}", at=NOW) for _ in range(500)]
    payload = {"scans": scans}
    assert len(json.dumps(payload)) > 80 * KIB

    accepted = client.post(hall.url("checkin/batch"), json=payload)
    assert accepted.status_code == 200
    assert len(accepted.get_json()["results"]) == 500
    assert session.scalar(select(func.count()).select_from(ScanAttempt)) == 500

    log_in(client, staff_member(session, Role.PARTICIPANT))
    assert client.post(hall.url("checkin/batch"), json=payload).status_code == 413
