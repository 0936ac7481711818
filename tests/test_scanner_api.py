"""The check-in desk's JSON API and pages: answers, offline batches, roster, search, undo, permissions."""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from workshop import create_app
from workshop.auth.models import Role, User
from workshop.checkin import api
from workshop.checkin.models import CheckIn, ScanAttempt, ScanMethod, ScanResult
from workshop.db import db
from workshop.programs.models import OrgKind, Program, Stage
from workshop.registration import links
from workshop.registration.models import Mode, Registration, Status
from workshop.tickets import codes


def wib(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A WIB time of June 2021 (any hour, the small hours too), in UTC."""
    return datetime(2021, 6, day, tzinfo=UTC) + timedelta(hours=hour - 7, minutes=minute, seconds=second)


# Tahap I of the factory programme runs Kamis 24 Juni 2021 09.00 WIB to Jumat 25 Juni 16.00 WIB.
NOW = wib(24, 9, 15)
UNDO_UNTIL = "2021-06-24T02:20:00+00:00"  # NOW + 5 minutes, in UTC


@dataclass
class Hall:
    program: Program
    stage: Stage
    nelson: Registration  # approved, luring, Dinas Kominfo
    marulam: Registration  # approved, daring, a village in Kec. Tarutung

    def url(self, suffix: str = "checkin") -> str:
        return f"/api/stages/{self.stage.id}/{suffix}"


@pytest.fixture
def clock(set_now):
    """The app's clock at NOW; a test moves it with `clock.now = ...`."""

    class Clock:
        now = NOW

    moment = Clock()
    set_now(lambda: moment.now)
    return moment


@pytest.fixture
def notified(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(api, "notify_attendance_changed", calls.append)
    return calls


def staff_member(session, role: Role) -> User:
    """A staff account without a password: hashing one costs a quarter second, and these tests log in
    through the session (the password login has its own tests)."""
    user = User(role=role, name=f"Staf {role.value}", username=f"{role.value}-{next(_nonces)}")
    session.add(user)
    session.commit()
    return user


def log_in(client, user: User) -> None:
    with client.session_transaction() as browser_session:
        browser_session["_user_id"] = user.get_id()
        browser_session["_fresh"] = True


@pytest.fixture
def hall(session, client, clock, notified) -> Hall:
    program = factories.program(session, stages=2)
    kominfo = factories.organization(session, name="Dinas Kominfo")
    tarutung = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    village = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=tarutung)
    nelson = factories.registration(
        session, program, status=Status.APPROVED, name="Nelson Pardede", org=kominfo
    )
    marulam = factories.registration(
        session, program, status=Status.APPROVED, name="Marulam Simanjuntak", org=village, mode=Mode.DARING
    )
    session.commit()
    log_in(client, staff_member(session, Role.PETUGAS))
    return Hall(program, program.stages[0], nelson, marulam)


def body(code, *, desk="Meja 1", nonce=None, at=None, method="camera", **extra):
    scan = {"code": code, "desk": desk, "nonce": nonce or f"nonce-{next(_nonces):06d}", "method": method}
    if at is not None:
        scan["scanned_at"] = at.isoformat()
    return {**scan, **extra}


_nonces = iter(range(1, 10**6))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def nelson_person():
    return {"name": "Nelson Pardede", "position": "Kepala Bidang", "organization": "Dinas Kominfo"}


def marulam_person():
    return {
        "name": "Marulam Simanjuntak",
        "position": "Kepala Bidang",
        "organization": "Hutatoruan I, Kec. Tarutung",
    }


# ---- POST /api/stages/<id>/checkin ------------------------------------------------------------------


def test_a_first_scan_answers_green_with_the_person_and_the_undo_deadline(session, client, hall, notified):
    response = client.post(
        hall.url(), json=body(codes.qr_payload(hall.nelson.ticket_secret), desk="Meja 2", at=wib(24, 9, 12))
    )

    assert response.status_code == 200
    row = session.scalar(select(CheckIn))
    assert response.get_json() == {
        "result": "ok",
        "colour": "green",
        "message": "Berhasil check-in",
        "person": nelson_person(),
        "first": {"time": "09.12 WIB", "desk": "Meja 2"},
        "check_in_id": row.id,
        "undo_until": UNDO_UNTIL,
    }
    assert (row.registration_id, row.scanned_at, row.desk, row.received_at) == (
        hall.nelson.id,
        wib(24, 9, 12),
        "Meja 2",
        NOW,
    )
    attempt = session.scalar(select(ScanAttempt))
    assert (attempt.method, attempt.desk, attempt.result, attempt.check_in_id) == (
        ScanMethod.CAMERA,
        "Meja 2",
        ScanResult.OK,
        row.id,
    )
    assert notified == [hall.stage.id]


def test_a_second_scan_answers_amber_with_the_first_time_and_desk(session, client, hall, notified):
    first = client.post(hall.url(), json=body(hall.nelson.ticket_secret, desk="Meja 2", at=wib(24, 9, 12)))
    code = codes.format_short_code(hall.nelson.ticket_code)

    again = client.post(hall.url(), json=body(code, desk="Meja 1", method="typed"))

    assert again.get_json() == {
        "result": "already_checked_in",
        "colour": "amber",
        "message": "Sudah check-in pukul 09.12 WIB oleh Meja 2",
        "person": nelson_person(),
        "first": {"time": "09.12 WIB", "desk": "Meja 2"},
        "check_in_id": first.get_json()["check_in_id"],
        "undo_until": None,
    }
    assert (count(session, CheckIn), count(session, ScanAttempt)) == (1, 2)
    assert notified == [hall.stage.id]  # only the green scan changed attendance


def test_answers_are_in_english_when_the_desk_chose_english(session, client, hall):
    client.post("/language/en")
    client.post(hall.url(), json=body(hall.nelson.ticket_secret, desk="Meja 2", at=wib(24, 9, 12)))

    again = client.post(hall.url(), json=body(hall.nelson.ticket_code, at=wib(24, 9, 20)))
    daring = client.post(hall.url(), json=body(hall.marulam.ticket_code, at=wib(24, 9, 21)))
    unknown = client.post(hall.url(), json=body("BH1:nothing"))

    assert again.get_json()["message"] == "Already checked in at 09:12 WIB by Meja 2"
    assert (daring.get_json()["colour"], daring.get_json()["message"]) == (
        "green",
        "Checked in; registered online, now recorded in the hall",
    )
    assert unknown.get_json()["message"] == "Unknown code"


def test_a_participant_registered_online_is_let_in_and_recorded_in_the_hall(session, client, hall):
    response = client.post(hall.url(), json=body(hall.marulam.ticket_secret, at=wib(24, 8, 55)))

    answer = response.get_json()
    assert (answer["result"], answer["colour"], answer["message"], answer["person"]) == (
        "ok_mode_changed",
        "green",
        "Berhasil check-in; terdaftar daring, kini dicatat hadir di aula",
        marulam_person(),
    )
    session.expire_all()
    assert session.get(Registration, hall.marulam.id).mode_for(hall.stage) == Mode.LURING


@pytest.mark.parametrize(
    ("make_code", "result", "message", "with_person"),
    [
        ("pending", "not_approved", "Pendaftaran belum disetujui", True),
        ("cancelled", "cancelled", "Pendaftaran dibatalkan", True),
        ("other_programme", "not_registered", "Tidak terdaftar di kegiatan ini", True),
        (
            "wrong_day",
            "stage_ended",
            "Tahap ini sudah selesai pada Jumat, 25 Juni 2021, pukul 16.00 WIB: check-in ditutup."
            " Tidak ada yang dicatat.",
            True,
        ),
        ("unknown", "unknown_code", "Kode tidak dikenal", False),
    ],
)
def test_refused_scans_answer_red_are_logged_and_check_no_one_in(
    session, client, hall, clock, notified, make_code, result, message, with_person
):
    scanned_at = wib(24, 9, 0)
    if make_code == "pending":
        registration = factories.registration(session, hall.program, name="Nelson Pardede")
    elif make_code == "cancelled":
        registration = factories.registration(
            session, hall.program, status=Status.CANCELLED, name="Nelson Pardede"
        )
    elif make_code == "other_programme":
        other = factories.program(session, stages=1)
        registration = factories.registration(session, other, status=Status.APPROVED, name="Nelson Pardede")
    else:
        registration = hall.nelson
        if make_code == "wrong_day":  # Saturday: the stage ran Thursday and Friday
            clock.now, scanned_at = wib(26, 9, 0), None
    session.commit()
    code = "https://example.com/not-a-ticket" if make_code == "unknown" else registration.ticket_secret
    person = (
        {
            "name": "Nelson Pardede",
            "position": "Kepala Bidang",
            "organization": registration.person.organization.label,
        }
        if with_person
        else None
    )

    response = client.post(hall.url(), json=body(code, at=scanned_at))

    assert response.status_code == 200
    assert response.get_json() == {
        "result": result,
        "colour": "red",
        "message": message,
        "person": person,
        "first": None,
        "check_in_id": None,
        "undo_until": None,
    }
    assert count(session, CheckIn) == 0
    assert session.scalar(select(ScanAttempt.result)) == ScanResult(result)
    assert notified == []


@pytest.mark.parametrize(
    ("now", "result", "colour", "language", "message"),
    [
        (
            wib(25, 1),  # eight hours before day 2, as in the issue
            "too_early",
            "amber",
            "id",
            "Terlalu awal: check-in dibuka pukul 07.00 WIB. Tidak ada yang dicatat.",
        ),
        (
            wib(24, 16, 30),
            "day_ended",
            "red",
            "id",
            "Check-in sudah ditutup: sesi hari ini selesai pukul 16.00 WIB. Tidak ada yang dicatat.",
        ),
        # Before the stage's first check-in opens, and after its last one closed: the day as well.
        (
            wib(23, 20),
            "stage_not_started",
            "amber",
            "id",
            "Tahap ini belum dimulai: check-in dibuka Kamis, 24 Juni 2021, pukul 07.00 WIB."
            " Tidak ada yang dicatat.",
        ),
        (
            wib(23, 20),
            "stage_not_started",
            "amber",
            "en",
            "This stage has not started: check-in opens on Thursday, 24 June 2021 at 07:00 WIB."
            " Nothing was recorded.",
        ),
        (
            wib(25, 16),  # the end of its last day
            "stage_ended",
            "red",
            "id",
            "Tahap ini sudah selesai pada Jumat, 25 Juni 2021, pukul 16.00 WIB: check-in ditutup."
            " Tidak ada yang dicatat.",
        ),
        (
            wib(30, 9),
            "stage_ended",
            "red",
            "en",
            "This stage ended on Friday, 25 June 2021 at 16:00 WIB: check-in is closed. Nothing was recorded.",
        ),
    ],
)
def test_a_scan_outside_the_check_in_window_answers_why_and_credits_nothing(
    session, client, hall, clock, notified, now, result, colour, language, message
):
    clock.now = now
    with client.session_transaction() as browser_session:
        browser_session["lang"] = language
    scan = body(hall.nelson.ticket_code, nonce="outside-window-1", method="typed")

    response = client.post(hall.url(), json=scan)
    replay = client.post(hall.url(), json=scan)

    answer = {
        "result": result,
        "colour": colour,
        "message": message,
        "person": nelson_person(),
        "first": None,
        "check_in_id": None,
        "undo_until": None,
    }
    assert (response.status_code, response.get_json()) == (200, answer)
    assert replay.get_json() == answer
    assert (count(session, CheckIn), count(session, ScanAttempt)) == (0, 1)
    assert session.scalar(select(ScanAttempt.result)) == ScanResult(result)
    assert notified == []


def test_an_offline_batch_after_the_stage_still_records_the_scans_made_during_it(
    session, client, hall, clock, notified
):
    """A desk that comes back online after the stage has ended sends what it scanned during it."""
    clock.now = wib(26, 9)
    scans = [
        body(hall.nelson.ticket_code, desk="Meja 5", at=wib(25, 15, 50)),
        body(hall.marulam.ticket_code, desk="Meja 5", at=wib(25, 16, 5)),
    ]

    answers = client.post(hall.url("checkin/batch"), json={"scans": scans}).get_json()["results"]

    assert [(a["result"], a["colour"]) for a in answers] == [("ok", "green"), ("stage_ended", "red")]
    assert session.execute(select(CheckIn.registration_id, CheckIn.scanned_at)).all() == [
        (hall.nelson.id, wib(25, 15, 50))
    ]
    assert notified == [hall.stage.id]


# What the scanner page offers at each moment: (data-check-in, the code field and camera shown).
PAGE_STATES = [
    (wib(23, 20), "before", False),
    (wib(24, 7), "open", True),
    (wib(24, 20), "between", False),
    (wib(25, 15, 59), "open", True),
    (wib(25, 16), "after", False),
    (wib(30, 9), "after", False),
]


@pytest.mark.parametrize(("now", "state", "offered"), PAGE_STATES)
def test_the_scanner_page_offers_the_code_field_and_camera_only_while_check_in_is_open(
    client, hall, clock, now, state, offered
):
    clock.now = now

    html = client.get(f"/checkin/stages/{hall.stage.id}").get_data(as_text=True)

    assert f'data-check-in="{state}"' in html
    assert ('<form id="code-form" class="code-form" autocomplete="off">' in html) is offered
    assert ('<form id="code-form" class="code-form" autocomplete="off" hidden>' in html) is not offered
    assert ('<section class="camera" data-camera data-decoder="" hidden>' in html) is not offered
    texts = _page_config(html)["texts"]
    assert (texts["closedBefore"], texts["closedBetween"], texts["closedAfter"]) == (
        "Check-in belum dibuka: tahap ini belum dimulai. Check-in dibuka {time}.",
        "Check-in hari ini sudah ditutup. Check-in berikutnya dibuka {time}.",
        "Tahap ini sudah selesai pada {time}: check-in ditutup, pemindaian tidak dicatat lagi.",
    )


def test_an_english_desk_is_told_in_english_when_check_in_opens_and_that_the_stage_ended(client, hall, clock):
    with client.session_transaction() as browser_session:
        browser_session["lang"] = "en"

    config = _page_config(client.get(f"/checkin/stages/{hall.stage.id}").get_data(as_text=True))

    assert config["stage"]["windowLabels"][0] == [
        "Thursday, 24 June 2021 at 07:00 WIB",
        "Thursday, 24 June 2021 at 16:00 WIB",
    ]
    texts = config["texts"]
    assert (texts["closedBefore"], texts["closedBetween"], texts["closedAfter"]) == (
        "Check-in is not open yet: this stage has not started. Check-in opens on {time}.",
        "Today's check-in has closed. The next check-in opens on {time}.",
        "This stage ended on {time}: check-in is closed, scans are no longer recorded.",
    )


def test_the_answer_is_in_english_for_an_english_desk(session, client, hall, clock):
    clock.now = wib(25, 1)
    with client.session_transaction() as browser_session:
        browser_session["lang"] = "en"

    answer = client.post(hall.url(), json=body(hall.nelson.ticket_code)).get_json()

    assert answer["message"] == "Too early: check-in opens at 07:00 WIB. Nothing was recorded."


def test_an_offline_batch_applies_the_window_by_the_scan_time_not_the_upload_time(
    session, client, hall, clock, notified
):
    clock.now = wib(24, 16, 30)  # the desk comes back online after the day's end
    scans = [
        body(hall.nelson.ticket_code, desk="Meja 5", at=wib(24, 15, 50)),  # in the window: counts
        body(hall.marulam.ticket_code, desk="Meja 5", at=wib(24, 6, 50)),  # before it opened
    ]

    answers = client.post(hall.url("checkin/batch"), json={"scans": scans}).get_json()["results"]

    assert [(a["result"], a["colour"], a["message"]) for a in answers] == [
        ("ok", "green", "Berhasil check-in"),
        (
            "stage_not_started",
            "amber",
            "Tahap ini belum dimulai: check-in dibuka Kamis, 24 Juni 2021, pukul 07.00 WIB."
            " Tidak ada yang dicatat.",
        ),
    ]
    rows = session.execute(select(CheckIn.registration_id, CheckIn.scanned_at)).all()
    assert rows == [(hall.nelson.id, wib(24, 15, 50))]
    assert notified == [hall.stage.id]


def test_the_same_nonce_twice_gives_the_same_answer_and_counts_once(session, client, hall):
    scan = body(hall.nelson.ticket_secret, nonce="7a1c2d9e-retry-me", at=wib(24, 9, 12))

    first = client.post(hall.url(), json=scan)
    retried = client.post(hall.url(), json=scan)

    assert retried.get_json() == first.get_json()
    assert first.get_json()["colour"] == "green"
    assert (count(session, CheckIn), count(session, ScanAttempt)) == (1, 1)


def test_a_nonce_reused_for_another_ticket_is_a_conflict(session, client, hall):
    client.post(hall.url(), json=body(hall.nelson.ticket_secret, nonce="7a1c2d9e-used-once"))

    response = client.post(hall.url(), json=body(hall.marulam.ticket_secret, nonce="7a1c2d9e-used-once"))

    assert response.status_code == 409
    assert response.get_json() == {
        "error": "nonce_reused",
        "message": "ID pemindaian ini sudah dipakai untuk pemindaian lain.",
    }
    assert (count(session, CheckIn), count(session, ScanAttempt)) == (1, 1)


@pytest.mark.parametrize(
    ("scanned_at", "kept"),
    [
        ("2021-06-24T09:12:00+07:00", wib(24, 9, 12)),
        ("2021-06-24T02:12:00.250Z", wib(24, 9, 12) + timedelta(milliseconds=250)),
        (None, NOW),
    ],
)
def test_scan_times_with_an_offset_are_kept_and_a_missing_one_means_now(
    session, client, hall, scanned_at, kept
):
    scan = body(hall.nelson.ticket_code)
    if scanned_at is not None:
        scan["scanned_at"] = scanned_at

    response = client.post(hall.url(), json=scan)

    assert response.status_code == 200
    assert session.scalar(select(CheckIn.scanned_at)) == kept


BAD_SCANS = [
    (
        {"desk": "Meja 1", "nonce": "abcdefgh-1", "method": "camera"},
        "missing_code",
        "Pindai atau ketik kode tiket.",
    ),
    (
        {"code": "   ", "desk": "Meja 1", "nonce": "abcdefgh-1", "method": "camera"},
        "missing_code",
        "Pindai atau ketik kode tiket.",
    ),
    (
        {"code": 12345678, "desk": "Meja 1", "nonce": "abcdefgh-1", "method": "camera"},
        "missing_code",
        "Pindai atau ketik kode tiket.",
    ),
    (
        {"code": "X" * 201, "desk": "Meja 1", "nonce": "abcdefgh-1", "method": "camera"},
        "bad_code",
        "Kode terlalu panjang.",
    ),
    (
        {"code": "ABCDEFGH", "nonce": "abcdefgh-1", "method": "camera"},
        "missing_desk",
        "Tentukan nama meja terlebih dahulu.",
    ),
    (
        {"code": "ABCDEFGH", "desk": "M" * 61, "nonce": "abcdefgh-1", "method": "camera"},
        "bad_desk",
        "Nama meja terlalu panjang (paling banyak 60 karakter).",
    ),
    (
        {"code": "ABCDEFGH", "desk": "Meja 1", "method": "camera"},
        "bad_nonce",
        "Pindaian tidak memiliki pengenal (nonce) yang sah.",
    ),
    (
        {"code": "ABCDEFGH", "desk": "Meja 1", "nonce": "short", "method": "camera"},
        "bad_nonce",
        "Pindaian tidak memiliki pengenal (nonce) yang sah.",
    ),
    *[
        (
            {"code": "ABCDEFGH", "desk": "Meja 1", "nonce": "abcdefgh-1", "method": method},
            "bad_method",
            "Cara pindai tidak dikenal.",
        )
        for method in ("laser", [], ["camera"], {"camera": 1}, 1, None)  # a list or an object: a 500
    ],
    *[
        (
            {
                "code": "ABCDEFGH",
                "desk": "Meja 1",
                "nonce": "abcdefgh-1",
                "method": "camera",
                "scanned_at": value,
            },
            "bad_scanned_at",
            "Waktu pindai harus berupa tanggal dan jam ISO 8601 dengan selisih UTC-nya.",
        )
        for value in ("kemarin", "2021-06-24T09:12:00", "2021-06-24", 1624500720, "")
    ],
    (["ABCDEFGH"], "bad_scan", "Setiap pindaian harus berupa objek JSON."),
]


@pytest.mark.parametrize(("scan", "error", "message"), BAD_SCANS)
def test_bad_input_is_refused_with_a_message_and_nothing_is_written(
    session, client, hall, scan, error, message
):
    response = client.post(hall.url(), json=scan)

    assert response.status_code == 400
    assert response.get_json() == {"error": error, "message": message}
    assert (count(session, ScanAttempt), count(session, CheckIn)) == (0, 0)


def test_a_body_that_is_not_json_is_refused(session, client, hall):
    response = client.post(hall.url(), data="code=ABCDEFGH", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_json", "message": "Permintaan bukan JSON yang sah."}
    assert count(session, ScanAttempt) == 0


def test_an_oversized_body_is_refused_before_it_is_read(session, client, hall):
    scan = body(hall.nelson.ticket_code, padding="x" * 5000)

    response = client.post(hall.url(), json=scan)

    assert response.status_code == 413
    assert response.get_json() == {"error": "too_large", "message": "Permintaan terlalu besar."}
    assert count(session, ScanAttempt) == 0


def test_an_unknown_stage_is_answered_as_json(session, client, hall):
    response = client.post("/api/stages/9999/checkin", json=body(hall.nelson.ticket_code))

    assert response.status_code == 404
    assert response.get_json() == {"error": "unknown_stage", "message": "Tahap ini tidak ada."}
    assert count(session, ScanAttempt) == 0


def test_an_unknown_stage_is_answered_before_what_is_wrong_with_the_scan(session, client, hall):
    """The stage is read with the ticket, so a scan without a valid body reads it on its own."""
    for sent in (
        {"json": body("")},
        {"json": body(hall.nelson.ticket_code, desk="")},
        {"data": b"{not json", "content_type": "application/json"},
    ):
        response = client.post("/api/stages/9999/checkin", **sent)
        assert (response.status_code, response.get_json()) == (
            404,
            {"error": "unknown_stage", "message": "Tahap ini tidak ada."},
        )
    assert count(session, ScanAttempt) == 0


# ---- POST /api/stages/<id>/checkin/batch --------------------------------------------------------------


def test_an_offline_batch_keeps_the_earliest_scan_counts_a_retried_nonce_once_and_answers_in_order(
    session, client, hall, clock, notified
):
    clock.now = wib(24, 10, 0)
    # This scan reached the server, but the desk gave up waiting and queued it too (same nonce).
    client.post(
        hall.url(), json=body(hall.nelson.ticket_code, desk="Meja 3", nonce="queued-0001", at=wib(24, 9, 40))
    )
    notified.clear()
    scans = [
        body(hall.nelson.ticket_code, desk="Meja 2", at=wib(24, 9, 30), method="typed"),
        body(codes.qr_payload(hall.nelson.ticket_secret), desk="Meja 1", at=wib(24, 9, 5)),
        body(hall.marulam.ticket_code, desk="Meja 1", at=wib(24, 9, 20), method="search"),
        body(hall.nelson.ticket_code, desk="Meja 3", nonce="queued-0001", at=wib(24, 9, 40)),
        body(hall.marulam.ticket_secret, desk="Meja 2", at=wib(24, 9, 50)),
        body("KODE-SALAH", desk="Meja 2", at=wib(24, 9, 51), method="typed"),
    ]

    response = client.post(hall.url("checkin/batch"), json={"scans": scans})

    assert response.status_code == 200
    nelson_row = session.scalar(select(CheckIn).where(CheckIn.registration_id == hall.nelson.id))
    marulam_row = session.scalar(select(CheckIn).where(CheckIn.registration_id == hall.marulam.id))

    def green(result, person, time, desk, row):
        return {
            "result": result,
            "colour": "green",
            "message": "Berhasil check-in"
            if result == "ok"
            else "Berhasil check-in; terdaftar daring, kini dicatat hadir di aula",
            "person": person,
            "first": {"time": time, "desk": desk},
            "check_in_id": row.id,
            "undo_until": "2021-06-24T03:05:00+00:00",  # 10.00 WIB + 5 minutes
        }

    def earlier(person, time, desk, replaced_time, replaced_desk, row):
        return {
            "result": "earlier_scan_kept",
            "colour": "amber",
            "message": f"Check-in dicatat pukul {time} dari pindaian ini; tiket yang sama juga dipindai"
            f" pukul {replaced_time} oleh {replaced_desk}",
            "person": person,
            "first": {"time": time, "desk": desk},
            "check_in_id": row.id,
            "undo_until": None,
        }

    # Nelson was checked in live at 09.40; his queued earlier scans each move the check-in back
    # to themselves (the earliest is kept) and say so, naming the scan each replaced.
    assert response.get_json() == {
        "results": [
            earlier(nelson_person(), "09.30 WIB", "Meja 2", "09.40 WIB", "Meja 3", nelson_row),
            earlier(nelson_person(), "09.05 WIB", "Meja 1", "09.30 WIB", "Meja 2", nelson_row),
            green("ok_mode_changed", marulam_person(), "09.20 WIB", "Meja 1", marulam_row),
            green(
                "ok", nelson_person(), "09.05 WIB", "Meja 1", nelson_row
            ),  # the replay: its answer, today's state
            {
                "result": "already_checked_in",
                "colour": "amber",
                "message": "Sudah check-in pukul 09.20 WIB oleh Meja 1",
                "person": marulam_person(),
                "first": {"time": "09.20 WIB", "desk": "Meja 1"},
                "check_in_id": marulam_row.id,
                "undo_until": None,
            },
            {
                "result": "unknown_code",
                "colour": "red",
                "message": "Kode tidak dikenal",
                "person": None,
                "first": None,
                "check_in_id": None,
                "undo_until": None,
            },
        ]
    }
    assert (nelson_row.scanned_at, nelson_row.desk) == (wib(24, 9, 5), "Meja 1")
    assert count(session, CheckIn) == 2
    assert (
        count(session, ScanAttempt) == 6
    )  # the single scan, then five new ones: the replay is not logged again
    assert notified == [hall.stage.id]


def test_an_empty_batch_answers_an_empty_list(session, client, hall, notified):
    response = client.post(hall.url("checkin/batch"), json={"scans": []})

    assert (response.status_code, response.get_json()) == (200, {"results": []})
    assert notified == []


def test_a_batch_of_more_than_500_scans_is_refused_and_nothing_is_written(session, client, hall):
    scans = [body(hall.nelson.ticket_code) for _ in range(501)]

    response = client.post(hall.url("checkin/batch"), json={"scans": scans})

    assert response.status_code == 400
    assert response.get_json() == {"error": "too_many", "message": "Paling banyak 500 pindaian sekaligus."}
    assert (count(session, ScanAttempt), count(session, CheckIn)) == (0, 0)


def test_a_batch_with_one_bad_scan_is_refused_whole_naming_the_scan(session, client, hall):
    scans = [body(hall.nelson.ticket_code), body(hall.marulam.ticket_code, at=None, scanned_at="kemarin")]

    response = client.post(hall.url("checkin/batch"), json={"scans": scans})

    assert response.status_code == 400
    assert response.get_json() == {
        "error": "bad_scanned_at",
        "message": "Pindaian 2: Waktu pindai harus berupa tanggal dan jam ISO 8601 dengan selisih UTC-nya.",
        "index": 1,
    }
    assert (count(session, ScanAttempt), count(session, CheckIn)) == (0, 0)


def test_a_batch_scan_whose_method_is_a_list_is_refused_naming_the_scan(session, client, hall):
    scans = [body(hall.nelson.ticket_code), body(hall.marulam.ticket_code, method=["camera"])]

    response = client.post(hall.url("checkin/batch"), json={"scans": scans})  # was a 500 (unhashable)

    assert (response.status_code, response.get_json()) == (
        400,
        {"error": "bad_method", "message": "Pindaian 2: Cara pindai tidak dikenal.", "index": 1},
    )
    assert (count(session, ScanAttempt), count(session, CheckIn)) == (0, 0)


@pytest.mark.parametrize("earlier", [False, True])
def test_a_batch_scan_whose_nonce_another_scan_used_is_refused_naming_it_and_the_rest_goes_through_after(
    session, client, hall, earlier
):
    """Within the batch or in an earlier one: answered with the scan's index (was a 409 without one,
    and the desk's queue, which drops only the scan named, stayed stuck on the batch for good)."""
    first = body(hall.nelson.ticket_code, nonce="used-nonce-1")
    if earlier:
        assert client.post(hall.url(), json=first).status_code == 200
    scans = [
        *([] if earlier else [first]),
        body(hall.marulam.ticket_code, nonce="used-nonce-1"),
        body("KODE-SALAH"),
    ]
    before = count(session, ScanAttempt), count(session, CheckIn)

    response = client.post(hall.url("checkin/batch"), json={"scans": scans})
    index = len(scans) - 2
    again = client.post(hall.url("checkin/batch"), json={"scans": scans[:index] + scans[index + 1 :]})

    assert (response.status_code, response.get_json()) == (
        409,
        {
            "error": "nonce_reused",
            "message": f"Pindaian {index + 1}: ID pemindaian ini sudah dipakai untuk pemindaian lain.",
            "index": index,
        },
    )
    assert [answer["result"] for answer in again.get_json()["results"]] == ["ok"] * (not earlier) + [
        "unknown_code"
    ]
    assert (count(session, ScanAttempt), count(session, CheckIn)) == (before[0] + 1 + (not earlier), 1)
    assert session.scalars(select(CheckIn.registration_id)).all() == [hall.nelson.id]


@pytest.mark.parametrize(
    "at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T05:00+23:59"]
)
@pytest.mark.parametrize("batch", [False, True])
def test_a_scan_time_beyond_what_utc_can_hold_is_refused_not_a_server_error(session, client, hall, at, batch):
    scan = body(hall.nelson.ticket_code, scanned_at=at)

    response = (
        client.post(hall.url("checkin/batch"), json={"scans": [scan]})
        if batch
        else client.post(hall.url(), json=scan)
    )

    message = "Waktu pindai harus berupa tanggal dan jam ISO 8601 dengan selisih UTC-nya."
    assert (response.status_code, response.get_json()) == (
        400,
        {"error": "bad_scanned_at", "message": f"Pindaian 1: {message}", "index": 0}
        if batch
        else {"error": "bad_scanned_at", "message": message},
    )
    assert (count(session, ScanAttempt), count(session, CheckIn)) == (0, 0)


@pytest.mark.parametrize("payload", [{"scans": "ABCDEFGH"}, {"scan": []}, [], "scans"])
def test_a_batch_that_is_not_a_list_of_scans_is_refused(session, client, hall, payload):
    response = client.post(hall.url("checkin/batch"), json=payload)

    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_batch", "message": "Kirim pindaian sebagai daftar."}


def test_a_batch_body_over_the_cap_is_refused(session, client, hall):
    scans = [body(hall.nelson.ticket_code, desk="M" * 60, padding="x" * 1100) for _ in range(500)]

    response = client.post(hall.url("checkin/batch"), json={"scans": scans})

    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert count(session, ScanAttempt) == 0


# ---- GET /api/stages/<id>/roster -----------------------------------------------------------------------


def test_the_roster_holds_what_a_desk_needs_offline(session, client, hall):
    factories.registration(session, hall.program, name="Belum Disetujui")  # pending: not on the roster
    undone = factories.registration(session, hall.program, status=Status.APPROVED, name="Ani Lumbantobing")
    session.commit()
    client.post(hall.url(), json=body(hall.nelson.ticket_code, desk="Meja 2", at=wib(24, 8, 50)))
    cancelled = client.post(hall.url(), json=body(undone.ticket_code, at=wib(24, 8, 51))).get_json()
    client.post(f"/api/checkins/{cancelled['check_in_id']}/undo")
    nelson_check_in = session.scalar(select(CheckIn.id).where(CheckIn.registration_id == hall.nelson.id))

    response = client.get(hall.url("roster"))

    assert response.headers["Cache-Control"] == "no-store"

    assert response.status_code == 200
    answer = response.get_json()
    version = answer.pop("version")
    assert re.fullmatch(r"[0-9a-f]{16}", version)
    key = answer.pop("key")
    assert re.fullmatch(r"[0-9a-f]{64}", key)

    def mac(registration):  # what the device computes of a scanned secret (static/js/scanner.js)
        return hmac.new(bytes.fromhex(key), registration.ticket_secret.encode(), hashlib.sha256).hexdigest()

    assert answer == {
        "stage": {
            "id": hall.stage.id,
            "number": "I",
            "title": "Tahap ke-1",
            "timezone": "Asia/Jakarta",
            "days": ["2021-06-24", "2021-06-25"],
        },
        "day": "2021-06-24",
        "registrations": [
            {
                "id": undone.id,
                "mac": mac(undone),
                "code": undone.ticket_code,
                "name": "Ani Lumbantobing",
                "position": "Kepala Bidang",
                "organization": undone.person.organization.label,
                "mode": "luring",
            },
            {
                "id": hall.marulam.id,
                "mac": mac(hall.marulam),
                "code": hall.marulam.ticket_code,
                **marulam_person(),
                "mode": "daring",
            },
            {
                "id": hall.nelson.id,
                "mac": mac(hall.nelson),
                "code": hall.nelson.ticket_code,
                **nelson_person(),
                "mode": "luring",
            },
        ],
        "check_ins": {
            str(hall.nelson.id): {"time": "08.50 WIB", "desk": "Meja 2", "check_in_id": nelson_check_in}
        },
        "generated_at": "2021-06-24T02:15:00+00:00",
    }
    assert client.get(hall.url("roster")).get_json()["version"] == version
    secrets = [r.ticket_secret for r in (undone, hall.marulam, hall.nelson)]
    assert not any(secret in response.get_data(as_text=True) for secret in secrets)  # no secret leaves
    client.post(hall.url(), json=body(hall.marulam.ticket_code))
    assert client.get(hall.url("roster")).get_json()["version"] != version


def test_the_roster_lists_only_the_check_ins_of_today(session, client, hall, clock):
    client.post(hall.url(), json=body(hall.nelson.ticket_code, at=wib(24, 8, 50)))
    clock.now = wib(25, 8, 0)

    answer = client.get(hall.url("roster")).get_json()

    assert (answer["day"], answer["check_ins"]) == ("2021-06-25", {})


# ---- GET /api/stages/<id>/search -------------------------------------------------------------------------


def test_search_finds_people_by_name_or_organisation_ignoring_case(session, client, hall):
    pending = factories.registration(session, hall.program, name="Rina Pardede")
    other_programme = factories.program(session, stages=1)
    factories.registration(session, other_programme, status=Status.APPROVED, name="Tigor Pardede")
    session.commit()
    client.post(hall.url(), json=body(hall.nelson.ticket_code, desk="Meja 2", at=wib(24, 8, 50)))

    by_name = client.get(hall.url("search"), query_string={"q": "PARDEDE"}).get_json()
    by_organisation = client.get(hall.url("search"), query_string={"q": "kominfo"}).get_json()
    by_kecamatan = client.get(hall.url("search"), query_string={"q": "tarutung"}).get_json()

    assert by_name == {
        "results": [
            {
                "registration_id": hall.nelson.id,
                **nelson_person(),
                "code": codes.format_short_code(hall.nelson.ticket_code),
                "status": "approved",
                "note": None,
                "mode": "luring",
                "checked_in": {"time": "08.50 WIB", "desk": "Meja 2"},
            },
            {
                "registration_id": pending.id,
                "name": "Rina Pardede",
                "position": "Kepala Bidang",
                "organization": pending.person.organization.label,
                "code": codes.format_short_code(pending.ticket_code),
                "status": "pending",
                "note": "Pendaftaran belum disetujui",
                "mode": "luring",
                "checked_in": None,
            },
        ]
    }
    assert [r["name"] for r in by_organisation["results"]] == ["Nelson Pardede"]
    assert [r["name"] for r in by_kecamatan["results"]] == ["Marulam Simanjuntak"]


def test_search_answers_at_most_20_and_treats_wildcards_literally(session, client, hall):
    for number in range(25):
        factories.registration(
            session, hall.program, status=Status.APPROVED, name=f"Peserta Uji {number:02d}"
        )
    session.commit()

    many = client.get(hall.url("search"), query_string={"q": "peserta uji"}).get_json()["results"]
    wildcard = client.get(hall.url("search"), query_string={"q": "%_"}).get_json()["results"]

    assert [r["name"] for r in many] == [f"Peserta Uji {n:02d}" for n in range(20)]
    assert wildcard == []


@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        ("", "query_too_short", "Ketik paling sedikit 2 huruf."),
        (" a ", "query_too_short", "Ketik paling sedikit 2 huruf."),
        ("x" * 101, "query_too_long", "Pencarian terlalu panjang."),
    ],
)
def test_a_search_too_short_or_too_long_is_refused(client, hall, query, error, message):
    response = client.get(hall.url("search"), query_string={"q": query})

    assert response.status_code == 400
    assert response.get_json() == {"error": error, "message": message}


# ---- POST /api/checkins/<id>/undo ----------------------------------------------------------------------


def test_undo_takes_a_check_in_back_then_the_person_can_check_in_again(session, client, hall, notified):
    first = client.post(hall.url(), json=body(hall.nelson.ticket_code, at=wib(24, 9, 12))).get_json()
    notified.clear()

    response = client.post(f"/api/checkins/{first['check_in_id']}/undo")

    assert (response.status_code, response.get_json()) == (
        200,
        {"ok": True, "message": "Check-in dibatalkan"},
    )
    row = session.get(CheckIn, first["check_in_id"])
    assert row.undone_at == NOW
    assert notified == [hall.stage.id]
    again = client.post(
        hall.url(), json=body(hall.nelson.ticket_code, desk="Meja 4", at=wib(24, 9, 14))
    ).get_json()
    assert (again["colour"], again["first"]) == ("green", {"time": "09.14 WIB", "desk": "Meja 4"})
    assert count(session, CheckIn) == 1


def test_undo_twice_or_too_late_is_refused_with_a_message(session, client, hall, clock):
    first = client.post(hall.url(), json=body(hall.nelson.ticket_code, at=wib(24, 9, 12))).get_json()
    late = client.post(hall.url(), json=body(hall.marulam.ticket_code, at=wib(24, 9, 13))).get_json()
    client.post(f"/api/checkins/{first['check_in_id']}/undo")

    twice = client.post(f"/api/checkins/{first['check_in_id']}/undo")
    clock.now = NOW + timedelta(minutes=5, seconds=1)
    too_late = client.post(f"/api/checkins/{late['check_in_id']}/undo")
    missing = client.post("/api/checkins/9999/undo")

    assert (twice.status_code, twice.get_json()) == (
        409,
        {"error": "already_undone", "message": "Check-in ini sudah dibatalkan."},
    )
    assert (too_late.status_code, too_late.get_json()) == (
        409,
        {
            "error": "undo_too_late",
            "message": "Terlambat untuk membatalkan: check-in hanya dapat dibatalkan dalam 5 menit.",
        },
    )
    assert (missing.status_code, missing.get_json()) == (
        404,
        {"error": "unknown_check_in", "message": "Check-in ini tidak ada."},
    )
    assert session.get(CheckIn, late["check_in_id"]).undone_at is None


def test_undo_messages_are_in_english_when_chosen(client, hall):
    first = client.post(hall.url(), json=body(hall.nelson.ticket_code)).get_json()
    client.post("/language/en")

    done = client.post(f"/api/checkins/{first['check_in_id']}/undo").get_json()
    twice = client.post(f"/api/checkins/{first['check_in_id']}/undo").get_json()

    assert (done["message"], twice["message"]) == ("Check-in undone", "This check-in was already undone.")


# ---- who may use the desk ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["narasumber", "participant", "anonymous"])
def test_only_petugas_panitia_and_admin_may_use_the_desk(session, client, hall, role):
    client.post("/logout")
    if role == "participant":
        token = links.issue(hall.nelson, "test-secret-key")
        session.commit()
        client.post(f"/p/{token}")
    elif role == "narasumber":
        log_in(client, staff_member(session, Role.NARASUMBER))

    answers = [
        client.post(hall.url(), json=body(hall.nelson.ticket_code)),
        client.post(hall.url("checkin/batch"), json={"scans": [body(hall.nelson.ticket_code)]}),
        client.get(hall.url("roster")),
        client.get(hall.url("search"), query_string={"q": "pardede"}),
        client.post("/api/checkins/1/undo"),
        client.get(f"/checkin/stages/{hall.stage.id}"),
        client.get("/checkin"),
    ]

    if role == "anonymous":
        assert {(a.status_code, a.location.split("?")[0]) for a in answers} == {(302, "/login")}
    else:
        assert [a.status_code for a in answers] == [403] * len(answers)
    assert (count(session, ScanAttempt), count(session, CheckIn)) == (0, 0)


@pytest.mark.parametrize("role", [Role.PANITIA, Role.ADMIN])
def test_panitia_and_admin_may_check_people_in(session, client, hall, role):
    user = staff_member(session, role)
    log_in(client, user)

    answer = client.post(hall.url(), json=body(hall.nelson.ticket_code)).get_json()

    assert answer["colour"] == "green"
    assert session.scalar(select(CheckIn.staff_id)) == user.id


def test_posts_need_the_csrf_token_in_the_header_and_are_refused_as_json_without_it(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "csrf-test-key",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'csrf.sqlite3'}",
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        db.create_all()
        program = factories.program(db.session, stages=1)
        registration = factories.registration(db.session, program, status=Status.APPROVED)
        client = app.test_client()
        log_in(client, staff_member(db.session, Role.PETUGAS))
        page = client.get(f"/checkin/stages/{program.stages[0].id}").get_data(as_text=True)
        token = _page_config(page)["csrf"]
        url = f"/api/stages/{program.stages[0].id}/checkin"
        scan = body(registration.ticket_code, at=wib(24, 9, 0))

        refused = client.post(url, json=scan)
        accepted = client.post(url, json=scan, headers={"X-CSRFToken": token})

        assert (refused.status_code, refused.get_json()) == (
            400,
            {"error": "csrf", "message": "Halaman sudah kedaluwarsa. Muat ulang, lalu coba lagi."},
        )
        assert (accepted.status_code, accepted.get_json()["colour"]) == (200, "green")
        assert db.session.scalar(select(func.count()).select_from(ScanAttempt)) == 1
        db.session.remove()


# ---- the pages --------------------------------------------------------------------------------------------


def _page_config(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="scanner-config">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def test_the_scanner_page_passes_urls_and_translated_texts_to_its_script(client, hall):
    response = client.get(f"/checkin/stages/{hall.stage.id}")

    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval';" in policy  # ZXing's WebAssembly, nothing else
    assert "blob:" not in policy and "worker-src" not in policy
    assert "unsafe-inline" not in policy and "'unsafe-eval'" not in policy
    html = response.get_data(as_text=True)
    assert "<h1>Check-in · Tahap I</h1>" in html
    config = _page_config(html)
    stage_id = hall.stage.id
    manifest = client.application.extensions["static_manifest"]  # hashed names (workshop/assets.py)
    assert config["stageId"] == stage_id
    assert config["stage"] == {  # check-in from 07.00 to 16.00 WIB on each day
        "timezone": "Asia/Jakarta",
        "zone": "WIB",
        "days": ["2021-06-24", "2021-06-25"],
        "lastDate": "2021-06-25",
        "windows": [
            ["2021-06-24T00:00:00+00:00", "2021-06-24T09:00:00+00:00"],
            ["2021-06-25T00:00:00+00:00", "2021-06-25T09:00:00+00:00"],
        ],
        "windowLabels": [
            ["Kamis, 24 Juni 2021, pukul 07.00 WIB", "Kamis, 24 Juni 2021, pukul 16.00 WIB"],
            ["Jumat, 25 Juni 2021, pukul 07.00 WIB", "Jumat, 25 Juni 2021, pukul 16.00 WIB"],
        ],
    }
    assert config["urls"] == {
        "checkin": f"/api/stages/{stage_id}/checkin",
        "batch": f"/api/stages/{stage_id}/checkin/batch",
        "roster": f"/api/stages/{stage_id}/roster",
        "search": f"/api/stages/{stage_id}/search",
        "undo": "/api/checkins/{id}/undo",
        "barcodeDetector": f"/static/{manifest['vendor/barcode-detector/ponyfill.js']}",
        "barcodeDetectorCore": f"/static/{manifest['vendor/barcode-detector/zxing-exported.js']}",
        "zxingWasm": f"/static/{manifest['vendor/barcode-detector/zxing_reader.wasm']}",
        "login": f"/login?next=/checkin/stages/{stage_id}",
    }
    assert config["tickets"] == {
        "qrPrefix": "BH1:",
        "secretAlphabet": "abcdefghjkmnpqrstuvwxyz23456789",
        "secretLength": 32,
        "codeLength": 8,
    }
    assert config["limits"] == {"desk": 60, "code": 200, "search": 100, "searchResults": 20, "batch": 500}
    assert config["texts"]["already"] == "Sudah check-in pukul {time} oleh {desk}"
    assert (
        config["texts"]["tooEarly"] == "Terlalu awal: check-in dibuka pukul {time}. Tidak ada yang dicatat."
    )
    assert config["texts"]["dayEnded"] == (
        "Check-in sudah ditutup: sesi hari ini selesai pukul {time}. Tidak ada yang dicatat."
    )
    assert config["texts"]["waiting"] == "{n} menunggu dikirim"
    assert all(isinstance(text, str) and text for text in config["texts"].values())


def test_the_stage_picker_lists_today_first_then_upcoming_then_past(session, client, hall):
    old = factories.program(session, stages=1, title="Bimtek Tahun Lalu")
    old.stages[0].starts_at -= timedelta(days=365)
    old.stages[0].ends_at -= timedelta(days=365)
    session.commit()

    html = client.get("/checkin").get_data(as_text=True)

    sections = {
        name: re.findall(r'href="/checkin/stages/(\d+)"', part)
        for name, part in re.findall(r'data-testid="stages-(\w+)">(.*?)</ul>', html, re.S)
    }
    assert sections == {
        "today": [str(hall.stage.id)],
        "upcoming": [str(hall.program.stages[1].id)],
        "past": [str(old.stages[0].id)],
    }
    assert html.index('data-testid="stages-today"') < html.index('data-testid="stages-upcoming"')


def test_a_petugas_lands_on_the_stage_picker_with_the_running_stage_first(session, client, hall):
    # NOW is 09.15 WIB on Tahap I's first day; two other programmes hold a stage today as well.
    morning = factories.program(session, stages=1, title="Rapat Pagi")
    morning.stages[0].starts_at, morning.stages[0].ends_at = wib(24, 7), wib(24, 8)  # over already
    afternoon = factories.program(session, stages=1, title="Sosialisasi Sore")
    afternoon.stages[0].starts_at, afternoon.stages[0].ends_at = wib(24, 14), wib(24, 16)  # not yet
    session.commit()

    home = client.get("/")
    html = client.get(home.location).get_data(as_text=True)

    assert home.location == "/checkin"
    today = re.search(r'data-testid="stages-today">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r'href="/checkin/stages/(\d+)"', today) == [
        str(hall.stage.id),
        str(morning.stages[0].id),
        str(afternoon.stages[0].id),
    ]
    assert re.findall(r'data-testid="running-(\d+)">Sedang berlangsung<', html) == [str(hall.stage.id)]
