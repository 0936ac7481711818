"""Where each stage stands (ended, running, upcoming), as pages show it (issue 11): the running stage
is marked "Sedang berlangsung" everywhere and leads the participant's page; agenda items of a stage
held over several days say which day."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale

from tests import factories
from workshop.attendance.present import present_now
from workshop.auth.models import Role
from workshop.checkin.models import ScanResult
from workshop.checkin.services import check_in
from workshop.programs.models import AgendaItem
from workshop.programs.schedule import Phase, agenda_day, resumes_at, stage_for_now, stage_phase
from workshop.registration import links, services
from workshop.registration.models import Mode, Status

SECRET = "test-secret-key"
START = factories.TAHAP_I_START  # Kamis, 24 Juni 2021, 09.00 WIB; the stage ends Jumat 25 Juni, 16.00 WIB


def test_a_stage_runs_from_its_start_to_its_end_nights_between_its_days_included(session):
    stage = factories.program(session, stages=1).stages[0]

    assert stage_phase(stage, START - timedelta(seconds=1)) == Phase.UPCOMING
    assert stage_phase(stage, START) == Phase.RUNNING
    assert stage_phase(stage, START + timedelta(hours=15)) == Phase.RUNNING  # the night after day 1
    assert stage_phase(stage, stage.ends_at) == Phase.RUNNING
    assert stage_phase(stage, stage.ends_at + timedelta(seconds=1)) == Phase.ENDED


def test_between_its_days_a_running_stage_resumes_at_the_next_days_start(session):
    stage = factories.program(session, stages=1).stages[0]
    day_2 = START + timedelta(days=1)  # Jumat, 25 Juni 2021, 09.00 WIB

    assert resumes_at(stage, START + timedelta(hours=6, minutes=59)) is None  # 15.59 WIB: day 1
    assert resumes_at(stage, START + timedelta(hours=7)) == day_2  # 16.00 WIB: day 1 is over
    assert resumes_at(stage, START + timedelta(hours=22)) == day_2  # 07.00 WIB the next morning
    assert resumes_at(stage, day_2) is None
    assert resumes_at(stage, START - timedelta(hours=1)) is None  # not running yet
    assert resumes_at(stage, stage.ends_at + timedelta(hours=1)) is None


@pytest.mark.parametrize("hours", [9, 22])  # 18.00 WIB on day 1, 07.00 WIB on day 2
def test_between_its_days_the_pages_say_when_the_stage_resumes_not_that_it_is_in_progress(
    session, client, login, set_now, hours
):
    program = factories.program(session, stages=2)
    set_now(START + timedelta(hours=hours))
    resumes = 'data-testid="phase-resumes">Berlanjut Jumat, 25 Juni 2021, pukul 09.00 WIB<'

    page = _participant_page(session, client, program, Mode.DARING)
    assert _order(page) == ["stage-1", "stage-2", "ticket"]  # still the stage of the moment
    assert page.count(resumes) == 1 and "phase-running" not in page
    client.post("/logout")
    login(factories.staff(session, Role.PANITIA))
    for path in ("/admin/", f"/admin/programs/{program.id}"):
        staff_page = client.get(path).get_data(as_text=True)
        assert staff_page.count(resumes) == 1 and "phase-running" not in staff_page, path

    set_now(START + timedelta(days=1, hours=1))  # 10.00 WIB on day 2: in progress again
    assert (
        client.get(f"/admin/programs/{program.id}")
        .get_data(as_text=True)
        .count('data-testid="phase-running">Sedang berlangsung<')
        == 1
    )


MIDNIGHT_WIB = datetime(2026, 12, 7, 17, tzinfo=UTC)  # Selasa, 8 Desember 2026, 00.00 WIB
AROUND_MIDNIGHT = [-3600, -60, -1, -0.001, 0, 0.001, 1, 60, 3600]  # seconds from midnight WIB


@pytest.mark.parametrize("offset", AROUND_MIDNIGHT)
def test_the_browser_tests_running_stage_runs_at_any_hour_with_a_hall_check_in_present_after(
    session, set_now, offset
):
    """The browser tests seed a stage running on the wall clock (factories.running_now) and read
    it for a while after: also when seeded just before or after midnight WIB it runs as one span,
    nothing says it resumes later, and a hall check-in made then counts as present then and half
    an hour later."""
    now = MIDNIGHT_WIB + timedelta(seconds=offset)
    set_now(now)
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    stage.starts_at, stage.ends_at = factories.running_now(now)
    hall = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
    scan = check_in(
        session,
        stage=stage,
        code=hall.ticket_code,
        desk="Meja 1",
        actor=None,
        client_nonce=None,
        secret_key=SECRET,
    )

    assert scan.result == ScanResult.OK
    for moment in (now, now + timedelta(minutes=30)):
        assert stage_phase(stage, moment) == Phase.RUNNING
        assert resumes_at(stage, moment) is None
        assert present_now(session, stage, moment).hall == {hall.id}


def test_the_stage_for_now_is_the_running_one_else_the_next(session):
    first, second, third = factories.program(session, stages=3).stages

    assert stage_for_now([first, second, third], START - timedelta(days=1)) == first
    assert stage_for_now([first, second, third], START + timedelta(hours=1)) == first
    assert stage_for_now([first, second, third], first.ends_at + timedelta(hours=1)) == second
    assert stage_for_now([first, second, third], third.ends_at + timedelta(hours=1)) is None


def test_agenda_items_of_a_stage_of_several_days_name_their_day(app, session):
    two_days = factories.program(session, stages=1).stages[0]
    one_day = factories.program(session, stages=1).stages[0]
    one_day.ends_at = START + timedelta(hours=7)
    day_two = START + timedelta(days=1, hours=1)

    with app.test_request_context():
        assert agenda_day(two_days, START, "Asia/Jakarta", "id") == "Hari ke-1 · Kamis, 24 Juni 2021"
        assert agenda_day(two_days, day_two, "Asia/Jakarta", "id") == "Hari ke-2 · Jumat, 25 Juni 2021"
        with force_locale("en"):
            assert agenda_day(two_days, day_two, "Asia/Jakarta", "en") == "Day 2 · Friday, 25 June 2021"
        assert agenda_day(one_day, START, "Asia/Jakarta", "id") == ""


def _program_around_now(session):
    """An ended, a running and an upcoming stage."""
    now = datetime.now(UTC)
    program = factories.program(session, stages=3)
    ended, running, upcoming = program.stages
    ended.starts_at, ended.ends_at = now - timedelta(weeks=3, days=1), now - timedelta(weeks=3)
    running.starts_at, running.ends_at = now - timedelta(hours=1), now + timedelta(hours=6)
    upcoming.starts_at, upcoming.ends_at = now + timedelta(weeks=3), now + timedelta(weeks=3, days=1)
    session.flush()
    return program


def _participant_page(session, client, program, mode: Mode) -> str:
    registration = factories.registration(session, program, mode=mode, name="Tiurma Lumbantobing")
    services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=SECRET)
    session.commit()
    assert client.post(f"/p/{links.token_for(registration, SECRET)}").status_code == 302
    return client.get(f"/saya/{program.slug}").get_data(as_text=True)


def _order(page: str) -> list[str]:
    """The stage cards and the ticket, in page order."""
    return re.findall(r'data-testid="(stage-\d|ticket)"', page)


def test_an_online_participant_sees_the_running_stage_first_with_the_big_join_button(session, client):
    program = _program_around_now(session)

    page = _participant_page(session, client, program, Mode.DARING)

    assert _order(page) == ["stage-2", "stage-1", "stage-3", "ticket"]
    running = page[page.index('data-testid="stage-2"') : page.index('data-testid="stage-1"')]
    assert running.count('data-testid="phase-running">Sedang berlangsung<') == 1
    assert 'class="join-button" data-testid="join-2"' in running
    assert 'role="button" class="live-link outline" data-testid="live-2"' in running
    assert page.count('data-testid="phase-running"') == 1
    assert page.count('data-testid="phase-ended">Selesai<') == 1
    assert page.count('class="join-button"') == 1  # later stages get an ordinary button
    assert 'role="button" class="live-link' not in page.replace(running, "")
    assert page.index(">Tahap lainnya<") > page.index('data-testid="stage-2"')


def test_a_participant_in_the_hall_gets_the_ticket_right_after_the_running_stage(session, client):
    program = _program_around_now(session)

    page = _participant_page(session, client, program, Mode.LURING)

    assert _order(page) == ["stage-2", "ticket", "stage-1", "stage-3"]


def test_before_a_programme_starts_the_next_stage_leads_and_is_not_marked_running(session, client):
    program = factories.program(session, stages=2)
    now = datetime.now(UTC)
    for weeks, stage in enumerate(program.stages, start=1):
        stage.starts_at, stage.ends_at = now + timedelta(weeks=weeks), now + timedelta(weeks=weeks, days=1)

    page = _participant_page(session, client, program, Mode.DARING)

    assert _order(page) == ["stage-1", "stage-2", "ticket"]
    assert 'data-testid="phase-upcoming">Berikutnya<' in page
    assert "phase-running" not in page


def test_after_the_last_stage_the_stages_keep_their_order(session, client):
    program = factories.program(session, stages=2)  # June and July 2021: long over

    page = _participant_page(session, client, program, Mode.LURING)

    assert _order(page) == ["stage-1", "stage-2", "ticket"]
    assert page.count('data-testid="phase-ended">Selesai<') == 2
    # No stage for now: the heading stands above all of them, not between the first and the second.
    assert page.count('class="other-stages"') == 1
    assert page.index('<h2 class="other-stages">Tahap</h2>') < page.index('data-testid="stage-1"')


@pytest.mark.parametrize("path", ["/admin/", "/admin/programs/{id}"])
def test_staff_pages_mark_the_running_stage_only(session, client, login, path):
    program = _program_around_now(session)
    running = program.stages[1]
    login(factories.staff(session, Role.PANITIA))

    page = client.get(path.format(id=program.id)).get_data(as_text=True)

    assert page.count('data-testid="phase-running">Sedang berlangsung<') == 1
    assert page.count('data-testid="phase-ended">Selesai<') == 1
    marked = page.index('data-testid="phase-running"')
    assert (
        page.index(f"Tahap II: {running.title}") > marked > page.index(f"Tahap I: {program.stages[0].title}")
    )
    assert re.search(rf'<a href="/live/{running.id}/control"[^>]*role="button"', page)
    for other in (program.stages[0], program.stages[2]):
        assert not re.search(rf'<a href="/live/{other.id}/control"[^>]*role="button"', page)


def test_the_agenda_of_a_two_day_stage_is_grouped_by_day(session, client, login):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    stage.agenda = [
        AgendaItem(starts_at=START + timedelta(days=1), title="Presentasi hasil kelompok"),
        AgendaItem(starts_at=START, title="Pembukaan oleh Bupati"),
    ]
    session.flush()

    participant = _participant_page(session, client, program, Mode.DARING)
    client.post("/logout")
    login(factories.staff(session, Role.PANITIA))
    detail = client.get(f"/admin/programs/{program.id}").get_data(as_text=True)

    for page in (participant, detail):
        found = re.findall(
            r'<li class="agenda-day">([^<]+)</li>|<span class="agenda-clock">([^<]+)</span>', page
        )
        assert [day or clock for day, clock in found] == [
            "Hari ke-1 · Kamis, 24 Juni 2021",
            "09.00 WIB",
            "Hari ke-2 · Jumat, 25 Juni 2021",
            "09.00 WIB",
        ]


def test_the_live_pages_say_whether_their_stage_has_ended_runs_or_is_still_to_come(
    session, client, login, set_now
):
    program = factories.program(session, stages=3)
    registration = factories.registration(session, program)
    services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=SECRET)
    session.commit()
    set_now(program.stages[1].starts_at + timedelta(hours=1))
    marks = {
        "ended": 'data-testid="phase-ended">Selesai<',
        "running": 'data-testid="phase-running">Sedang berlangsung<',
        "upcoming": 'data-testid="phase-upcoming">Akan datang<',
    }
    assert client.post(f"/p/{links.token_for(registration, SECRET)}").status_code == 302
    participant = [client.get(f"/live/{stage.id}").get_data(as_text=True) for stage in program.stages]
    client.post("/logout")
    login(factories.staff(session, Role.NARASUMBER))
    control = [client.get(f"/live/{stage.id}/control").get_data(as_text=True) for stage in program.stages]

    for pages in (participant, control):
        assert [[mark in page for mark in marks.values()] for page in pages] == [
            [True, False, False],
            [False, True, False],
            [False, False, True],
        ]


def test_the_live_pages_carry_their_stage_s_days_and_what_they_say_before_each(
    session, client, login, set_now
):
    """Between two days (static/js/live/phase.js follows them on a page left open): each day's window
    in UTC, and what the phase mark says before each day after the first."""
    stage = factories.program(session, stages=1).stages[0]
    set_now(START + timedelta(hours=9))  # 18.00 WIB on day 1
    login(factories.staff(session, Role.NARASUMBER))

    page = client.get(f"/live/{stage.id}/control").get_data(as_text=True)
    config = json.loads(page.split("data-config='")[1].split("'")[0])

    assert config["days"] == [
        ["2021-06-24T02:00:00Z", "2021-06-24T09:00:00Z"],
        ["2021-06-25T02:00:00Z", "2021-06-25T09:00:00Z"],
    ]
    assert config["resumes"] == ["", "Berlanjut Jumat, 25 Juni 2021, pukul 09.00 WIB"]
    assert 'data-testid="phase-resumes">Berlanjut Jumat, 25 Juni 2021, pukul 09.00 WIB<' in page
