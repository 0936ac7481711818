"""The attendance figures in Chromium (issue 11, "wrong figures"): a stage not begun counts no
absence in the report, the matrix, the XLSX and the dashboard; a hall check-in outside the
stage's check-in window is not offered at the desk, and refused by the server with the reason the desk
would give offline, crediting nothing; one inside it moves the dashboard's "Hadir" at once; an online voter on the
live page counts as present in the poll summary.

The server runs on the real clock, so each test seeds stages around the present moment.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from tests.browser.test_live import LAPTOP, PHONE, PROJECTOR, _expect_live, _seed, _staff, _texts
from tests.browser.test_scanner import RECORD_RESULTS, open_scanner, shown_results
from workshop import i18n
from workshop.attendance.models import OnlineEvidence, OnlineKind
from workshop.auth.models import Role
from workshop.checkin.models import CheckIn, ScanAttempt, ScanResult
from workshop.live import services as live_services
from workshop.live.models import PollKind
from workshop.programs.models import OrgKind, Stage
from workshop.registration.models import Mode, Person, Registration, Status
from workshop.tickets import codes

pytestmark = pytest.mark.browser

JAKARTA = ZoneInfo("Asia/Jakarta")
SCREENSHOTS = Path(tempfile.gettempdir()) / "bimtek-figures"
WIDTHS = (360, 1366)
UPDATED_CLOCK = re.compile(r"^\d\d\.\d\d\.\d\d WIB$")  # as the dashboard's script writes it
PEOPLE = [("Ani Siregar", Mode.LURING), ("Budi Hutabarat", Mode.LURING), ("Camat Tarutung", Mode.DARING)]


def _people(session, program):
    office = factories.organization(session, name="Dinas Kominfo")
    return [
        factories.registration(session, program, status=Status.APPROVED, name=name, org=office, mode=mode)
        for name, mode in PEOPLE
    ]


def _hall_check_in(session, stage, registration, at: datetime) -> None:
    assert factories.hall_scan(session, stage, registration, at).result == ScanResult.OK


def _screenshots(page: Page, name: str) -> None:
    """Full-page screenshots at a phone's and a laptop's width; the page never scrolls sideways."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} at {width} px"


def _clock(moment: datetime) -> str:
    return moment.astimezone(JAKARTA).strftime("%H.%M")


def test_a_stage_not_begun_shows_no_absence_in_report_matrix_xlsx_and_dashboard(
    live_server, page, browser_problems, tmp_path
):
    now = datetime.now(JAKARTA)
    today = now.date()
    with live_server.session() as session:
        program = factories.program(session, stages=3, title="Bimtek Smart City Tiga Tahap")
        ended, running, future = program.stages
        yesterday = today - timedelta(days=1)
        ended.starts_at = datetime.combine(yesterday, time(9), tzinfo=JAKARTA).astimezone(UTC)
        ended.ends_at = ended.starts_at + timedelta(hours=1)
        running.starts_at = max(
            datetime.combine(today, time(0), tzinfo=JAKARTA), now - timedelta(minutes=5)
        ).astimezone(UTC)
        running.ends_at = running.starts_at + timedelta(hours=1)
        future.starts_at = running.starts_at + timedelta(weeks=3)
        future.ends_at = future.starts_at + timedelta(days=1, hours=1)
        ani, budi, camat = _people(session, program)
        _hall_check_in(session, ended, ani, ended.starts_at - timedelta(minutes=10))
        _hall_check_in(session, running, ani, running.starts_at)
        organiser = factories.staff(session, Role.PANITIA).username
        session.flush()
        ids = {"program": program.id, "ended": ended.id, "running": running.id, "future": future.id}
        people = {"ani": ani.id, "budi": budi.id, "camat": camat.id}
        future_start = future.starts_at

    log_in(page, organiser)
    page.goto(f"/admin/programs/{ids['program']}/attendance")

    def summary(stage: str, status: str):
        return page.get_by_test_id(f"summary-{ids[stage]}-{status}")

    for stage in ("ended", "running"):  # under way or over: whoever did not come is absent
        expect(summary(stage, "hadir")).to_have_text("1")
        expect(summary(stage, "tidak_hadir")).to_have_text("2")
        expect(summary(stage, "belum_dimulai")).to_have_count(0)
        expect(summary(stage, "state")).to_have_count(0)
    expect(summary("future", "tidak_hadir")).to_have_text("0")
    expect(summary("future", "belum_dimulai")).to_have_text("3")
    expect(summary("future", "state")).to_have_text("Belum dimulai")
    expect(page.locator(f"[data-testid=summary-{ids['future']}] rect.bar-tidak_hadir")).to_have_count(0)
    for name, registration_id in people.items():
        cell = page.get_by_test_id(f"cell-{registration_id}-{ids['future']}")
        expect(cell.locator("a.att")).to_have_text("Belum dimulai")
        expect(cell.locator(".minutes")).to_have_text("Daring" if name == "camat" else "Luring")
    expect(page.get_by_test_id(f"cell-{people['budi']}-{ids['running']}").locator("a.att")).to_have_text(
        "Tidak hadir"
    )
    _screenshots(page, "report")

    page.set_viewport_size({"width": 1366, "height": 800})
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    book = openpyxl.load_workbook(saved)
    rows = [list(row) for row in book["Kehadiran"].iter_rows(values_only=True)]
    assert rows[0][5:] == [
        "Status Tahap I",
        "Menit Tahap I",
        "Status Tahap II",
        "Menit Tahap II",
        "Status Tahap III",
        "Menit Tahap III",
    ]
    assert [row[9:] for row in rows[1:]] == [["Belum dimulai", None]] * 3
    summary_sheet = [list(row) for row in book["Ringkasan"].iter_rows(values_only=True)]
    assert summary_sheet[0][4:9] == ["Hadir", "Terlambat", "Izin", "Tidak hadir", "Belum dimulai"]
    assert summary_sheet[1][2:] == [2, 1, 1, 0, 0, 2, 0, 3]
    assert summary_sheet[3][2:] == [2, 1, 0, 0, 0, 0, 3, 3]

    page.goto(f"/admin/stages/{ids['future']}/dashboard")
    # Not begun: no "Live" badge, the check-in's opening instead; the page still follows its snapshot.
    expect(page.get_by_test_id("dashboard-state")).to_contain_text(
        "Tahap ini belum dimulai: check-in dibuka "
    )
    expect(page.locator("[data-live-badge]")).to_have_count(0)
    expect(page.locator("[data-dashboard]")).to_have_attribute("data-version", re.compile(r"^\d+$"))
    expect(page.get_by_test_id("count-tidak_hadir")).to_have_text("0")
    expect(page.get_by_test_id("count-belum_dimulai")).to_have_text("3")
    expect(page.get_by_test_id("count-belum_dimulai")).to_be_visible()
    expect(page.locator("[data-bar=tidak_hadir]")).to_have_attribute("width", "0.00")
    expect(page.locator("[data-bar=belum_dimulai]")).to_have_attribute("width", "100.00")
    start = future_start.astimezone(JAKARTA)
    expect(page.locator(".dashboard-note")).to_contain_text(f"pukul {start:%H.%M} WIB.")
    expect(page.locator("[data-updated]")).to_have_count(0)
    _screenshots(page, "dashboard-not-started")

    page.goto(f"/admin/stages/{ids['ended']}/dashboard")
    expect(page.get_by_test_id("count-hadir")).to_have_text("1")
    expect(page.get_by_test_id("count-tidak_hadir")).to_have_text("2")
    expect(page.get_by_test_id("count-belum_dimulai")).to_be_hidden()
    expect(page.locator(".dashboard-note")).to_be_hidden()
    _screenshots(page, "dashboard-ended")

    # Only the running stage's figures are live: updated at the script's clock.
    page.goto(f"/admin/stages/{ids['running']}/dashboard")
    expect(page.locator("[data-updated]")).to_have_text(UPDATED_CLOCK)
    assert browser_problems.seen == []


# A scan sent as the page sends it (static/js/scanner/main.js), to the single or the batch endpoint.
POST_SCANS = """async ({ batch, scans }) => {
  const config = JSON.parse(document.getElementById("scanner-config").textContent);
  const response = await fetch(batch ? config.urls.batch : config.urls.checkin, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": config.csrf },
    body: JSON.stringify(batch ? { scans } : scans[0]),
  });
  return response.json();
}"""
# What the page itself would decide offline at this moment (static/js/scanner/page.js outsideWindow).
DECIDED_OFFLINE = """async () => {
  const url = performance.getEntriesByType("resource").map((e) => e.name).find((n) => /scanner\\/page\\./.test(n));
  const { outsideWindow } = await import(url);
  return outsideWindow(Date.now());
}"""


def test_a_check_in_outside_the_window_is_not_offered_at_the_desk_and_refused_by_the_server(
    live_server, new_context, browser_problems
):
    """Before the stage's check-in opens the desk says when it opens and offers no code field; a scan
    that reaches the server all the same (another device's queue, a clock running ahead) is refused
    with the same words the desk would say offline, and credits nothing."""
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Smart City Nanti Siang")
        stage = program.stages[0]
        stage.starts_at = now + timedelta(hours=3)  # check-in opens 120 minutes before: in an hour
        stage.ends_at = stage.starts_at + timedelta(hours=1)
        office = factories.organization(session, name="Bappeda")
        nelson, ani = (
            factories.registration(session, program, status=Status.APPROVED, name=name, org=office)
            for name in ("Nelson Pardede", "Ani Lumbantobing")
        )
        petugas = factories.staff(session, Role.PETUGAS).username
        organiser = factories.staff(session, Role.PANITIA).username
        session.flush()
        stage_id, ticket_codes = stage.id, (nelson.ticket_code, ani.ticket_code)
        opens = stage.starts_at - timedelta(minutes=stage.check_in_opens_before_minutes)
        opens_at = i18n.format_datetime_long(opens, "Asia/Jakarta", "id")
    message = f"Tahap ini belum dimulai: check-in dibuka {opens_at}. Tidak ada yang dicatat."

    dashboard = new_context().new_page()
    log_in(dashboard, organiser)
    dashboard.goto(f"/admin/stages/{stage_id}/dashboard")
    expect(dashboard.locator("[data-dashboard]")).to_have_attribute("data-version", re.compile(r"^\d+$"))

    context = new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, petugas)
    page.goto(f"/checkin/stages/{stage_id}")
    expect(page.locator("h1")).to_have_text("Check-in · Tahap I")
    expect(page.get_by_test_id("roster-status")).to_have_attribute("data-count", "2")
    expect(page.get_by_test_id("check-in-closed")).to_have_text(
        f"Check-in belum dibuka: tahap ini belum dimulai. Check-in dibuka {opens_at}."
    )
    expect(page.locator("#desk-form")).to_be_hidden()  # nothing to scan yet: no desk name asked for
    expect(page.locator("#code-input")).to_be_hidden()
    expect(page.get_by_test_id("camera-toggle")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / "scanner-not-open-360.png"))

    def scan(code: str, nonce: str) -> dict:
        return {"code": code, "desk": "Meja 1", "nonce": nonce, "method": "typed"}

    online = page.evaluate(POST_SCANS, {"batch": False, "scans": [scan(ticket_codes[0], "not-open-1")]})
    queued = page.evaluate(POST_SCANS, {"batch": True, "scans": [scan(ticket_codes[1], "not-open-2")]})
    offline = page.evaluate(DECIDED_OFFLINE)

    person = {"position": "Kepala Bidang", "organization": "Bappeda"}
    refused = {"result": "stage_not_started", "colour": "amber", "message": message, "first": None}
    refused |= {"check_in_id": None, "undo_until": None}
    assert online == {**refused, "person": {"name": "Nelson Pardede", **person}}
    assert queued == {"results": [{**refused, "person": {"name": "Ani Lumbantobing", **person}}]}
    assert offline == {"colour": "amber", "result": "stage_not_started", "message": message}

    with live_server.session() as session:
        check_ins = session.scalars(select(CheckIn).where(CheckIn.stage_id == stage_id)).all()
        attempts = session.execute(
            select(ScanAttempt.code, ScanAttempt.result)
            .where(ScanAttempt.stage_id == stage_id)
            .order_by(ScanAttempt.id)
        ).all()
    assert check_ins == []
    assert attempts == [
        (codes.logged_code(ticket_codes[0]), ScanResult.STAGE_NOT_STARTED),
        (codes.logged_code(ticket_codes[1]), ScanResult.STAGE_NOT_STARTED),
    ]
    # Before its check-in opens, the stage's dashboard has no "now" or "today" counter at all.
    expect(dashboard.get_by_test_id("checked-in-today")).to_have_count(0)
    expect(dashboard.get_by_test_id("present-now")).to_have_count(0)
    expect(dashboard.get_by_test_id("count-hadir")).to_have_text("0")
    expect(dashboard.get_by_test_id("count-belum_dimulai")).to_have_text("2")
    assert browser_problems.seen == []


def test_an_in_window_check_in_moves_the_dashboards_hadir_by_one_and_the_record_agrees(
    live_server, new_context, browser_problems
):
    """Day 2 of a two-day stage: Nelson came yesterday and is not here yet today (absent so far),
    then the desk checks him in: the dashboard's Hadir and his record agree at once."""
    today = datetime.now(JAKARTA).date()
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Smart City Hari Kedua")
        program.late_after_minutes = 24 * 60  # days from midnight: this test is about Hadir, not lateness
        stage = program.stages[0]
        stage.starts_at = datetime.combine(today - timedelta(days=1), time(0), tzinfo=JAKARTA).astimezone(UTC)
        stage.ends_at = datetime.combine(today, time(23, 59), tzinfo=JAKARTA).astimezone(UTC)
        nelson, _not_here_today = (
            factories.registration(session, program, status=Status.APPROVED, name=name)
            for name in ("Nelson Pardede", "Ani Lumbantobing")
        )
        _hall_check_in(session, stage, nelson, stage.starts_at + timedelta(hours=8))
        petugas = factories.staff(session, Role.PETUGAS).username
        organiser = factories.staff(session, Role.PANITIA).username
        session.flush()
        stage_id, program_id, nelson_id, nelson_code = stage.id, program.id, nelson.id, nelson.ticket_code

    dashboard = new_context().new_page()
    log_in(dashboard, organiser)
    dashboard.goto(f"/admin/stages/{stage_id}/dashboard")
    expect(dashboard.locator("[data-dashboard]")).to_have_attribute("data-version", re.compile(r"^\d+$"))
    expect(dashboard.get_by_test_id("count-hadir")).to_have_text("0")
    expect(dashboard.get_by_test_id("count-tidak_hadir")).to_have_text("2")
    expect(dashboard.get_by_test_id("checked-in-today")).to_have_text("0")

    page = new_context().new_page()
    open_scanner(page, stage_id, petugas, "Meja 2")
    page.evaluate(RECORD_RESULTS)
    for _ in range(2):
        page.locator("#code-input").fill(nelson_code)
        page.locator("#code-input").press("Enter")
    green, amber = shown_results(page, 2)
    with live_server.session() as session:
        scanned_at = session.scalar(
            select(CheckIn.scanned_at).where(CheckIn.stage_id == stage_id, CheckIn.day == today)
        )
    assert (green["colour"], green["message"]) == ("green", "Berhasil check-in")
    assert (amber["colour"], amber["message"]) == (
        "amber",
        f"Sudah check-in pukul {_clock(scanned_at)} WIB oleh Meja 2",
    )

    # Faster than the 10-second poll: the socket event made the dashboard fetch its numbers.
    expect(dashboard.get_by_test_id("count-hadir")).to_have_text("1", timeout=5000)
    expect(dashboard.get_by_test_id("count-tidak_hadir")).to_have_text("1")
    expect(dashboard.get_by_test_id("checked-in-today")).to_have_text("1")
    expect(dashboard.get_by_test_id("present-now")).to_have_text("1")
    _screenshots(dashboard, "dashboard-running")

    dashboard.goto(f"/admin/stages/{stage_id}/registrations/{nelson_id}/attendance")
    expect(dashboard.get_by_test_id("status")).to_have_text("Hadir")
    dashboard.goto(f"/admin/programs/{program_id}/attendance")
    expect(dashboard.get_by_test_id(f"cell-{nelson_id}-{stage_id}").locator("a.att")).to_have_text("Hadir")
    assert browser_problems.seen == []


def test_an_online_voter_on_the_live_page_is_counted_present_in_the_poll_summary(
    live_server, new_context, browser_problems
):
    """The issue's "1 dari 1 hadir sudah menjawab · Total 2 jawaban": a village head who votes from
    the live page (without their personal page open) is present online; the hall voter is present
    by their check-in. The projector and the control page say 2 of 2."""
    seeded = _seed(
        live_server,
        title="Bimtek Hadir Saat Ini",
        people={
            "luring": ("Rina Simanjuntak", Mode.LURING, OrgKind.OPD),
            "daring": ("Kades Hutatoruan", Mode.DARING, OrgKind.DESA),
        },
        poll=live_services.PollDraft(
            kind=PollKind.SINGLE, question="Desa sudah punya Wi-Fi?", options=["Ya", "Tidak"]
        ),
        open_poll=True,
    )
    with live_server.session() as session:
        stage = session.get(Stage, seeded.stage_id)
        hall = session.scalar(  # the server's database holds other tests' Rina too
            select(Registration)
            .join(Person)
            .where(Registration.program_id == stage.program_id, Person.name == "Rina Simanjuntak")
        )
        _hall_check_in(session, stage, hall, datetime.now(UTC))
    dialogs: list[str] = []
    projector = _staff(new_context, seeded, "projector", dialogs, **PROJECTOR)
    control = _staff(new_context, seeded, "control", dialogs, **LAPTOP)

    for key in ("luring", "daring"):
        context = new_context(**PHONE)
        page = context.new_page()
        # The personal page would send presence too: here it loads an empty script instead, so
        # that only the live page can make the village head present.
        context.route(
            "**/static/js/presence*.js", lambda route: route.fulfill(content_type="text/javascript", body="")
        )
        page.goto(f"/p/{seeded.people[key].token}")
        page.get_by_test_id("confirm-link").click()
        page.wait_for_url(f"**/saya/{seeded.slug}")
        context.unroute("**/static/js/presence*.js")
        page.goto(f"/live/{seeded.stage_id}")
        _expect_live(page)
        expect(page.locator("[data-presence]")).to_have_attribute("data-state", "online")
        page.get_by_role("radio", name="Ya").check()
        page.locator("[data-answer-submit]").click()
        expect(page.get_by_test_id("my-answer")).to_contain_text("Ya")
    _screenshots(page, "live-page-with-presence")

    with live_server.session() as session:
        online = session.scalars(
            select(Person.name)
            .join(Registration, Registration.person_id == Person.id)
            .join(OnlineEvidence, OnlineEvidence.registration_id == Registration.id)
            .where(OnlineEvidence.stage_id == seeded.stage_id, OnlineEvidence.kind == OnlineKind.PRESENCE)
        ).all()
    assert sorted(online) == ["Kades Hutatoruan", "Rina Simanjuntak"]  # both live pages sent presence
    answered = _texts(projector)["answered_of_present"].format(answered=2, present=2)
    expect(projector.locator("[data-projector-results] .live-answered")).to_have_text(answered)
    expect(control.get_by_test_id("count-present")).to_have_text("2")
    assert dialogs == []
    assert browser_problems.seen == []
