"""The participant's page, the live page (questions, upvotes and the switch for polls by WhatsApp
until the stage has ended), the facilitator's control page and the check-in scanner in Chromium,
for a programme whose stages have not started, one whose first stage runs and one whose stages have
all ended, at 360 px and 1366 px: what each says (exact texts), nothing wider than the screen, no
English sentence on the Indonesian page; and what its downloads hold (the certificate PDF, the
attendance XLSX, the calendar). Screenshots go to /tmp/bimtek-shots/phases."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from icalendar import Calendar
from openpyxl import load_workbook
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests import factories
from tests.browser.conftest import ACTION_TIMEOUT_MS, LiveServer
from tests.browser.test_attendance_dashboard import log_in
from tests.browser.test_page_widths import _fits, _untranslated
from workshop import i18n
from workshop.auth.models import Role
from workshop.certificates import issuing
from workshop.certificates import services as certificates
from workshop.certificates.eligibility import Standing
from workshop.checkin.services import check_in
from workshop.live import handcount
from workshop.live import services as live_services
from workshop.live.models import PollKind, PollVote
from workshop.programs.models import Stage
from workshop.programs.windows import stage_window
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/bimtek-shots/phases")
SCREENS = {360: {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}} | {
    1366: {"viewport": {"width": 1366, "height": 768}}
}
PHASES = ("upcoming", "running", "ended")
TITLE = "Bimtek Penyusunan Masterplan Smart City Kabupaten Tapanuli Utara"
HALL, REMOTE = "Marulam Hutabarat", "Rosmaida Sihombing"
ASK_ENDED = "Tahap ini sudah selesai: pertanyaan tidak dapat dikirim lagi."
QUESTION = "Kapan jaringan internet sampai ke desa kami?"
WHATSAPP_SWITCH, WHATSAPP_OFF = (
    "Kirim polling ke WhatsApp saya",
    "Nonaktif: polling dijawab di halaman ini saja.",
)
# No poll open: "yet" until the stage has ended (the running stage's poll is open: the text is hidden).
POLL_WAITING = {
    "upcoming": "Belum ada polling yang dibuka",
    "running": "Belum ada polling yang dibuka",
    "ended": "Tahap ini sudah selesai: tidak ada polling yang dibuka.",
}


def _seed(live_server: LiveServer) -> dict:
    """Three programmes of two stages, one per phase of its first stage; in each, a participant in
    the hall and one online. In the running one: the hall participant checked in, a choice poll
    open with the online participant's vote and 3 + 1 hands counted in the hall. In the ended one:
    the hall participant's certificate."""
    now = datetime.now(UTC)
    day = timedelta(days=1)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def days(first: int, last: int) -> tuple[datetime, datetime]:
        """From day `first` (from today) to day `last`, each day 09.00-16.00 WIB."""
        return today + first * day + timedelta(hours=2), today + last * day + timedelta(hours=9)

    spans = {
        "upcoming": (days(10, 11), days(30, 30)),
        # From an hour ago to an hour from now (across midnight if need be).
        "running": (factories.running_now(now), days(21, 21)),
        "ended": (days(-30, -29), days(-9, -9)),
    }
    seeded: dict = {"tokens": {}, "slugs": {}, "stages": {}, "programs": {}}
    with live_server.session() as session:
        organiser, petugas = factories.staff(session, Role.PANITIA), factories.staff(session, Role.PETUGAS)
        seeded["organiser"], seeded["petugas"] = organiser.username, petugas.username
        for phase, pairs in spans.items():
            program = factories.program(session, stages=2, title=f"{TITLE} ({phase})")
            for stage, (start, end) in zip(program.stages, pairs, strict=True):
                stage.starts_at, stage.ends_at = start, end
            agency = factories.organization(session, name="Dinas Komunikasi dan Informatika")
            people = {
                mode: factories.registration(
                    session, program, status=Status.APPROVED, mode=mode, name=name, org=agency
                )
                for mode, name in ((Mode.LURING, HALL), (Mode.DARING, REMOTE))
            }
            for mode, registration in people.items():
                ensure_participant_user(session, registration.person)
                token = links.issue(registration, live_server.app.config["SECRET_KEY"])
                seeded["tokens"][(phase, mode.value)] = token
            first = program.stages[0]
            asked_at = first.starts_at + timedelta(hours=1) if phase == "ended" else now
            question = live_services.ask(
                session, first, people[Mode.LURING], QUESTION, anonymous=False, now=asked_at, per_minute=5
            )
            live_services.moderate(session, first, question.id, "approve", "", actor=organiser, now=asked_at)
            seeded["slugs"][phase], seeded["stages"][phase] = program.slug, first.id
            seeded["programs"][phase] = program.id
            seeded[f"{phase}-starts"] = [stage.starts_at for stage in program.stages]
            first_opens, last_closes = stage_window(first).check_in_windows()[0][0], first.ends_at
            seeded[f"{phase}-check-in"] = [
                i18n.format_datetime_long(moment, "Asia/Jakarta", "id")
                for moment in (first_opens, last_closes)
            ]
            if phase == "running":
                _running(session, first, people, organiser, petugas, now)
            if phase == "ended":
                hall = people[Mode.LURING]
                standing = Standing(stage_ids=(first.id,), jp=8, eligible=True)
                candidate = certificates.Candidate(hall.id, HALL, hall.person.organization.label, standing)
                issuing.issue(session, program, [candidate], actor=None, now=now)
    return seeded


def _running(session, stage, people, organiser, petugas, now) -> None:
    check_in(
        session,
        stage=stage,
        code=people[Mode.LURING].ticket_code,
        desk="Meja 1",
        actor=petugas,
        client_nonce="phases-1",
        secret_key=current_app.config["SECRET_KEY"],
    )
    draft = live_services.PollDraft(
        kind=PollKind.SINGLE,
        question="Apakah kantor Anda sudah terhubung internet yang stabil?",
        options=["Ya, stabil", "Ada, tetapi sering putus", "Belum ada"],
    )
    poll = live_services.create_poll(session, stage, draft, actor=organiser)
    live_services.open_poll(session, poll, actor=organiser, now=now)
    yes, flaky, _none = poll.options
    session.add(
        PollVote(poll_id=poll.id, registration_id=people[Mode.DARING].id, answer={"option_ids": [yes.id]})
    )
    counts = {str(yes.id): 3, str(flaky.id): 1}
    handcount.set_hall_counts(session, poll, counts, hall_present=1, actor=organiser, now=now)


@pytest.fixture(scope="module")
def seeded(_server: LiveServer) -> dict:
    return _seed(_server)


@pytest.fixture(scope="module")
def device(browser: Browser, _server: LiveServer, seeded: dict) -> Iterator[Callable[..., BrowserContext]]:
    """A logged-in browser (a participant by their personal link, or staff) at a width, kept for the module."""
    contexts: dict[tuple[str, str, int], BrowserContext] = {}

    def make(who: str, width: int, phase: str = "") -> BrowserContext:
        key = (who, phase, width)
        if key not in contexts:
            context = browser.new_context(
                base_url=_server.url, locale="id-ID", timezone_id="Asia/Jakarta", **SCREENS[width]
            )
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            page = context.new_page()
            if phase:
                page.goto(f"/p/{seeded['tokens'][(phase, who)]}")
                page.get_by_test_id("confirm-link").click()
                page.wait_for_url(f"**/saya/{seeded['slugs'][phase]}")
            else:
                log_in(page, seeded[who])
            page.close()
            contexts[key] = context
        return contexts[key]

    yield make
    for context in contexts.values():
        context.close()


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _looks_right(page: Page, path: str, width: int) -> None:
    _fits(page, path, width)
    assert _untranslated(page) == []


# What the stage cards of the participant's page say, in page order: (phase mark, mode, title).
CARDS = {
    "upcoming": [("Berikutnya", "Tahap I: Tahap ke-1"), ("", "Tahap II: Tahap ke-2")],
    "running": [("Sedang berlangsung", "Tahap I: Tahap ke-1"), ("", "Tahap II: Tahap ke-2")],
    "ended": [("Selesai", "Tahap I: Tahap ke-1"), ("Selesai", "Tahap II: Tahap ke-2")],
}
MODES = {"luring": "Luring (tatap muka)", "daring": "Daring"}
# The heading over the stages: after the stage for now, or above them all once every stage ended.
HEADINGS = {"upcoming": ("Tahap lainnya", 1), "running": ("Tahap lainnya", 1), "ended": ("Tahap", 0)}


@pytest.mark.parametrize("width", [360, 1366])
@pytest.mark.parametrize("mode", ["luring", "daring"])
@pytest.mark.parametrize("phase", PHASES)
def test_the_participant_page_says_where_each_stage_stands(live_server, device, seeded, phase, mode, width):
    page = device(mode, width, phase).new_page()
    try:
        path = f"/saya/{seeded['slugs'][phase]}"
        assert page.goto(path).status == 200
        cards = page.locator("article.stage")
        expect(cards).to_have_count(2)
        for index, (mark, title) in enumerate(CARDS[phase]):
            card = cards.nth(index)
            expect(card.locator(".stage-title")).to_have_text(title)
            expect(card.locator(".mode")).to_have_text(MODES[mode])
            expect(card.locator(".phase")).to_have_text(mark) if mark else expect(
                card.locator(".phase")
            ).to_have_count(0)
        heading, cards_before = HEADINGS[phase]
        expect(page.locator("h2.other-stages")).to_have_text(heading)
        before = page.evaluate(
            """() => { const h = document.querySelector("h2.other-stages");
                return [...document.querySelectorAll("article.stage")]
                  .filter((card) => card.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING).length; }"""
        )
        assert before == cards_before
        # The live page's big button while a stage runs; the certificate once earned.
        running_link = page.locator("a.live-link[role=button]")
        expect(running_link).to_have_count(1 if phase == "running" else 0)
        certificate = page.get_by_test_id("certificate-download")
        expect(certificate).to_have_count(1 if (phase, mode) == ("ended", "luring") else 0)
        # Once every stage has ended the certificate comes before the ticket; before that, after.
        order = page.locator("[data-testid=participant-certificate], [data-testid=ticket]").evaluate_all(
            "(found) => found.map((e) => e.dataset.testid)"
        )
        if (phase, mode) == ("ended", "luring"):
            assert order == ["participant-certificate", "ticket"]
        else:
            assert order == ["ticket"]
        _shot(page, f"my-page-{phase}-{mode}-{width}")
        _looks_right(page, path, width)
    finally:
        page.close()


@pytest.mark.parametrize("width", [360, 1366])
@pytest.mark.parametrize("phase", PHASES)
def test_the_live_page_offers_the_question_form_and_the_whatsapp_switch_until_the_stage_has_ended(
    live_server, device, seeded, phase, width
):
    page = device("daring", width, phase).new_page()
    try:
        path = f"/live/{seeded['stages'][phase]}"
        assert page.goto(path).status == 200
        expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
        # The hall participant's question: the online one may support it until the stage has ended.
        question = page.locator("[data-questions] .live-question")
        expect(question.locator(".live-question-text")).to_have_text(QUESTION)
        upvote = question.locator("button.live-upvote")
        expect(upvote).to_be_disabled() if phase == "ended" else expect(upvote).to_be_enabled()
        waiting = page.get_by_test_id("poll-waiting")
        expect(waiting).to_have_text(POLL_WAITING[phase])
        expect(waiting).to_be_hidden() if phase == "running" else expect(waiting).to_be_visible()
        if phase == "ended":
            expect(page.get_by_test_id("ask-ended")).to_have_text(ASK_ENDED)
            expect(page.locator("[data-ask-form], textarea")).to_have_count(0)
            # No poll goes out by WhatsApp for an ended stage: no switch for it.
            expect(page.get_by_test_id("whatsapp-me")).to_have_count(0)
            expect(page.get_by_text(WHATSAPP_SWITCH)).to_have_count(0)
        else:
            expect(page.get_by_test_id("ask-ended")).to_be_hidden()  # shown if the stage ends meanwhile
            expect(page.get_by_label("Pertanyaan Anda")).to_be_editable()
            expect(page.locator("[data-ask-counter]")).to_have_text("Sisa 280 karakter")
            switch = page.get_by_role("switch", name=WHATSAPP_SWITCH)
            expect(switch).to_be_visible()
            expect(switch).not_to_be_checked()
            expect(page.get_by_test_id("whatsapp-me-status")).to_have_text(WHATSAPP_OFF)
        _shot(page, f"live-{phase}-{width}")
        _looks_right(page, path, width)
    finally:
        page.close()


# Each option of the running stage's poll on the control page: its total, then its sources (hands
# in the hall, online votes) with the online votes by how their voters take part, on one line.
CONTROL_BARS = [
    ("Ya, stabil", "4", "Aula: 3 · Daring: 1", "(dari peserta luring 0, daring 1)"),
    ("Ada, tetapi sering putus", "1", "Aula: 1 · Daring: 0", "(dari peserta luring 0, daring 0)"),
    ("Belum ada", "0", "Aula: 0 · Daring: 0", "(dari peserta luring 0, daring 0)"),
]


@pytest.mark.parametrize("width", [360, 1366])
def test_the_control_page_labels_hall_and_online_votes_apart_from_the_voters_modes(
    live_server, device, seeded, width
):
    page = device("organiser", width).new_page()
    try:
        path = f"/live/{seeded['stages']['running']}/control"
        assert page.goto(path).status == 200
        results = page.locator("[data-current-results]")
        bars = results.locator("li.live-bar")
        expect(bars).to_have_count(3)
        for index, (label, count, sources, modes) in enumerate(CONTROL_BARS):
            bar = bars.nth(index)
            expect(bar.locator(".live-bar-label")).to_have_text(label)
            expect(bar.locator(".live-bar-count")).to_have_text(count)
            expect(bar.locator(".live-bar-split")).to_have_text(f"{sources} {modes}")
            expect(bar.locator(".live-bar-sources")).to_have_text(sources)
        # No second "Luring · Daring" line whose "Daring" would mean something else.
        expect(results.locator(".live-luring, .live-daring")).to_have_count(0)
        expect(results.locator(".live-sources")).to_have_text("Aula: 4 · Daring: 1")
        expect(results.locator(".live-results-summary .live-bar-modes")).to_have_text(
            "(dari peserta luring 0, daring 1)"
        )
        # The field for a dismissal's reason says what it is for without being cut off.
        reason = page.locator(".live-reason").first
        expect(reason).to_have_attribute("placeholder", "Alasan untuk penanya (opsional)")
        page.wait_for_function(PLACEHOLDER_FITS, arg=".live-reason")
        expect(reason).to_have_attribute("aria-label", "Alasan (opsional, ditampilkan kepada penanya)")
        _shot(page, f"control-running-{width}")
        _looks_right(page, path, width)
    finally:
        page.close()


# Whether the first text field the selector finds shows its whole placeholder in the field's font.
# The field is looked up at each poll: the queue is redrawn whenever the server sends it, which
# leaves a field found earlier detached, with no width and no font.
PLACEHOLDER_FITS = """(selector) => {
  const input = document.querySelector(selector);
  if (!input) return false;
  const style = getComputedStyle(input);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return context.measureText(input.placeholder).width <= room;
}"""

# The staff pages of a stage in each phase, at the width each is used at: the dashboard on the
# organiser's phone, the control page on the facilitator's laptop, the projector.
STAFF_PAGES = {
    "dashboard": ("/admin/stages/{stage}/dashboard", 360),
    "control": ("/live/{stage}/control", 1366),
    "projector": ("/live/{stage}/projector", 1366),
}
# What the projector invites the room to, under the QR code: nothing can be asked nor voted once the
# stage has ended.
JOIN_TEXT = {
    "upcoming": "Bertanya dan ikut polling:",
    "running": "Bertanya dan ikut polling:",
    "ended": "Tahap ini sudah selesai. Pertanyaan dan pollingnya:",
}
# The control page with no poll open ("yet" only while the stage has not ended; the running stage's
# poll is open).
NO_POLL_OPEN = {
    "upcoming": "Belum ada polling yang dibuka.",
    "ended": "Tahap ini sudah selesai: tidak ada polling yang dibuka.",
}
SOURCES_LEGEND = "Warna menurut asal suara: tangan yang dihitung di aula · suara lewat aplikasi atau WhatsApp"
SWATCHES = """() => [...document.querySelectorAll("[data-current-results] [data-testid=bars-legend] span")]
  .map((span) => [span.className, getComputedStyle(span, "::before").backgroundColor])"""
# The links of a two-day stage's daily attendance lists, each on one line ("Hari ke-" and "2" apart, before).
DAY_LINKS_ON_ONE_LINE = """() => [...document.querySelectorAll(".dashboard-day-links a")]
  .map((link) => [link.textContent, link.getClientRects().length])"""


@pytest.mark.parametrize("name", sorted(STAFF_PAGES))
@pytest.mark.parametrize("phase", PHASES)
def test_the_staff_pages_of_a_stage_fit_in_every_phase(live_server, device, seeded, phase, name):
    path, width = STAFF_PAGES[name]
    page = device("organiser", width).new_page()
    try:
        path = path.format(stage=seeded["stages"][phase])
        assert page.goto(path).status == 200
        if name != "dashboard":
            expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
        if name == "projector":
            expect(page.get_by_test_id("join-text")).to_have_text(JOIN_TEXT[phase])
        elif name == "control" and phase in NO_POLL_OPEN:
            expect(page.get_by_test_id("current-poll-empty")).to_have_text(NO_POLL_OPEN[phase])
            expect(page.get_by_test_id("current-poll-empty")).to_be_visible()
        elif name == "control":
            # The running stage's poll has a hall count: its bars' colours are the votes' sources.
            legend = page.locator("[data-current-results] [data-testid=bars-legend]")
            expect(legend).to_have_text(SOURCES_LEGEND)
            assert page.evaluate(SWATCHES) == [
                ["live-hall", "rgb(180, 83, 9)"],
                ["live-online", "rgb(124, 58, 237)"],
            ]
        elif name == "dashboard":
            two_days = [] if phase == "running" else [["Hari ke-1", 1], ["Hari ke-2", 1]]
            assert page.evaluate(DAY_LINKS_ON_ONE_LINE) == two_days
        _shot(page, f"{name}-{phase}-{width}")
        _looks_right(page, path, width)
    finally:
        page.close()


# The dashboard's big numbers (label, value): the live ones only while the stage's check-in can be open;
# after the end, the hall check-ins of all its days. (None: whether the online participant is on the live
# page at that moment depends on the tests before.)
DASHBOARD_NUMBERS = {
    "upcoming": [("Terdaftar (disetujui)", "2")],
    "running": [
        ("Hadir saat ini", None),
        ("Check-in di aula hari ini", "1"),
        ("Daring saat ini (tidak di aula)", None),
        ("Terdaftar (disetujui)", "2"),
    ],
    "ended": [("Check-in di aula (semua hari)", "0"), ("Terdaftar (disetujui)", "2")],
}
DASHBOARD_TITLE = {"upcoming": "Kehadiran", "running": "Kehadiran sejauh ini", "ended": "Kehadiran akhir"}
BIG_NUMBERS = """() => [...document.querySelectorAll(".big-number")]
  .map((card) => [card.querySelector(".big-label").textContent, card.querySelector(".big-value").textContent])"""


@pytest.mark.parametrize("width", [360, 1366])
@pytest.mark.parametrize("phase", PHASES)
def test_the_dashboard_says_whether_the_stage_has_begun_runs_or_ended(
    live_server, device, seeded, phase, width
):
    page = device("organiser", width).new_page()
    try:
        path = f"/admin/stages/{seeded['stages'][phase]}/dashboard"
        assert page.goto(path).status == 200
        opens, ended = seeded[f"{phase}-check-in"]
        state = page.get_by_test_id("dashboard-state")
        if phase == "running":
            expect(state.locator("[data-live-badge]")).to_have_text("Live")
        elif phase == "upcoming":
            expect(state).to_have_text(f"Tahap ini belum dimulai: check-in dibuka {opens}.")
        else:
            expect(state).to_have_text(f"Tahap ini sudah selesai pada {ended}. Berikut angka akhirnya.")
        expect(page.get_by_test_id("figures-title")).to_have_text(DASHBOARD_TITLE[phase])
        shown = page.evaluate(BIG_NUMBERS)
        assert [
            [label, value if expected else None]
            for (label, value), (_, expected) in zip(shown, DASHBOARD_NUMBERS[phase], strict=True)
        ] == [list(pair) for pair in DASHBOARD_NUMBERS[phase]]
        # Its first snapshot (fetched on the socket's join) keeps the page in its phase: no reload.
        expect(page.locator("[data-dashboard]")).to_have_attribute("data-version", re.compile(r"^\d+$"))
        assert page.evaluate("() => performance.getEntriesByType('navigation')[0].type") == "navigate"
        _shot(page, f"dashboard-{phase}-{width}")
        _looks_right(page, path, width)
    finally:
        page.close()


def test_the_running_dashboard_redraws_itself_once_the_server_says_the_stage_ended(
    live_server, device, seeded
):
    page = device("organiser", 1366).new_page()
    try:
        ended = json.loads(
            page.request.get(f"/admin/stages/{seeded['stages']['ended']}/dashboard.json").text()
        )
        page.route("**/dashboard.json", lambda route: route.fulfill(json=ended | {"version": 2**52}), times=1)
        assert page.goto(f"/admin/stages/{seeded['stages']['running']}/dashboard").status == 200
        page.wait_for_function("() => performance.getEntriesByType('navigation')[0].type === 'reload'")
        # Redrawn by the server, which says the stage runs: the live page again.
        expect(page.get_by_test_id("figures-title")).to_have_text("Kehadiran sejauh ini")
        expect(page.locator("[data-dashboard]")).to_have_attribute("data-phase", "live")
    finally:
        page.close()


SCANNER_PHASE = {"upcoming": "Akan datang", "running": "Sedang berlangsung", "ended": "Selesai"}
# What the desk is told when no scan can be recorded, with the first check-in's opening (upcoming) or the
# stage's end (ended); while the stage runs, nothing: it scans.
SCANNER_CLOSED = {
    "upcoming": "Check-in belum dibuka: tahap ini belum dimulai. Check-in dibuka {opens}.",
    "ended": "Tahap ini sudah selesai pada {ended}: check-in ditutup, pemindaian tidak dicatat lagi.",
}


@pytest.mark.parametrize("width", [360, 1366])
@pytest.mark.parametrize("phase", PHASES)
def test_the_scanner_page_names_the_stage_says_whether_it_runs_and_holds_its_roster(
    live_server, device, seeded, phase, width
):
    page = device("petugas", width).new_page()
    try:
        path = f"/checkin/stages/{seeded['stages'][phase]}"
        assert page.goto(path).status == 200
        expect(page.locator("h1")).to_have_text("Check-in · Tahap I")
        expect(page.locator(".scanner-status .phase")).to_have_text(SCANNER_PHASE[phase])
        expect(page.get_by_text("2 peserta di perangkat ini")).to_be_visible()
        expect(page.locator("[data-scanner]")).to_have_attribute("data-state", "ready")
        closed, code_field = page.get_by_test_id("check-in-closed"), page.locator("#code-input")
        camera = page.get_by_test_id("camera-toggle")
        # A found person can be looked up in every phase; checked in only while the stage's check-in is open.
        page.locator("#search-input").fill("Hutabarat")
        found = page.get_by_test_id("search-results").locator("li")
        expect(found).to_have_count(1)
        expect(found.locator("strong")).to_have_text(HALL)
        # The desk (no name yet on this device) is asked for its name only while a scan can be recorded;
        # once the stage's check-in is over, its name is no longer shown either.
        desk_form, desk_button = page.locator("#desk-form"), page.get_by_test_id("desk-button")
        if phase == "running":
            expect(closed).to_be_hidden()
            expect(desk_form).to_be_visible()
            expect(desk_form.get_by_label("Nama meja (mis. Meja 1)")).to_be_editable()
            expect(code_field).to_be_visible()
            expect(camera).to_have_text("Nyalakan kamera")
            expect(found.get_by_role("button", name="Check-in")).to_be_visible()
        else:
            opens, ended = seeded[f"{phase}-check-in"]
            expect(closed).to_have_text(SCANNER_CLOSED[phase].format(opens=opens, ended=ended))
            expect(closed).to_be_visible()
            expect(desk_form).to_be_hidden()
            expect(page.get_by_test_id("desk-waiting")).to_be_hidden()
            expect(code_field).to_be_hidden()
            expect(camera).to_be_hidden()
            expect(found.get_by_role("button", name="Check-in")).to_be_hidden()
        expect(desk_button).to_be_hidden() if phase == "ended" else expect(desk_button).to_have_text("— ✎")
        _shot(page, f"scanner-{phase}-{width}")
        _looks_right(page, path, width)
    finally:
        page.close()


def _between_days(now: datetime, days: int) -> tuple[datetime, datetime]:
    """(start, end) of a stage of `days` one-hour days from yesterday, each at the same hour (WIB),
    placed so that `now` falls between two of them: 3 hours before today's, or late in the evening 4
    hours after its end (no day crosses midnight)."""
    local = now.astimezone(ZoneInfo("Asia/Jakarta"))
    offset = (
        timedelta(hours=3) if (local + timedelta(hours=4)).date() == local.date() else timedelta(hours=-5)
    )
    return now - timedelta(days=1) + offset, now + timedelta(days=days - 2) + offset + timedelta(hours=1)


SCANNER_BETWEEN = "Check-in hari ini sudah ditutup. Check-in berikutnya dibuka {opens}."


@pytest.mark.parametrize("width", [360, 1366])
def test_the_scanner_page_between_two_days_of_a_stage_says_when_the_next_check_in_opens(
    live_server, device, width
):
    """A stage of three one-hour days, from yesterday to tomorrow, now between two of them: it runs (and
    resumes at the next day's start), yet no scan can be recorded, so the desk gets no code field, no
    camera and no question for its name, and reads when the next check-in opens."""
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title=f"{TITLE} (tiga hari)")
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = _between_days(now, 3)
        factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING, name=HALL)
        session.flush()
        days, windows = stage_window(stage).days(), stage_window(stage).check_in_windows()
        assert len(days) == 3
        closed = [closes for _opens, closes in windows if closes <= now]
        opens = [opens for opens, _closes in windows if opens > now]
        assert len(closed) + len(opens) == 3 and closed and opens  # between two days
        resumes = next(start for start, _end in days if start > now)
        said = {
            moment: i18n.format_datetime_long(moment, "Asia/Jakarta", "id") for moment in (opens[0], resumes)
        }
        stage_id = stage.id
    page = device("petugas", width).new_page()
    try:
        path = f"/checkin/stages/{stage_id}"
        assert page.goto(path).status == 200
        expect(page.locator(".scanner-status .phase")).to_have_text(f"Berlanjut {said[resumes]}")
        expect(page.get_by_text("1 peserta di perangkat ini")).to_be_visible()
        expect(page.locator("[data-scanner]")).to_have_attribute("data-state", "ready")
        expect(page.locator("[data-scanner]")).to_have_attribute("data-check-in", "between")
        closed_note = page.get_by_test_id("check-in-closed")
        expect(closed_note).to_have_text(SCANNER_BETWEEN.format(opens=said[opens[0]]))
        expect(closed_note).to_be_visible()
        expect(page.locator("#code-input")).to_be_hidden()
        expect(page.get_by_test_id("camera-toggle")).to_be_hidden()
        # No desk name asked for before a scan can be recorded; the desk's (none yet) can still be set.
        expect(page.locator("#desk-form")).to_be_hidden()
        expect(page.get_by_test_id("desk-waiting")).to_be_hidden()
        expect(page.get_by_test_id("desk-button")).to_have_text("— ✎")
        # The roster is on the device: a person is found, not checked in.
        page.locator("#search-input").fill("Hutabarat")
        found = page.get_by_test_id("search-results").locator("li")
        expect(found).to_have_count(1)
        expect(found.locator("strong")).to_have_text(HALL)
        expect(found.get_by_role("button", name="Check-in")).to_be_hidden()
        _shot(page, f"scanner-between-days-{width}")
        _looks_right(page, path, width)
    finally:
        page.close()


# The badges beside the stage's name on the live pages once connected: "Live" only while the stage runs
# (the projector shows no phase then); before or after it, the stage's phase alone.
LIVE_PAGES = {
    "participant": ("daring", "/live/{stage}"),
    "control": ("organiser", "/live/{stage}/control"),
    "projector": ("organiser", "/live/{stage}/projector"),
}
BADGES = {
    "upcoming": ["Akan datang"],
    "running": ["Live", "Sedang berlangsung"],
    "ended": ["Selesai"],
}
VISIBLE_BADGES = """() => [...document.querySelectorAll(".live-badge, .phase")]
  .filter((badge) => badge.checkVisibility()).map((badge) => badge.textContent.trim())"""
# Above the control page's "New poll" once the stage's scheduled time has ended (stages often run late).
POLLS_AFTER_END = (
    "Jadwal tahap ini sudah berakhir pada {ended}. "
    "Polling yang dibuka sekarang tetap sampai ke peserta yang masih terhubung."
)


@pytest.mark.parametrize("width", [360, 1366])
@pytest.mark.parametrize("phase", PHASES)
@pytest.mark.parametrize("name", sorted(LIVE_PAGES))
def test_the_live_pages_say_live_only_while_the_stage_runs(live_server, device, seeded, name, phase, width):
    who, path = LIVE_PAGES[name]
    page = device(who, width, phase if who == "daring" else "").new_page()
    try:
        path = path.format(stage=seeded["stages"][phase])
        assert page.goto(path).status == 200
        status = page.locator("[data-live-status]")
        expect(status).to_have_attribute("data-status", "live")  # connected in every phase
        expected = BADGES[phase][:1] if name == "projector" else BADGES[phase]
        assert page.evaluate(VISIBLE_BADGES) == expected
        if phase != "running":
            expect(status).to_be_hidden()
            assert re.search(r"\bLive\b", page.locator("body").inner_text()) is None
        if name == "control":
            note, new_poll = (
                page.get_by_test_id("polls-after-end"),
                page.get_by_role("button", name="Polling baru"),
            )
            expect(new_poll).to_be_visible()
            if phase == "ended":
                expect(note).to_have_text(POLLS_AFTER_END.format(ended=seeded["ended-check-in"][1]))
                note_box, button_box = note.bounding_box(), new_poll.bounding_box()
                assert note_box and button_box and note_box["y"] + note_box["height"] <= button_box["y"]
            else:
                expect(note).to_be_hidden()
        _shot(page, f"{name}-badge-{phase}-{width}")
        _looks_right(page, path, width)
    finally:
        page.close()


# What the live pages left open show while their stage runs, and once it has ended (as the server draws
# them then): the visible badges, then each page's phase-dependent parts (None: not shown).
LEFT_OPEN = {
    "participant": {
        "running": {
            "badges": ["Live", "Sedang berlangsung"],
            "poll-waiting": POLL_WAITING["running"],
            "ask-ended": None,
            "question field": True,
            "whatsapp switch": True,
            "upvote enabled": True,
            "presence note": True,
        },
        "ended": {
            "badges": ["Selesai"],
            "poll-waiting": POLL_WAITING["ended"],
            "ask-ended": ASK_ENDED,
            "question field": False,
            "whatsapp switch": False,
            "upvote enabled": False,
            "presence note": False,
        },
    },
    "projector": {
        "running": {"badges": ["Live"], "join-text": "Bertanya dan ikut polling:"},
        "ended": {"badges": ["Selesai"], "join-text": "Tahap ini sudah selesai. Pertanyaan dan pollingnya:"},
    },
    "control": {
        "running": {
            "badges": ["Live", "Sedang berlangsung"],
            "current-poll-empty": "Belum ada polling yang dibuka.",
            "polls-after-end": None,
        },
        "ended": {
            "badges": ["Selesai"],
            "current-poll-empty": "Tahap ini sudah selesai: tidak ada polling yang dibuka.",
            "polls-after-end": POLLS_AFTER_END,
        },
    },
}


def _shown(page: Page, name: str) -> dict:
    """What LEFT_OPEN lists for a page, as the page shows it now."""

    def text(test_id: str) -> str | None:
        found = page.get_by_test_id(test_id)
        return found.inner_text() if found.count() and found.is_visible() else None

    shown: dict = {"badges": page.evaluate(VISIBLE_BADGES)}
    if name == "participant":
        upvote = page.locator("[data-questions] .live-question button.live-upvote")
        shown |= {
            "poll-waiting": text("poll-waiting"),
            "ask-ended": text("ask-ended"),
            "question field": page.get_by_label("Pertanyaan Anda").is_visible(),
            "whatsapp switch": page.get_by_role("switch", name=WHATSAPP_SWITCH).is_visible(),
            "upvote enabled": upvote.is_enabled(),
            "presence note": page.locator("[data-presence]").is_visible(),
        }
    elif name == "projector":
        shown["join-text"] = text("join-text")
    else:
        shown |= {
            "current-poll-empty": text("current-poll-empty"),
            "polls-after-end": text("polls-after-end"),
        }
    return shown


@pytest.mark.parametrize("width", [360, 1366])
def test_the_live_pages_left_open_say_the_stage_ended_once_it_has(live_server, browser, width):
    """A stage running until half an hour from now; its online participant's live page, the control page
    and the projector open. The stage's end passes on the server's clock (its end moved before the
    server's now) and on the pages' (Playwright's clock, 50 minutes on, past the quarter of an hour the
    participant's presence is still taken): with no reload, each shows what the server draws for an
    ended stage (the control page's note names the end it was drawn with)."""
    now = datetime.now(UTC)
    drawn_end, moved_end = now + timedelta(minutes=30), now - timedelta(minutes=20)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title=f"{TITLE} (berakhir)")
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = now - timedelta(hours=1), drawn_end
        hall, remote = (
            factories.registration(session, program, status=Status.APPROVED, mode=mode, name=name)
            for mode, name in ((Mode.LURING, HALL), (Mode.DARING, REMOTE))
        )
        ensure_participant_user(session, remote.person)
        token = links.issue(remote, live_server.app.config["SECRET_KEY"])
        organiser = factories.staff(session, Role.PANITIA)
        question = live_services.ask(session, stage, hall, QUESTION, anonymous=False, now=now, per_minute=5)
        live_services.moderate(session, stage, question.id, "approve", "", actor=organiser, now=now)
        stage_id, slug, username = stage.id, program.slug, organiser.username
        moments = {
            end: i18n.format_datetime_long(end, "Asia/Jakarta", "id") for end in (drawn_end, moved_end)
        }

    def ended(name: str, end: datetime) -> dict:
        moment = moments[end]
        return {
            key: value.format(ended=moment) if isinstance(value, str) else value
            for key, value in LEFT_OPEN[name]["ended"].items()
        }

    with _clocked_live_pages(browser, live_server, width, (token, slug, username)) as pages:
        paths = {name: LIVE_PAGES[name][1].format(stage=stage_id) for name in pages}
        for name, page in pages.items():
            assert page.goto(paths[name]).status == 200
            expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
            assert _shown(page, name) == LEFT_OPEN[name]["running"]

        with live_server.session() as session:
            session.get_one(Stage, stage_id).ends_at = moved_end
        for name, page in pages.items():
            page.evaluate("() => { window.leftOpen = true; }")  # gone if the page reloads
            page.clock.fast_forward("50:00")
            expect(page.locator(".phase")).to_have_text("Selesai")
            # Its connection lapsed over the 50 minutes: back, the page still says no "Live".
            expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
            assert page.evaluate("() => window.leftOpen") is True
            assert _shown(page, name) == ended(name, drawn_end)
            _shot(page, f"{name}-left-open-ended-{width}")
            _looks_right(page, paths[name], width)
            page.reload()
            expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
            assert _shown(page, name) == ended(name, moved_end)


@contextlib.contextmanager
def _clocked_live_pages(
    browser: Browser, live_server: LiveServer, width: int, people: tuple[str, str, str]
) -> Iterator[dict[str, Page]]:
    """The participant's (by their personal link `token`, to the page of the programme `slug`), and the
    organiser's (`username`) control and projector pages' browsers, each on a clock the test moves
    (Playwright's), not yet on a live page."""
    token, slug, username = people
    contexts, pages = [], {}
    try:
        for name, who in (("participant", "daring"), ("control", "organiser"), ("projector", "organiser")):
            context = browser.new_context(
                base_url=live_server.url, locale="id-ID", timezone_id="Asia/Jakarta", **SCREENS[width]
            )
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            contexts.append(context)
            page = context.new_page()
            page.clock.install()
            if who == "daring":
                page.goto(f"/p/{token}")
                page.get_by_test_id("confirm-link").click()
                page.wait_for_url(f"**/saya/{slug}")
            else:
                log_in(page, username)
            pages[name] = page
        yield pages
    finally:
        for context in contexts:
            context.close()


@pytest.mark.parametrize("width", [360, 1366])
def test_the_live_pages_left_open_between_two_days_follow_the_next_day_s_start_and_end(
    live_server, browser, width
):
    """A stage of four one-hour days, from yesterday to the day after tomorrow, now between two of them;
    its online participant's live page, the control page and the projector open: the first two say
    when the stage resumes. On the pages' clock (Playwright's) the next day's start passes: with no
    reload they say the stage is in progress; then that day's end: they say when it resumes again (the
    projector says "Live" throughout). The second step is as far from now as from the first, so it
    lands after that day's end and before the following day's start whether or not a snapshot set the
    pages' server clock back meanwhile."""
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title=f"{TITLE} (empat hari)")
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = _between_days(now, 4)
        remote = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.DARING, name=REMOTE
        )
        ensure_participant_user(session, remote.person)
        token = links.issue(remote, live_server.app.config["SECRET_KEY"])
        organiser = factories.staff(session, Role.PANITIA)
        session.flush()
        days = stage_window(stage).days()
        assert len(days) == 4
        starts = [start for start, _end in days if start > now]
        assert len(starts) in (2, 3) and days[0][1] <= now  # between two days
        resumes = [
            f"Berlanjut {i18n.format_datetime_long(start, 'Asia/Jakarta', 'id')}" for start in starts[:2]
        ]
        stage_id, slug, username = stage.id, program.slug, organiser.username
    to_next_day = starts[0] - now
    steps = {
        "between": (None, resumes[0]),
        "next-day": (to_next_day + timedelta(minutes=2), "Sedang berlangsung"),
        "after-next-day": (to_next_day + timedelta(minutes=70), resumes[1]),
    }

    with _clocked_live_pages(browser, live_server, width, (token, slug, username)) as pages:
        paths = {name: LIVE_PAGES[name][1].format(stage=stage_id) for name in pages}
        for name, page in pages.items():
            assert page.goto(paths[name]).status == 200
            page.evaluate("() => { window.leftOpen = true; }")  # gone if the page reloads
        for step, (forward, mark) in steps.items():
            for name, page in pages.items():
                if forward is not None:
                    page.clock.fast_forward(int(forward.total_seconds() * 1000))
                if name == "projector":
                    expect(page.locator(".phase")).to_have_count(0)
                else:
                    expect(page.locator(".phase")).to_have_text(mark)
                expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
                assert page.evaluate(VISIBLE_BADGES) == (["Live"] if name == "projector" else ["Live", mark])
                assert page.evaluate("() => window.leftOpen") is True
                _shot(page, f"{name}-left-open-{step}-{width}")
                _looks_right(page, paths[name], width)


def test_the_downloads_hold_what_the_pages_promise(live_server, device, seeded, tmp_path):
    """The hall participant's certificate (a one-page PDF naming them), the organiser's attendance
    workbook (both participants, in Indonesian) and the participant's calendar (both stages, in WIB)."""
    participant = device("luring", 1366, "ended").request
    pdf = participant.get(f"/saya/{seeded['slugs']['ended']}/sertifikat.pdf")
    assert (pdf.status, pdf.headers["content-type"]) == (200, "application/pdf")
    (tmp_path / "sertifikat.pdf").write_bytes(pdf.body())
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-singlefile", tmp_path / "sertifikat.pdf", SHOTS / "certificate"],
        check=True,
    )
    text = subprocess.run(
        ["pdftotext", "-layout", tmp_path / "sertifikat.pdf", "-"], check=True, capture_output=True, text=True
    ).stdout
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    assert HALL in lines and "SERTIFIKAT" in lines and REMOTE not in text
    assert "hadir pada Tahap I (1 dari 2 tahap), 8 JP" in lines

    workbook = device("organiser", 1366).request.get(
        f"/admin/programs/{seeded['programs']['ended']}/attendance.xlsx"
    )
    assert workbook.status == 200
    (SHOTS / "attendance.xlsx").write_bytes(workbook.body())
    book = load_workbook(io.BytesIO(workbook.body()), read_only=True)
    assert book.sheetnames == ["Kehadiran", "Ringkasan"]
    # Nobody checked in nor joined online: absent at both stages (the certificate was issued by hand).
    # (The headers: tests/test_reports.py.)
    absent = ("Tidak hadir", 0, "Tidak hadir", 0)
    assert list(book["Kehadiran"].iter_rows(values_only=True))[1:] == [
        (number, name, "Kepala Bidang", "Dinas Komunikasi dan Informatika", None, *absent)
        for number, name in ((1, HALL), (2, REMOTE))
    ]
    assert list(book["Ringkasan"].iter_rows(values_only=True))[1:3] == [
        ("Tahap I", "Tahap ke-1", 1, 1, 0, 0, 0, 2, 0, 2),
        ("Tahap II", "Tahap ke-2", 1, 1, 0, 0, 0, 2, 0, 2),
    ]

    calendar = participant.get(f"/saya/{seeded['slugs']['ended']}/jadwal.ics")
    assert calendar.status == 200 and calendar.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(calendar.body()).walk("VEVENT")
    first, second = seeded["ended-starts"]
    assert [(str(event["SUMMARY"]), event.decoded("DTSTART")) for event in events] == [
        ("Tahap I: Tahap ke-1 (hari ke-1 dari 2)", first),
        ("Tahap I: Tahap ke-1 (hari ke-2 dari 2)", first + timedelta(days=1)),
        ("Tahap II: Tahap ke-2", second),
    ]
    assert {str(event["LOCATION"]) for event in events} == {"Aula Martua, Kantor Bupati, Tarutung"}
