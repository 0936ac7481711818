"""Who is in the hall during a stage that crosses midnight as one span (19.00 to 01.00 WIB): the check-ins
of its day (the date it began) count until the date it ended on is over, on every page that counts them,
as the check-ins of a day of an ordinary stage count until that date is over."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from workshop.attendance.present import present_now
from workshop.auth.models import Role
from workshop.checkin import queries
from workshop.checkin.models import CheckIn, ScanResult
from workshop.programs.windows import stage_window
from workshop.registration.models import Mode, Status
from workshop.reports.services import stage_attendance


def wib(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A WIB time of June 2021 (any hour, the small hours too), in UTC."""
    return datetime(2021, 6, day, tzinfo=UTC) + timedelta(hours=hour - 7, minutes=minute, seconds=second)


JUNE_24, JUNE_25 = date(2021, 6, 24), date(2021, 6, 25)


@pytest.fixture
def night(session):
    """A stage of Kamis 24 Juni 2021, 19.00 WIB to Jumat 25 Juni, 01.00 WIB (check-in from 17.00), with two
    hall participants: Ani checks in at 19.30, Budi at 00.20 (the tests scan him)."""
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    stage.starts_at, stage.ends_at = wib(24, 19), wib(25, 1)
    ani = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING, name="Ani")
    budi = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING, name="Budi")
    assert factories.hall_scan(session, stage, ani, wib(24, 19, 30)).result == ScanResult.OK
    session.commit()
    return stage, ani, budi


def test_a_stage_crossing_midnight_is_one_day_dated_by_its_start_until_the_date_it_ended_on(session, night):
    window = stage_window(night[0])

    assert window.local_days() == [JUNE_24]
    assert [window.check_in_date(wib(25, 0, 20)), window.hall_date(wib(25, 0, 20))] == [JUNE_24, JUNE_24]
    assert [window.check_in_date(wib(25, 1, 0, 1)), window.hall_date(wib(25, 1, 0, 1))] == [None, JUNE_24]
    assert [window.hall_date(wib(24, 16, 59)), window.hall_date(wib(24, 17))] == [None, JUNE_24]
    assert [window.hall_date(wib(25, 23, 59, 59)), window.hall_date(wib(26, 0))] == [JUNE_24, None]


def test_after_midnight_the_hall_still_counts_who_checked_in_before_it(session, night, set_now):
    stage, ani, budi = night

    for moment in (wib(24, 23, 59), wib(25, 0, 0), wib(25, 0, 19, 59)):
        set_now(moment)
        assert present_now(session, stage, moment).hall == {ani.id}, moment

    set_now(wib(25, 0, 20))
    assert factories.hall_scan(session, stage, budi, wib(25, 0, 20)).result == ScanResult.OK
    assert factories.hall_scan(session, stage, ani, wib(25, 0, 25)).result == ScanResult.ALREADY_CHECKED_IN
    session.commit()
    rows = session.execute(select(CheckIn.registration_id, CheckIn.day).order_by(CheckIn.id)).all()
    assert [tuple(row) for row in rows] == [(ani.id, JUNE_24), (budi.id, JUNE_24)]

    for moment in (wib(25, 0, 30), wib(25, 0, 59, 59)):
        set_now(moment)
        assert present_now(session, stage, moment).hall == {ani.id, budi.id}, moment


def test_once_a_stage_crossing_midnight_has_ended_its_hall_counts_as_a_day_that_ended(
    session, night, set_now
):
    """As on an ordinary stage, whose check-ins of a day count after the day's end until that date is over
    (tests/test_reports.py: 16.02 WIB after a day ending at 16.00)."""
    stage, ani, budi = night
    factories.hall_scan(session, stage, budi, wib(25, 0, 20))
    session.commit()

    assert factories.hall_scan(session, stage, budi, wib(25, 1, 0, 1)).result == ScanResult.STAGE_ENDED
    assert present_now(session, stage, wib(25, 1, 0, 1)).hall == {ani.id, budi.id}
    assert present_now(session, stage, wib(25, 23, 59, 59)).hall == {ani.id, budi.id}
    assert present_now(session, stage, wib(26, 0, 0)).hall == frozenset()


def test_dashboard_live_counts_and_desk_count_both_after_midnight(session, client, login, night, set_now):
    stage, ani, budi = night
    login(factories.staff(session, Role.PANITIA))
    set_now(wib(25, 0, 20))
    factories.hall_scan(session, stage, budi, wib(25, 0, 20))
    session.commit()
    set_now(wib(25, 0, 30))

    dashboard = client.get(f"/admin/stages/{stage.id}/dashboard.json").get_json()
    assert (dashboard["checked_in_today"], dashboard["checked_in_total"], dashboard["present_now"]) == (
        2,
        2,
        2,
    )
    counts = client.get(f"/live/{stage.id}/state").get_json()["counts"]
    assert (counts["checked_in"], counts["online_now"], counts["present"]) == (2, 0, 2)
    roster = client.get(f"/api/stages/{stage.id}/roster").get_json()
    assert (roster["day"], sorted(roster["check_ins"])) == ("2021-06-24", sorted([str(ani.id), str(budi.id)]))
    found = client.get(f"/api/stages/{stage.id}/search?q=Ani").get_json()["results"]
    assert [(row["registration_id"], row["checked_in"]["time"]) for row in found] == [(ani.id, "19.30 WIB")]
    held_today, upcoming, past = queries.stages_for_picker(session, wib(25, 0, 30))
    assert (held_today, upcoming, past) == ([stage], [], [])
    page = client.get(f"/checkin/stages/{stage.id}").get_data(as_text=True)
    assert '"lastDate": "2021-06-25"' in page


def test_a_stage_of_two_days_counts_each_days_own_hall(session):
    """The factory's Tahap I: Kamis 24 and Jumat 25 Juni 2021, 09.00 to 16.00 WIB (check-in from 07.00)."""
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    ani, budi, citra = (
        factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING, name=name)
        for name in ("Ani", "Budi", "Citra")
    )
    factories.hall_scan(session, stage, ani, wib(24, 8, 45))
    factories.hall_scan(session, stage, budi, wib(24, 9, 5))
    session.commit()

    assert present_now(session, stage, wib(24, 16, 2)).hall == {ani.id, budi.id}
    assert present_now(session, stage, wib(24, 23, 59)).hall == {ani.id, budi.id}
    assert present_now(session, stage, wib(25, 6, 59)).hall == frozenset()  # day 2's check-in opens at 07.00
    factories.hall_scan(session, stage, ani, wib(25, 7, 50))
    factories.hall_scan(session, stage, citra, wib(25, 8))
    assert present_now(session, stage, wib(25, 8)).hall == {ani.id, citra.id}  # not Budi, of yesterday
    assert present_now(session, stage, wib(25, 16, 2)).hall == {ani.id, citra.id}
    days = session.execute(select(CheckIn.registration_id, CheckIn.day).order_by(CheckIn.id)).all()
    assert [tuple(row) for row in days] == [
        (ani.id, JUNE_24),
        (budi.id, JUNE_24),
        (ani.id, JUNE_25),
        (citra.id, JUNE_25),
    ]


def test_a_stage_of_one_day_counts_its_hall_until_the_date_is_over(session):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    stage.ends_at = wib(24, 16)
    ani, budi = (
        factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING, name=name)
        for name in ("Ani", "Budi")
    )
    assert present_now(session, stage, wib(24, 6, 59)).hall == frozenset()
    factories.hall_scan(session, stage, ani, wib(24, 7, 30))
    assert present_now(session, stage, wib(24, 8)).hall == {ani.id}
    factories.hall_scan(session, stage, budi, wib(24, 9, 5))
    assert present_now(session, stage, wib(24, 16, 2)).hall == {ani.id, budi.id}
    assert present_now(session, stage, wib(25, 0)).hall == frozenset()


def test_a_days_check_in_opening_the_evening_before_counts_for_that_day(session):
    """Two days of 00.30 to 03.00 WIB (Kamis 24 and Jumat 25 Juni 2021): the check-in of the second day
    opens at 22.30 WIB on the first's date, and a scan then is the second day's, in the hall and on its
    daftar hadir."""
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    stage.starts_at, stage.ends_at = wib(24, 0, 30), wib(25, 3)
    ani, budi = (
        factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING, name=name)
        for name in ("Ani", "Budi")
    )
    factories.hall_scan(session, stage, ani, wib(24, 0, 40))
    factories.hall_scan(session, stage, budi, wib(24, 0, 45))
    assert present_now(session, stage, wib(24, 22, 29)).hall == {ani.id, budi.id}
    factories.hall_scan(session, stage, ani, wib(24, 23))
    session.commit()

    assert present_now(session, stage, wib(24, 23, 30)).hall == {ani.id}
    window = stage_window(stage)
    rows = {row.registration.id: row for row in stage_attendance(session, stage, now=wib(25, 4))}
    assert [rows[ani.id].arrived_on(JUNE_24, window), rows[ani.id].arrived_on(JUNE_25, window)] == [
        wib(24, 0, 40),
        wib(24, 23),
    ]
    assert [rows[budi.id].arrived_on(JUNE_24, window), rows[budi.id].arrived_on(JUNE_25, window)] == [
        wib(24, 0, 45),
        None,
    ]
