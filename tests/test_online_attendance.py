"""Online attendance: the personal join link and live presence (HTTP and Socket.IO). The meeting
reports are in test_meeting_reports.py."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from tests import factories
from workshop.attendance import queries, services
from workshop.attendance.models import OnlineEvidence, OnlineKind
from workshop.auth.models import Role
from workshop.db import db
from workshop.extensions import socketio
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

# The factory programme: Tahap I on Kamis-Jumat 24-25 Juni 2021, Tahap II on 15-16 Juli 2021,
# each day from 09.00 to 16.00 WIB.


def wib(month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2021, month, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=7)


def june(day, hour, minute=0, second=0):
    return wib(6, day, hour, minute, second)


def log_in_participant(app, session, client, registration):
    ensure_participant_user(session, registration.person)
    token = links.issue(registration, app.config["SECRET_KEY"])
    session.commit()
    assert client.post(f"/p/{token}").status_code == 302


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


def test_join_link_inside_the_window_records_the_click_and_opens_the_meeting(
    app, session, client, camat, set_now
):
    program, registration = camat
    log_in_participant(app, session, client, registration)
    set_now(june(24, 8, 45))

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
def test_join_link_begins_its_transaction_as_a_writer_on_sqlite(app, session, client, camat, set_now):
    """A GET that writes must not start as a reader: SQLite cannot upgrade a read transaction
    once another writer has committed ("database is locked" at 09.00 when everyone clicks)."""
    program, registration = camat
    log_in_participant(app, session, client, registration)
    set_now(june(24, 8, 45))
    join_url, page_url = f"/saya/{program.slug}/tahap/1/gabung", f"/saya/{program.slug}"
    session.commit()
    begins = []
    session.remove()  # the next request checks its connection out of the pool

    def _record_begin(statement):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    def _trace(dbapi_connection, _record, _proxy):  # workshop/db.py sends BEGIN to SQLite itself
        dbapi_connection.set_trace_callback(_record_begin)

    event.listen(db.engine, "checkout", _trace)
    try:
        client.get(join_url)
        joined, begins[:] = list(begins), []
        session.commit()
        client.get(page_url)
    finally:
        event.remove(db.engine, "checkout", _trace)
        db.session.remove()

    assert joined == ["BEGIN IMMEDIATE"]
    assert begins == ["BEGIN"]  # a plain page view reads without taking the write lock


def test_join_link_before_the_stage_says_when_it_starts_and_records_nothing(
    app, session, client, camat, set_now
):
    program, registration = camat
    log_in_participant(app, session, client, registration)
    set_now(june(24, 10))

    response = client.get(f"/saya/{program.slug}/tahap/2/gabung")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Tahap II dimulai Kamis, 15 Juli 2021, pukul 09.00 WIB" in text
    assert "Tautan gabung dibuka 30 menit sebelum mulai." in text
    assert "https://zoom.us/j/81200002" in text and "812 000 2" in text and "pass2" in text
    assert online_rows(session) == []


def test_join_link_opens_30_minutes_before_the_start(app, session, client, camat, set_now):
    program, registration = camat
    log_in_participant(app, session, client, registration)

    set_now(june(24, 8, 29))
    assert client.get(f"/saya/{program.slug}/tahap/1/gabung").status_code == 200
    set_now(june(24, 8, 31))
    assert client.get(f"/saya/{program.slug}/tahap/1/gabung").status_code == 302

    assert online_rows(session) == [(OnlineKind.JOIN_CLICK, june(24, 8, 31), june(24, 8, 31))]


def test_join_link_between_the_days_and_after_the_stage(app, session, client, camat, set_now):
    program, registration = camat
    log_in_participant(app, session, client, registration)

    set_now(june(24, 19))
    evening = client.get(f"/saya/{program.slug}/tahap/1/gabung").get_data(as_text=True)
    set_now(june(25, 16, 1))
    after = client.get(f"/saya/{program.slug}/tahap/1/gabung").get_data(as_text=True)

    assert "Tahap I dilanjutkan Jumat, 25 Juni 2021, pukul 09.00 WIB" in evening
    assert "Tahap I telah selesai." in after
    assert online_rows(session) == []


def test_join_link_without_a_meeting_url_explains_and_records_nothing(app, session, client, camat, set_now):
    program, registration = camat
    program.stages[0].meeting_url = ""
    log_in_participant(app, session, client, registration)
    set_now(june(24, 9))

    response = client.get(f"/saya/{program.slug}/tahap/1/gabung")

    assert response.status_code == 200
    assert "Panitia belum mengisi tautan rapat tahap ini." in response.get_data(as_text=True)
    assert online_rows(session) == []


def test_join_link_of_another_programme_or_a_missing_stage_is_404(app, session, client, camat, set_now):
    program, registration = camat
    other = factories.program(session, stages=1)
    factories.registration(session, other, status=Status.APPROVED)
    log_in_participant(app, session, client, registration)
    set_now(june(24, 9))

    assert client.get(f"/saya/{other.slug}/tahap/1/gabung").status_code == 404
    assert client.get(f"/saya/{program.slug}/tahap/3/gabung").status_code == 404
    assert online_rows(session) == []


def test_participant_page_shows_the_join_button_and_presence_only_for_an_online_stage_in_progress(
    app, session, client, set_now
):
    program = factories.program(session, stages=2)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
    registration.stage_modes[1].mode = Mode.LURING
    log_in_participant(app, session, client, registration)
    set_now(june(24, 10))

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

    set_now(june(26, 9))
    later = client.get(f"/saya/{program.slug}").get_data(as_text=True)
    assert "join-button" not in later and "presence.js" not in later


# Presence heartbeats


def test_heartbeats_extend_an_interval_until_a_gap_longer_than_150_seconds(session, camat):
    program, registration = camat
    stage = program.stages[0]

    for moment in [june(24, 9), june(24, 9, 1), june(24, 9, 2, 30), june(24, 9, 5)]:
        services.record_presence(session, registration, stage, moment)
    started = services.record_presence(session, registration, stage, june(24, 9, 7, 31))
    services.record_presence(session, registration, stage, june(24, 9, 8))  # phone
    services.record_presence(session, registration, stage, june(24, 9, 8, 20))  # laptop
    services.record_presence(session, registration, stage, june(24, 9, 8, 10))  # late answer: no change

    assert started.started is True
    assert online_rows(session) == [
        (OnlineKind.PRESENCE, june(24, 9), june(24, 9, 5)),
        (OnlineKind.PRESENCE, june(24, 9, 7, 31), june(24, 9, 8, 20)),
    ]
    assert queries.online_now(session, stage, june(24, 9, 10, 50)) == {registration.id}
    assert queries.online_now(session, stage, june(24, 9, 10, 51)) == set()


def test_presence_is_refused_outside_the_stage_days_with_their_margins(session, camat):
    program, registration = camat
    stage = program.stages[0]

    for moment in [june(24, 8, 29, 59), june(24, 16, 15, 1), june(24, 20), june(25, 16, 16)]:
        with pytest.raises(services.OnlineError) as refused:
            services.record_presence(session, registration, stage, moment)
        assert refused.value.code == "outside_window"
    services.record_presence(session, registration, stage, june(24, 8, 30))
    services.record_presence(session, registration, stage, june(25, 16, 15))

    assert online_rows(session) == [
        (OnlineKind.PRESENCE, june(24, 8, 30), june(24, 8, 30)),
        (OnlineKind.PRESENCE, june(25, 16, 15), june(25, 16, 15)),
    ]


def test_presence_of_another_programme_or_an_unapproved_registration_is_refused(session, camat):
    program, registration = camat
    other_stage = factories.program(session, stages=1).stages[0]
    pending = factories.registration(session, program, status=Status.PENDING)

    with pytest.raises(services.OnlineError) as wrong_programme:
        services.record_presence(session, registration, other_stage, june(24, 10))
    with pytest.raises(services.OnlineError) as not_approved:
        services.record_presence(session, pending, program.stages[0], june(24, 10))

    assert (wrong_programme.value.code, not_approved.value.code) == ("not_registered", "not_approved")
    assert online_rows(session) == []


def test_the_same_heartbeat_sent_twice_counts_once(session, camat):
    program, registration = camat
    stage = program.stages[0]

    services.record_presence(session, registration, stage, june(24, 10), client_nonce="a1")
    services.record_presence(session, registration, stage, june(24, 10, 1), client_nonce="b2")
    replay = services.record_presence(session, registration, stage, june(24, 10, 2), client_nonce="b2")

    assert replay.started is False
    assert online_rows(session) == [(OnlineKind.PRESENCE, june(24, 10), june(24, 10, 1))]


def test_http_presence_needs_the_csrf_token_of_the_page_and_answers_json(
    app, session, client, camat, set_now
):
    program, registration = camat
    stage = program.stages[0]
    log_in_participant(app, session, client, registration)
    set_now(june(24, 10))
    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
    url = re.search(r'data-url="([^"]+)"', page).group(1)

    without = client.post(url, json={"nonce": "n1"}, send_csrf_token=False)
    first = client.post(url, json={"nonce": "n1"}, headers={"X-CSRFToken": token})
    set_now(june(24, 10, 1))
    second = client.post(url, json={"nonce": "n2"}, headers={"X-CSRFToken": token})

    assert url == f"/api/stages/{stage.id}/presence"
    assert without.status_code == 400
    assert (first.status_code, first.get_json()) == (200, {"ok": True})
    assert (second.status_code, second.get_json()) == (200, {"ok": True})
    assert online_rows(session) == [(OnlineKind.PRESENCE, june(24, 10), june(24, 10, 1))]


def test_http_presence_refusals(app, session, client, camat, set_now):
    program, registration = camat
    other_stage = factories.program(session, stages=1).stages[0]
    log_in_participant(app, session, client, registration)
    set_now(june(24, 20))

    outside = client.post(f"/api/stages/{program.stages[0].id}/presence", json={})
    foreign = client.post(f"/api/stages/{other_stage.id}/presence", json={})
    unknown = client.post("/api/stages/999/presence", json={})

    assert (outside.status_code, outside.get_json()) == (409, {"ok": False, "error": "outside_window"})
    assert (foreign.status_code, foreign.get_json()) == (403, {"ok": False, "error": "forbidden"})
    assert (unknown.status_code, unknown.get_json()) == (404, {"ok": False, "error": "unknown_stage"})
    assert online_rows(session) == []


# Presence over Socket.IO


def test_socket_presence_of_a_logged_in_participant_is_recorded_and_tells_the_staff(
    app, session, client, camat, set_now
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

    set_now(june(24, 10))
    first = participant.emit("presence", {"stage_id": stage.id, "nonce": "s1"}, callback=True)
    set_now(june(24, 10, 1))
    second = participant.emit("presence", {"stage_id": stage.id, "nonce": "s2"}, callback=True)

    assert first == second == {"ok": True}
    assert online_rows(session) == [(OnlineKind.PRESENCE, june(24, 10), june(24, 10, 1))]
    # Only the heartbeat that brought the participant online changes the staff's counts.
    assert [(m["name"], m["args"]) for m in staff_socket.get_received()] == [
        ("attendance_changed", [{"stage_id": stage.id}])
    ]


def test_socket_presence_refuses_anonymous_staff_other_programmes_and_outside_the_window(
    app, session, client, camat, set_now
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
    set_now(june(24, 10))

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
    set_now(june(24, 20))
    assert participant.emit("presence", {"stage_id": program.stages[0].id}, callback=True) == {
        "ok": False,
        "error": "outside_window",
    }
    assert online_rows(session) == []
