"""A stage that crosses midnight as one span, seen after midnight WIB in Chromium: the check-in scanner,
the stage's attendance dashboard, the facilitator's control page and the projector, at 360 px and
1366 px, fit the screen and count in the hall the two people checked in before midnight (as
tests/test_midnight_stage.py asserts on the server: the day the stage began holds until the date it
ends on is over).

The server runs on the real clock, so the stage is built around the real `now` (date N in WIB): it
began yesterday (N-1) and ends an hour from now today, one span of a day (its end time is not after
its start time), and both check-ins are of yesterday evening, before midnight. Within the last
quarter of an hour of a date the test first waits for the next one, so that the date cannot change
while the pages are open. Screenshots go to /tmp/bimtek-shots/midnight."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import LiveServer
from tests.browser.test_attendance_dashboard import log_in
from tests.browser.test_page_widths import _fits, _untranslated
from tests.browser.test_scanner import IDB, open_scanner
from tests.test_live import make_poll
from workshop.auth.models import Role
from workshop.checkin.models import ScanResult
from workshop.live import services as live_services
from workshop.programs.models import Stage
from workshop.programs.windows import stage_window
from workshop.registration.models import Mode, Status

pytestmark = pytest.mark.browser

JAKARTA = ZoneInfo("Asia/Jakarta")
SHOTS = Path("/tmp/bimtek-shots/midnight")
SCREENS = {
    360: {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    1366: {"viewport": {"width": 1366, "height": 768}},
}
HALL = ("Marulam Hutabarat", "Rosmaida Sihombing")
QUIET_BEFORE_MIDNIGHT = timedelta(minutes=15)


def _after_midnight(now: datetime) -> datetime:
    """`now`, or the first moment of the next WIB date if this one ends within the quarter of an hour."""
    local = now.astimezone(JAKARTA)
    next_midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=JAKARTA)
    if next_midnight - local < QUIET_BEFORE_MIDNIGHT:
        time.sleep((next_midnight - local).total_seconds() + 1)
        return datetime.now(UTC)
    return now


@pytest.fixture(scope="module")
def night(_server: LiveServer) -> dict:
    """The stage (one span from yesterday to an hour from now, or to ten minutes before midnight if
    that is sooner), both hall participants checked in yesterday evening (the first a minute before
    midnight), a single-choice poll open, a panitia and a petugas."""
    now = _after_midnight(datetime.now(UTC))
    today = now.astimezone(JAKARTA).date()
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=JAKARTA).astimezone(UTC)
    tonight = midnight + timedelta(days=1)
    ends = min(now + timedelta(hours=1), tonight - timedelta(minutes=10))
    starts = ends - timedelta(days=1)
    check_ins = (midnight - timedelta(minutes=1), starts + (midnight - starts) / 2)
    with _server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Malam Smart City Tapanuli Utara")
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = starts, ends
        organiser = factories.staff(session, Role.PANITIA)
        for name, moment in zip(HALL, check_ins, strict=True):
            person = factories.registration(
                session, program, status=Status.APPROVED, mode=Mode.LURING, name=name
            )
            assert factories.hall_scan(session, stage, person, moment).result == ScanResult.OK
        poll = make_poll(session, stage, organiser)
        live_services.open_poll(session, poll, actor=organiser, now=now)
        return {
            "stage": stage.id,
            "yesterday": today - timedelta(days=1),
            "first_time": f"{check_ins[0].astimezone(JAKARTA):%H.%M} WIB",
            "organiser": organiser.username,
            "petugas": factories.staff(session, Role.PETUGAS).username,
        }


def _fits_in_indonesian(page: Page, name: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    _fits(page, page.url, width)
    assert _untranslated(page) == []


@pytest.mark.parametrize("width", [360, 1366])
def test_after_midnight_the_scanner_holds_yesterday_evening_s_check_ins(
    live_server, new_context, browser_problems, night, width
):
    page = new_context(**SCREENS[width]).new_page()
    open_scanner(page, night["stage"], night["petugas"], "Meja 2")

    expect(page.get_by_test_id("roster-status")).to_have_attribute("data-count", "2")
    seen = page.evaluate(IDB, {"read": f"seen.{night['stage']}"})
    assert (seen["day"], len(seen["entries"])) == (night["yesterday"].isoformat(), 2)
    page.locator("#search-input").fill("hutabarat")
    found = page.get_by_test_id("search-results").locator("li")
    expect(found).to_have_count(1)
    expect(found.locator(".done")).to_have_text(f"check-in pukul {night['first_time']}, Meja 1")
    _fits_in_indonesian(page, "scanner", width)
    assert browser_problems.seen == []


ANSWERED = "0 dari 2 hadir sudah menjawab"  # the open poll's "answered of present"
# No hall count: the bars' two colours are the voters' modes (blue luring, green daring).
MODES_LEGEND = "Warna menurut cara pemilih terdaftar: Luring · Daring"
# Each staff page: its path, then what shows the hall (test id or selector, exact text); the live pages
# show it once their socket is live.
STAFF_PAGES = {
    "dashboard": ("/admin/stages/{stage}/dashboard", [("checked-in-today", "2"), ("present-now", "2")]),
    "control": (
        "/live/{stage}/control",
        [
            ("count-checked-in", "2"),
            ("count-present", "2"),
            ("[data-current-results] .live-answered", ANSWERED),
            ("[data-current-results] [data-testid=bars-legend]", MODES_LEGEND),
        ],
    ),
    "projector": (
        "/live/{stage}/projector",
        [
            ("[data-projector-results] .live-answered", ANSWERED),
            ("[data-projector-results] [data-testid=bars-legend]", MODES_LEGEND),
        ],
    ),
}


@pytest.mark.parametrize("width", [360, 1366])
@pytest.mark.parametrize("name", sorted(STAFF_PAGES))
def test_after_midnight_the_staff_pages_count_yesterday_evening_s_hall(
    live_server, new_context, browser_problems, night, name, width
):
    path, shown = STAFF_PAGES[name]
    page = new_context(**SCREENS[width]).new_page()
    log_in(page, night["organiser"])
    assert page.goto(path.format(stage=night["stage"])).status == 200

    if name != "dashboard":
        expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
    for where, text in shown:
        target = page.locator(where) if where.startswith("[") else page.get_by_test_id(where)
        expect(target).to_have_text(text)
    _fits_in_indonesian(page, name, width)
    assert browser_problems.seen == []


def test_the_stage_crosses_midnight_as_one_span_and_its_day_is_yesterday(live_server, night):
    """What the pages above rest on, by the server's own rule (workshop/programs/windows.py)."""
    with live_server.session() as session:
        window = stage_window(session.get(Stage, night["stage"]))
    now = datetime.now(UTC)
    assert window.local_days() == [night["yesterday"]]
    assert (window.hall_date(now), window.day_of(now)) == (
        night["yesterday"],
        night["yesterday"] + timedelta(days=1),
    )
