"""Online attendance: the personal join link, live presence (HTTP and Socket.IO), and the import
and review of Zoom's participants report, down to the attendance they add up to."""

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from tests import factories
from workshop.auth.models import AuditEntry, Role
from workshop.checkin import attendance, online
from workshop.checkin.models import MeetingReport, MeetingReportRow, OnlineEvidence, OnlineKind, RowMatch
from workshop.checkin.services import stage_window
from workshop.db import db
from workshop.extensions import socketio
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user
from workshop.registration.validation import display_phone

SAMPLE = Path(__file__).parent / "data" / "zoom_participants_tahap2.csv"
# The factory programme: Tahap I on Kamis-Jumat 24-25 Juni 2021, Tahap II on 15-16 Juli 2021,
# each day from 09.00 to 16.00 WIB.


def wib(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2021, month, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=7)


def june(day, hour, minute=0, second=0):
    return wib(6, day, hour, minute, second)


def july(day, hour, minute=0, second=0):
    return wib(7, day, hour, minute, second)


AFTER = datetime(2021, 8, 1, tzinfo=UTC)  # every stage of the factory programme has ended


def log_in_participant(app, session, client, registration):
    ensure_participant_user(session, registration.person)
    token = links.issue(registration, app.config["SECRET_KEY"])
    session.commit()
    assert client.post(f"/p/{token}").status_code == 302


@pytest.fixture
def at(monkeypatch, set_now):
    """Set the clock the views and socket handlers read."""

    def _at(moment: datetime) -> None:
        set_now(moment)
        monkeypatch.setattr(online, "clock", lambda: moment)  # until checkin reads workshop.clock

    return _at


@pytest.fixture
def camat(session):
    program = factories.program(session, stages=2)
    registration = factories.registration(
        session, program, status=Status.APPROVED, mode=Mode.DARING, name="Hotman Simanjuntak"
    )
    session.commit()
    return program, registration


def online_rows(session):
    return session.execute(
        select(OnlineEvidence.kind, OnlineEvidence.started_at, OnlineEvidence.ended_at).order_by(
            OnlineEvidence.id
        )
    ).all()


# The personal join link


def test_join_link_inside_the_window_records_the_click_and_opens_the_meeting(app, session, client, camat, at):
    program, registration = camat
    log_in_participant(app, session, client, registration)
    at(june(24, 8, 45))

    response = client.get(f"/saya/{program.slug}/tahap/1/gabung")

    assert response.status_code == 302
    assert response.location == "https://zoom.us/j/81200001"
    (click,) = session.scalars(select(OnlineEvidence)).all()
    assert (click.registration_id, click.stage_id) == (registration.id, program.stages[0].id)
    assert (click.kind, click.started_at, click.ended_at) == (
        OnlineKind.JOIN_CLICK,
        june(24, 8, 45),
        june(24, 8, 45),
    )
    assert click.source == "join_link"


@pytest.mark.sqlite_only(reason="SQLite's BEGIN IMMEDIATE versus BEGIN")
def test_join_link_begins_its_transaction_as_a_writer_on_sqlite(app, session, client, camat, at):
    """A GET that writes must not start as a reader: SQLite cannot upgrade a read transaction
    once another writer has committed ("database is locked" at 09.00 when everyone clicks)."""
    program, registration = camat
    log_in_participant(app, session, client, registration)
    at(june(24, 8, 45))
    join_url, page_url = f"/saya/{program.slug}/tahap/1/gabung", f"/saya/{program.slug}"
    session.commit()
    begins = []

    def _record_begin(conn, cursor, statement, *args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(db.engine, "before_cursor_execute", _record_begin)
    try:
        client.get(join_url)
        joined, begins[:] = list(begins), []
        session.commit()
        client.get(page_url)
    finally:
        event.remove(db.engine, "before_cursor_execute", _record_begin)

    assert joined == ["BEGIN IMMEDIATE"]
    assert begins == ["BEGIN"]  # a plain page view reads without taking the write lock


def test_join_link_before_the_stage_says_when_it_starts_and_records_nothing(app, session, client, camat, at):
    program, registration = camat
    log_in_participant(app, session, client, registration)
    at(june(24, 10))

    response = client.get(f"/saya/{program.slug}/tahap/2/gabung")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Tahap II dimulai Kamis, 15 Juli 2021, pukul 09.00 WIB" in text
    assert "Tautan gabung dibuka 30 menit sebelum mulai." in text
    assert "https://zoom.us/j/81200002" in text and "812 000 2" in text and "pass2" in text
    assert online_rows(session) == []


def test_join_link_opens_30_minutes_before_the_start(app, session, client, camat, at):
    program, registration = camat
    log_in_participant(app, session, client, registration)

    at(june(24, 8, 29))
    assert client.get(f"/saya/{program.slug}/tahap/1/gabung").status_code == 200
    at(june(24, 8, 31))
    assert client.get(f"/saya/{program.slug}/tahap/1/gabung").status_code == 302

    assert online_rows(session) == [(OnlineKind.JOIN_CLICK, june(24, 8, 31), june(24, 8, 31))]


def test_join_link_between_the_days_and_after_the_stage(app, session, client, camat, at):
    program, registration = camat
    log_in_participant(app, session, client, registration)

    at(june(24, 19))
    evening = client.get(f"/saya/{program.slug}/tahap/1/gabung").get_data(as_text=True)
    at(june(25, 16, 1))
    after = client.get(f"/saya/{program.slug}/tahap/1/gabung").get_data(as_text=True)

    assert "Tahap I dilanjutkan Jumat, 25 Juni 2021, pukul 09.00 WIB" in evening
    assert "Tahap I telah selesai." in after
    assert online_rows(session) == []


def test_join_link_without_a_meeting_url_explains_and_records_nothing(app, session, client, camat, at):
    program, registration = camat
    program.stages[0].meeting_url = ""
    log_in_participant(app, session, client, registration)
    at(june(24, 9))

    response = client.get(f"/saya/{program.slug}/tahap/1/gabung")

    assert response.status_code == 200
    assert "Panitia belum mengisi tautan rapat tahap ini." in response.get_data(as_text=True)
    assert online_rows(session) == []


def test_join_link_of_another_programme_or_a_missing_stage_is_404(app, session, client, camat, at):
    program, registration = camat
    other = factories.program(session, stages=1)
    factories.registration(session, other, status=Status.APPROVED)
    log_in_participant(app, session, client, registration)
    at(june(24, 9))

    assert client.get(f"/saya/{other.slug}/tahap/1/gabung").status_code == 404
    assert client.get(f"/saya/{program.slug}/tahap/3/gabung").status_code == 404
    assert online_rows(session) == []


def test_participant_page_shows_the_join_button_and_presence_only_for_an_online_stage_in_progress(
    app, session, client, at
):
    program = factories.program(session, stages=2)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
    registration.stage_modes[1].mode = Mode.LURING
    log_in_participant(app, session, client, registration)
    at(june(24, 10))

    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)

    assert re.findall(r'href="([^"]+)" role="button" class="join-button"[^>]*>\s*([^<]+?)\s*<', page) == [
        (f"/saya/{program.slug}/tahap/1/gabung", "Gabung ke Zoom")
    ]
    assert page.count("data-presence ") == 1
    assert f'data-stage-id="{program.stages[0].id}"' in page
    assert (
        'data-windows="2021-06-24T01:30:00Z/2021-06-24T09:15:00Z 2021-06-25T01:30:00Z/2021-06-25T09:15:00Z"'
        in page
    )
    assert f'src="/static/{app.extensions["static_manifest"]["js/presence.js"]}"' in page

    at(june(26, 9))
    later = client.get(f"/saya/{program.slug}").get_data(as_text=True)
    assert "join-button" not in later and "presence.js" not in later


# Presence heartbeats


def test_heartbeats_extend_an_interval_until_a_gap_longer_than_150_seconds(session, camat):
    program, registration = camat
    stage = program.stages[0]

    for moment in [june(24, 9), june(24, 9, 1), june(24, 9, 2, 30), june(24, 9, 5)]:
        online.record_presence(session, registration, stage, moment)
    started = online.record_presence(session, registration, stage, june(24, 9, 7, 31))
    online.record_presence(session, registration, stage, june(24, 9, 8))  # phone
    online.record_presence(session, registration, stage, june(24, 9, 8, 20))  # laptop
    online.record_presence(session, registration, stage, june(24, 9, 8, 10))  # late answer: no change

    assert started.started is True
    assert online_rows(session) == [
        (OnlineKind.PRESENCE, june(24, 9), june(24, 9, 5)),
        (OnlineKind.PRESENCE, june(24, 9, 7, 31), june(24, 9, 8, 20)),
    ]
    assert online.online_now(session, stage, june(24, 9, 10, 50)) == {registration.id}
    assert online.online_now(session, stage, june(24, 9, 10, 51)) == set()


def test_presence_is_refused_outside_the_stage_days_with_their_margins(session, camat):
    program, registration = camat
    stage = program.stages[0]

    for moment in [june(24, 8, 29, 59), june(24, 16, 15, 1), june(24, 20), june(25, 16, 16)]:
        with pytest.raises(online.OnlineError) as refused:
            online.record_presence(session, registration, stage, moment)
        assert refused.value.code == "outside_window"
    online.record_presence(session, registration, stage, june(24, 8, 30))
    online.record_presence(session, registration, stage, june(25, 16, 15))

    assert online_rows(session) == [
        (OnlineKind.PRESENCE, june(24, 8, 30), june(24, 8, 30)),
        (OnlineKind.PRESENCE, june(25, 16, 15), june(25, 16, 15)),
    ]


def test_presence_of_another_programme_or_an_unapproved_registration_is_refused(session, camat):
    program, registration = camat
    other_stage = factories.program(session, stages=1).stages[0]
    pending = factories.registration(session, program, status=Status.PENDING)

    with pytest.raises(online.OnlineError) as wrong_programme:
        online.record_presence(session, registration, other_stage, june(24, 10))
    with pytest.raises(online.OnlineError) as not_approved:
        online.record_presence(session, pending, program.stages[0], june(24, 10))

    assert (wrong_programme.value.code, not_approved.value.code) == ("not_registered", "not_approved")
    assert online_rows(session) == []


def test_the_same_heartbeat_sent_twice_counts_once(session, camat):
    program, registration = camat
    stage = program.stages[0]

    online.record_presence(session, registration, stage, june(24, 10), client_nonce="a1")
    online.record_presence(session, registration, stage, june(24, 10, 1), client_nonce="b2")
    replay = online.record_presence(session, registration, stage, june(24, 10, 2), client_nonce="b2")

    assert replay.started is False
    assert online_rows(session) == [(OnlineKind.PRESENCE, june(24, 10), june(24, 10, 1))]


def test_http_presence_needs_the_csrf_token_of_the_page_and_answers_json(app, session, client, camat, at):
    program, registration = camat
    stage = program.stages[0]
    log_in_participant(app, session, client, registration)
    at(june(24, 10))
    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
    url = re.search(r'data-url="([^"]+)"', page).group(1)

    without = client.post(url, json={"nonce": "n1"}, send_csrf_token=False)
    first = client.post(url, json={"nonce": "n1"}, headers={"X-CSRFToken": token})
    at(june(24, 10, 1))
    second = client.post(url, json={"nonce": "n2"}, headers={"X-CSRFToken": token})

    assert url == f"/api/stages/{stage.id}/presence"
    assert without.status_code == 400
    assert (first.status_code, first.get_json()) == (200, {"ok": True})
    assert (second.status_code, second.get_json()) == (200, {"ok": True})
    assert online_rows(session) == [(OnlineKind.PRESENCE, june(24, 10), june(24, 10, 1))]


def test_http_presence_refusals(app, session, client, camat, at):
    program, registration = camat
    other_stage = factories.program(session, stages=1).stages[0]
    log_in_participant(app, session, client, registration)
    at(june(24, 20))

    outside = client.post(f"/api/stages/{program.stages[0].id}/presence", json={})
    foreign = client.post(f"/api/stages/{other_stage.id}/presence", json={})
    unknown = client.post("/api/stages/999/presence", json={})

    assert (outside.status_code, outside.get_json()) == (409, {"ok": False, "error": "outside_window"})
    assert (foreign.status_code, foreign.get_json()) == (403, {"ok": False, "error": "forbidden"})
    assert (unknown.status_code, unknown.get_json()) == (404, {"ok": False, "error": "unknown_stage"})
    assert online_rows(session) == []


# Presence over Socket.IO


def test_socket_presence_of_a_logged_in_participant_is_recorded_and_tells_the_staff(
    app, session, client, camat, at
):
    program, registration = camat
    stage = program.stages[0]
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    staff_client = app.test_client()
    staff_client.post("/login", data={"username": organiser.username, "password": factories.PASSWORD})
    staff_socket = socketio.test_client(app, flask_test_client=staff_client)
    assert staff_socket.emit("join_stage", {"stage_id": stage.id}, callback=True) == {
        "ok": True,
        "staff": True,
        "version": 1,  # the stage's live Q&A and polls (workshop/live/events.py)
        "results_version": None,
    }
    log_in_participant(app, session, client, registration)
    participant = socketio.test_client(app, flask_test_client=client)
    assert participant.is_connected()

    at(june(24, 10))
    first = participant.emit("presence", {"stage_id": stage.id, "nonce": "s1"}, callback=True)
    at(june(24, 10, 1))
    second = participant.emit("presence", {"stage_id": stage.id, "nonce": "s2"}, callback=True)

    assert first == second == {"ok": True}
    assert online_rows(session) == [(OnlineKind.PRESENCE, june(24, 10), june(24, 10, 1))]
    # Only the heartbeat that brought the participant online changes the staff's counts.
    assert [(m["name"], m["args"]) for m in staff_socket.get_received()] == [
        ("attendance_changed", [{"stage_id": stage.id}])
    ]


def test_socket_presence_refuses_anonymous_staff_other_programmes_and_outside_the_window(
    app, session, client, camat, at
):
    program, registration = camat
    other_stage = factories.program(session, stages=1).stages[0]
    anonymous = socketio.test_client(app, flask_test_client=app.test_client())
    staff_client = app.test_client()
    petugas = factories.staff(session, Role.PETUGAS)
    session.commit()
    staff_client.post("/login", data={"username": petugas.username, "password": factories.PASSWORD})
    staff_socket = socketio.test_client(app, flask_test_client=staff_client)
    log_in_participant(app, session, client, registration)
    participant = socketio.test_client(app, flask_test_client=client)
    at(june(24, 10))

    assert not anonymous.is_connected()
    assert staff_socket.emit("presence", {"stage_id": program.stages[0].id}, callback=True) == {
        "ok": False,
        "error": "forbidden",
    }
    assert participant.emit("presence", {"stage_id": other_stage.id}, callback=True) == {
        "ok": False,
        "error": "forbidden",
    }
    assert participant.emit("presence", {"stage_id": "1"}, callback=True) == {
        "ok": False,
        "error": "unknown_stage",
    }
    at(june(24, 20))
    assert participant.emit("presence", {"stage_id": program.stages[0].id}, callback=True) == {
        "ok": False,
        "error": "outside_window",
    }
    assert online_rows(session) == []


# The Zoom participants report


@pytest.fixture
def zoom(session):
    """Tahap II with the people of tests/data/zoom_participants_tahap2.csv."""
    program = factories.program(session, stages=2)

    def person(name, **details):
        registration = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.DARING, name=name
        )
        for field, value in details.items():
            setattr(registration.person, field, value)
        return registration

    people = {
        "hotman": person("Hotman Simanjuntak", email="hotman.simanjuntak@contoh.go.id"),
        "rosmaida": person("Rosmaida Hutabarat", phone="+6281270001234"),
        "marulam": person("Marulam Sihombing"),
        "junjungan": person("Junjungan Situmorang"),
        "lamhot": person("Lamhot Panggabean"),
        "maria_1": person("Maria Simatupang"),
        "maria_2": person("Maria Simatupang"),
    }
    cancelled = factories.registration(session, program, status=Status.CANCELLED, name="Panitia Kominfo")
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    return program, program.stages[1], people, cancelled, organiser


def upload(client, stage, data: bytes, filename="participants_81200002.csv"):
    return client.post(
        f"/admin/stages/{stage.id}/meeting-reports",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def report_rows(session):
    return session.execute(
        select(
            MeetingReportRow.row_number,
            MeetingReportRow.name,
            MeetingReportRow.registration_id,
            MeetingReportRow.match,
            MeetingReportRow.matched_by,
        ).order_by(MeetingReportRow.row_number)
    ).all()


def test_the_sample_report_is_read_after_its_meeting_header_in_the_programme_time_zone():
    report = online.parse_report(SAMPLE.read_bytes(), "Asia/Jakarta")
    rows = report.rows

    assert report.host_email == "kominfo@contoh.go.id"  # the summary's User Email
    assert len(rows) == 11
    assert rows[1] == online.ReportRow(
        row_number=6,
        name="Camat Siatas Barita",
        email="hotman.simanjuntak@contoh.go.id",
        joined_at=july(15, 8, 52, 10),
        left_at=july(15, 10, 31, 40),
    )
    assert rows[5].name == "Drs. Junjungan Situmorang, M.Si"


def test_newer_zoom_columns_and_waiting_room_rows():
    data = (
        b"Name (original name),Email,Join time,Leave time,Duration (minutes),Guest,In waiting room\n"
        b"Rosmaida,,07/15/2021 08:50:00 AM,07/15/2021 08:58:00 AM,8,Yes,Yes\n"
        b"Rosmaida,,07/15/2021 08:58:00 AM,07/15/2021 04:00:00 PM,422,Yes,No\n"
    )

    report = online.parse_report(data, "Asia/Makassar")
    (row,) = report.rows

    assert report.host_email == ""  # no meeting summary: no host known
    assert (row.row_number, row.joined_at, row.left_at) == (3, july(15, 7, 58), july(15, 15))


def test_zoom_import_matches_by_email_phone_and_name_and_lists_the_rest_for_review(
    app, session, client, login, zoom
):
    _program, stage, people, _, organiser = zoom
    login(organiser)

    response = upload(client, stage, SAMPLE.read_bytes())

    report = session.scalars(select(MeetingReport)).one()
    assert response.status_code == 303
    assert response.location == f"/admin/meeting-reports/{report.id}"
    ids = {key: registration.id for key, registration in people.items()}
    assert report_rows(session) == [
        (5, "Panitia Kominfo", None, RowMatch.HOST, ""),  # the host's account: not to review
        (6, "Camat Siatas Barita", ids["hotman"], RowMatch.AUTO, "email"),
        (7, "0812 7000 1234 Rosmaida", ids["rosmaida"], RowMatch.AUTO, "phone"),
        (8, "Kades Hutatoruan V (Marulam Sihombing)", ids["marulam"], RowMatch.AUTO, "name"),
        (9, "iPhone Kantor Desa", None, RowMatch.UNMATCHED, ""),
        (10, "Drs. Junjungan Situmorang, M.Si", ids["junjungan"], RowMatch.AUTO, "name"),
        (11, "Camat Siatas Barita", ids["hotman"], RowMatch.AUTO, "email"),
        (12, "Ibu Maria Simatupang", None, RowMatch.UNMATCHED, ""),  # two participants of that name
        (13, "iPhone Kantor Desa", None, RowMatch.UNMATCHED, ""),
        (14, "Camat Siatas Barita", ids["hotman"], RowMatch.AUTO, "email"),
        (15, "Camat Siatas Barita", ids["hotman"], RowMatch.AUTO, "email"),
    ]
    page = client.get(response.location).get_data(as_text=True)
    assert re.search(
        r"Cocok: 7</strong> ·\s+Perlu ditinjau: 3 ·\s+Diabaikan: 0\s+· Tuan rumah rapat \(tidak dihitung\): 1",
        page,
    )
    review = client.get(f"/admin/stages/{stage.id}/meeting-reports/review").get_data(as_text=True)
    assert review.count('data-testid="review-group"') == 2
    assert "Panitia Kominfo" not in review
    text = " ".join(review.split())
    assert "2 kali bergabung: 15/7 09.05 WIB–11.00 WIB, 15/7 11.10 WIB–15.30 WIB · 375 menit" in text
    assert "Lamhot Panggabean — Kepala Bidang" in review


def test_organiser_matches_one_name_ignores_another_and_a_reimport_counts_nothing_twice(
    app, session, client, login, zoom
):
    _program, stage, people, _, organiser = zoom
    login(organiser)
    upload(client, stage, SAMPLE.read_bytes())
    iphone_row = session.scalar(select(MeetingReportRow).where(MeetingReportRow.row_number == 9))
    maria_row = session.scalar(select(MeetingReportRow).where(MeetingReportRow.row_number == 12))
    lamhot = people["lamhot"]
    person = lamhot.person
    choice = f"Lamhot Panggabean — Kepala Bidang, {person.organization.label} ({display_phone(person.phone)})"

    bad = client.post(f"/admin/meeting-report-rows/{iphone_row.id}/match", data={"registration": "Lamhot"})
    matched = client.post(f"/admin/meeting-report-rows/{iphone_row.id}/match", data={"registration": choice})
    ignored = client.post(f"/admin/meeting-report-rows/{maria_row.id}/ignore")
    again = client.post(f"/admin/meeting-report-rows/{maria_row.id}/ignore")

    assert bad.status_code == matched.status_code == ignored.status_code == again.status_code == 303
    review = client.get(f"/admin/stages/{stage.id}/meeting-reports/review").get_data(as_text=True)
    assert "Pilih peserta dari daftar." in review
    assert "2 baris “iPhone Kantor Desa” kini dihitung untuk Lamhot Panggabean." in review
    assert "1 baris “Ibu Maria Simatupang” diabaikan." in review
    assert "Baris ini sudah ditinjau." in review
    assert review.count('data-testid="review-group"') == 0
    rows = {row: (registration, match) for row, _, registration, match, _ in report_rows(session)}
    assert rows[9] == rows[13] == (lamhot.id, RowMatch.MANUAL)
    assert rows[12] == (None, RowMatch.IGNORED)
    assert rows[5] == (None, RowMatch.HOST)
    audit = session.execute(
        select(AuditEntry.action, AuditEntry.subject, AuditEntry.actor_id)
        .where(AuditEntry.action.in_(["meeting_report.match", "meeting_report.ignore"]))
        .order_by(AuditEntry.id)
    ).all()
    assert audit == [
        ("meeting_report.match", f"registration:{lamhot.id}", organiser.id),
        ("meeting_report.ignore", f"stage:{stage.id}", organiser.id),
    ]

    # The same file again adds nothing; a later export with one more row adds that row only.
    same = upload(client, stage, SAMPLE.read_bytes())
    later_export = SAMPLE.read_bytes() + (
        b"0812 7000 1234 Rosmaida,,07/16/2021 09:00:00 AM,07/16/2021 04:00:00 PM,420,Yes,Y,\r\n"
    )
    later = upload(client, stage, later_export, filename="participants_later.csv")

    assert same.status_code == 303 and same.location == f"/admin/stages/{stage.id}/meeting-reports"
    assert "11 baris sudah diimpor dari berkas sebelumnya dan dilewati." in client.get(
        same.location
    ).get_data(as_text=True)
    assert later.status_code == 303
    assert session.scalar(select(func.count()).select_from(MeetingReport)) == 2
    assert session.scalar(select(func.count()).select_from(MeetingReportRow)) == 12
    assert report_rows(session)[-1] == (
        16,
        "0812 7000 1234 Rosmaida",
        people["rosmaida"].id,
        RowMatch.AUTO,
        "phone",
    )
    assert rows == {
        row: (registration, match) for row, _, registration, match, _ in report_rows(session)[:11]
    }


def test_intervals_of_a_rejoining_participant_add_up_to_the_attendance(session, zoom):
    program, stage, people, cancelled, organiser = zoom
    hotman, lamhot = people["hotman"], people["lamhot"]
    online.import_report(session, stage, filename="a.csv", data=SAMPLE.read_bytes(), actor=organiser)
    online.import_report(session, stage, filename="again.csv", data=SAMPLE.read_bytes(), actor=organiser)
    iphone_row = session.scalar(select(MeetingReportRow).where(MeetingReportRow.row_number == 9))
    online.match_row(session, iphone_row, lamhot, actor=organiser)
    online.record_join_click(session, hotman, stage, july(15, 8, 50))
    for minute in range(46):  # the participant page open from 10.00 to 10.45, over the rejoin gap
        online.record_presence(session, hotman, stage, july(15, 10, minute))

    intervals = online.online_intervals(session, [hotman.id, lamhot.id, cancelled.id], stage)

    assert intervals == {
        hotman.id: [
            (july(15, 8, 50), july(15, 8, 50)),
            (july(15, 8, 52, 10), july(15, 16, 2, 30)),
            (july(16, 8, 57), july(16, 12)),
            (july(16, 12, 55), july(16, 16, 10)),
        ],
        lamhot.id: [(july(15, 9, 5), july(15, 11)), (july(15, 11, 10), july(15, 15, 30))],
        cancelled.id: [],
    }
    rules = attendance.Rules(program.attendance_threshold_percent, program.late_after_minutes)
    result = attendance.compute(
        stage_window(stage), rules, attendance.Evidence(online=tuple(intervals[hotman.id])), AFTER
    )
    # Day 1: 09.00-16.00 (420 min, the 10.31-10.35 gap covered by presence); day 2: 180 + 185 min.
    assert result == attendance.Attendance(
        status=attendance.AttendanceStatus.HADIR,
        mode=Mode.DARING,
        minutes_present=785,
        first_seen=july(15, 8, 50),
    )
    lamhot_result = attendance.compute(
        stage_window(stage), rules, attendance.Evidence(online=tuple(intervals[lamhot.id])), AFTER
    )
    assert (lamhot_result.status, lamhot_result.minutes_present) == (
        attendance.AttendanceStatus.TIDAK_HADIR,
        375,
    )


def test_a_report_of_another_meeting_or_with_unreadable_rows_imports_nothing(
    app, session, client, login, zoom
):
    program, stage, _, _, organiser = zoom
    login(organiser)

    wrong_stage = upload(client, program.stages[0], SAMPLE.read_bytes())
    broken = upload(
        client,
        stage,
        SAMPLE.read_bytes().replace(b"07/15/2021 09:20:00 AM", b"kemarin pagi"),
    )
    not_zoom = upload(client, stage, b"nama,no_hp\nBudi,0812\n")

    assert wrong_stage.status_code == broken.status_code == not_zoom.status_code == 400
    assert "Tidak ada baris laporan ini yang berada dalam hari-hari tahap ini" in wrong_stage.get_data(
        as_text=True
    )
    assert "Baris 10: waktu bergabung “kemarin pagi” bukan tanggal dan jam." in broken.get_data(as_text=True)
    assert "Tabel peserta tidak ditemukan" in not_zoom.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(MeetingReportRow)) == 0


def test_names_are_compared_without_titles_punctuation_or_case():
    assert online.normalise_person_name("Drs. H. Junjungan SITUMORANG, M.Si") == "junjungan situmorang"
    assert online.normalise_person_name("Bapak/Ibu Lamhot Panggabean, S.Kom") == "lamhot panggabean"
    assert online.normalise_person_name("0812-7000-1234 Rosmaida") == "rosmaida"
    assert online.phone_in("0812-7000-1234 Rosmaida") == "+6281270001234"
    assert online.phone_in("+62 812 7000 1234") == "+6281270001234"
    assert online.phone_in("Desa 2021") is None


def test_a_row_is_matched_only_to_an_approved_participant_of_the_programme(session, zoom):
    _program, stage, _, cancelled, organiser = zoom
    online.import_report(session, stage, filename="a.csv", data=SAMPLE.read_bytes(), actor=organiser)
    maria_row = session.scalar(select(MeetingReportRow).where(MeetingReportRow.row_number == 12))
    stranger = factories.registration(session, factories.program(session, stages=1), status=Status.APPROVED)

    for registration in (cancelled, stranger):
        with pytest.raises(online.ReviewError) as refused:
            online.match_row(session, maria_row, registration, actor=organiser)
        assert refused.value.code == "not_in_programme"
    assert (maria_row.match, maria_row.registration_id) == (RowMatch.UNMATCHED, None)


def test_a_report_over_the_upload_limit_is_answered_on_the_upload_page_with_the_limit(
    app, session, client, login, zoom
):
    _program, stage, _, _, organiser = zoom
    login(organiser)
    page = client.get(f"/admin/stages/{stage.id}/meeting-reports").get_data(as_text=True)
    assert 'data-testid="upload-limit">CSV, paling besar 5 MB.<' in page

    app.config["MAX_UPLOAD_BYTES"] = 1000
    response = upload(client, stage, SAMPLE.read_bytes())

    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert 'data-testid="upload-error">Berkas terlalu besar: paling besar 1 KB.</p>' in page
    assert 'data-testid="upload-limit">CSV, paling besar 1 KB.<' in page
    assert session.scalar(select(func.count()).select_from(MeetingReportRow)) == 0
