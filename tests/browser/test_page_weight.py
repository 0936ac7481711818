"""The participant's pages stay light on a cheap phone over slow mobile data (issue 13), measured
through the real server in its default mode (`python app.py`) in Chromium: the bytes on the wire come
from the browser's own network events (headers and compressed bodies), not from a sum of files.

Budgets, each page loaded with an empty cache: the live page 60 KB, the participant's personal page
40 KB; on Slow 3G (400 kbps, 400 ms latency) with a 4x slower CPU at 390x844, the live page can be
voted on. A second visit downloads only the page and its state. How soon it can be voted on (within
3 s, issue 13) is a time, which this shared machine's load stretches: bench/slow_phone.py measures it
and docs/benchmarks.md records it, beside the same page behind nginx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.network import PHONE_390, Transfer
from workshop.auth.models import Role
from workshop.live import services as live_services
from workshop.live.models import PollKind, QuestionStatus, ResultsVisibility
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

pytestmark = pytest.mark.browser

LIVE_PAGE_BUDGET = 60 * 1024
PARTICIPANT_PAGE_BUDGET = 40 * 1024
SLOW_LOAD_TIMEOUT_MS = 30_000  # what the slow network may take for the rest (the socket client)

# Notes when the current poll can first be answered: an option is shown and enabled. Runs before the
# page's own scripts (an init script), so it sees the moment the page's script builds the form.
VOTABLE_PROBE = """
(() => {
  const votable = () => {
    const input = document.querySelector("[data-answer-fields] input");
    return Boolean(input && !input.disabled && input.offsetParent !== null);
  };
  const observer = new MutationObserver(() => {
    if (window.votableAt === undefined && votable()) {
      window.votableAt = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true });
})();
"""


def _seed(live_server, starts_in: timedelta = timedelta(minutes=-10)) -> tuple[str, int, str]:
    """A stage (running now by default) with an open poll, five shown questions and an online
    participant (their personal page then records presence: the heaviest case). Returns (slug,
    stage, token)."""
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Sinyal Lemah")
        stage = program.stages[0]
        stage.starts_at = now + starts_in
        stage.ends_at = stage.starts_at + timedelta(hours=3)
        registration = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.DARING, name="Kades Parbubu"
        )
        ensure_participant_user(session, registration.person)
        token = links.issue(registration, live_server.app.config["SECRET_KEY"])
        organiser = factories.staff(session, Role.PANITIA)
        live_services.update_settings(
            session, stage, questions_moderated=False, anonymous_allowed=True, actor=organiser
        )
        for number in range(5):
            asker = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
            question = live_services.ask(
                session,
                stage,
                asker,
                f"Pertanyaan nomor {number + 1}: bagaimana jaringan internet desa akan dibangun?",
                anonymous=False,
                now=now,
                per_minute=10,
            )
            assert question.status == QuestionStatus.APPROVED
        poll = live_services.create_poll(
            session,
            stage,
            live_services.PollDraft(
                kind=PollKind.SINGLE,
                question="Layanan mana yang paling dibutuhkan desa Anda?",
                options=["Internet desa", "Aplikasi surat", "CCTV"],
                results_visibility=ResultsVisibility.LIVE,
            ),
            actor=organiser,
        )
        live_services.open_poll(session, poll, actor=organiser, now=now)
        return program.slug, stage.id, token


def _signed_in(new_context, slug: str, token: str) -> dict:
    """The cookies of a participant who confirmed their personal link (on another profile, so
    that the pages measured start with an empty cache)."""
    context = new_context(**PHONE_390)
    page = context.new_page()
    page.goto(f"/p/{token}")
    page.get_by_test_id("confirm-link").click()
    page.wait_for_url(f"**/saya/{slug}")
    return context.storage_state()


def _cold_phone(new_context, storage_state: dict) -> Page:
    return new_context(storage_state=storage_state, **PHONE_390).new_page()


def _expect_live(page: Page, timeout: int = 10_000) -> None:
    expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live", timeout=timeout)


def test_the_cold_live_page_transfers_under_60_kb_and_fetches_its_state_once(live_server, new_context):
    slug, stage_id, token = _seed(live_server)
    page = _cold_phone(new_context, _signed_in(new_context, slug, token))
    transfer = Transfer.watch(page)

    page.goto(f"/live/{stage_id}")
    _expect_live(page)  # the socket client loaded too, and the stage joined
    expect(page.locator("[data-questions] .live-question")).to_have_count(5)
    page.wait_for_load_state("networkidle")

    assert transfer.total <= LIVE_PAGE_BUDGET, f"{transfer.total} bytes:\n{transfer.table()}"
    state_fetches = [response for response in transfer.responses.values() if response.path.endswith("/state")]
    assert len(state_fetches) == 1, transfer.table()
    static = [response for response in transfer.responses.values() if response.path.startswith("/static/")]
    assert static and all(response.encoding == "br" for response in static), transfer.table()


def test_the_cold_participant_page_transfers_under_40_kb_while_a_stage_is_on(live_server, new_context):
    slug, _stage_id, token = _seed(live_server)
    page = _cold_phone(new_context, _signed_in(new_context, slug, token))
    transfer = Transfer.watch(page)

    page.goto(f"/saya/{slug}")
    # The stage is on: the page connects for live notices and presence (the socket client loaded).
    expect(page.locator("[data-live-notices]")).to_have_attribute("data-connected", "true")
    page.wait_for_load_state("networkidle")

    assert transfer.total <= PARTICIPANT_PAGE_BUDGET, f"{transfer.total} bytes:\n{transfer.table()}"
    socket_clients = [
        response for response in transfer.responses.values() if "socket.io.min" in response.path
    ]
    assert len(socket_clients) == 1, transfer.table()


def test_the_participant_page_loads_no_socket_client_when_no_stage_is_on(live_server, new_context):
    slug, _stage_id, token = _seed(live_server, starts_in=timedelta(days=3))
    page = _cold_phone(new_context, _signed_in(new_context, slug, token))
    transfer = Transfer.watch(page)

    page.goto(f"/saya/{slug}")
    page.wait_for_load_state("networkidle")

    paths = [response.path for response in transfer.responses.values()]
    assert not [path for path in paths if "socket.io" in path], transfer.table()
    expect(page.locator("[data-live-notices]")).not_to_have_attribute("data-connected", "true")


def test_a_second_visit_downloads_only_the_pages_and_the_live_state(live_server, new_context):
    slug, stage_id, token = _seed(live_server)
    page = _cold_phone(new_context, _signed_in(new_context, slug, token))
    for path in (f"/saya/{slug}", f"/live/{stage_id}"):  # the first visit fills the cache
        page.goto(path)
        page.wait_for_load_state("networkidle")
    _expect_live(page)
    transfer = Transfer.watch(page)

    page.goto(f"/saya/{slug}")
    page.wait_for_load_state("networkidle")
    page.goto(f"/live/{stage_id}")
    _expect_live(page)
    page.wait_for_load_state("networkidle")

    fetched = [
        response.path
        for response in transfer.from_network()
        if not response.path.startswith(("/socket.io/", "/checkin/"))  # the live connection, presence
    ]
    assert fetched == [f"/saya/{slug}", f"/live/{stage_id}", f"/live/{stage_id}/state"], transfer.table()


def test_on_slow_3g_the_cold_live_page_becomes_votable_and_takes_a_vote(live_server, new_context):
    slug, stage_id, token = _seed(live_server)
    page = _cold_phone(new_context, _signed_in(new_context, slug, token))
    page.add_init_script(VOTABLE_PROBE)
    transfer = Transfer.watch(page)
    transfer.emulate_slow_phone()

    page.goto(f"/live/{stage_id}", timeout=SLOW_LOAD_TIMEOUT_MS)
    page.wait_for_function("window.votableAt !== undefined", timeout=SLOW_LOAD_TIMEOUT_MS)
    _expect_live(page, timeout=SLOW_LOAD_TIMEOUT_MS)  # and it goes live after that

    page.get_by_role("radio", name="Internet desa").check()
    page.locator("[data-answer-submit]").click()
    expect(page.get_by_test_id("my-answer")).to_contain_text("Internet desa", timeout=SLOW_LOAD_TIMEOUT_MS)
