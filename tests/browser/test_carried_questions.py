"""A question carried from Tahap I in Chromium (issue 17): Tahap I has ended with an approved,
unanswered question; the narasumber's control page of Tahap II shows it first, marked "dari Tahap I",
and so do the hall participant's and the online participant's phones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from tests.browser.test_live import LAPTOP, PHONE, _expect_live, _watch_dialogs
from workshop.auth.models import Role
from workshop.live import services as live_services
from workshop.live.models import Question, QuestionStatus
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

pytestmark = pytest.mark.browser

SHOTS = "/tmp/bimtek-shots"
CARRIED = "Kapan jaringan fiber sampai ke desa kami?"
NEW = "Apakah pelatihan admin desa ada lagi?"


def test_a_question_carried_from_tahap_i_shows_first_with_its_origin_on_tahap_ii(
    live_server, new_context, browser_problems
):
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=2, title="Bimtek Tahap Berlanjut")
        tahap_i, tahap_ii = program.stages
        tahap_i.starts_at, tahap_i.ends_at = now - timedelta(days=2), now - timedelta(hours=1)
        tahap_ii.starts_at, tahap_ii.ends_at = now - timedelta(minutes=5), now + timedelta(hours=3)
        desa = factories.organization(
            session, kind=OrgKind.DESA, name="Parbubu Dolok"
        )  # not the registration test's village: the browser server is shared
        opd = factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")
        people = {}
        for key, name, mode, org in (
            ("online", "Kades Parbubu Dolok", Mode.DARING, desa),
            ("hall", "Rina Simanjuntak", Mode.LURING, opd),
        ):
            registration = factories.registration(
                session, program, status=Status.APPROVED, mode=mode, name=name, org=org
            )
            ensure_participant_user(session, registration.person)
            people[key] = (registration, links.issue(registration, live_server.app.config["SECRET_KEY"]))
        narasumber = factories.staff(session, Role.NARASUMBER)
        asked_then = now - timedelta(days=1)
        old = live_services.ask(
            session, tahap_i, people["online"][0], CARRIED, anonymous=False, now=asked_then, per_minute=5
        )
        live_services.moderate(session, tahap_i, old.id, "approve", None, actor=narasumber, now=asked_then)
        live_services.upvote(session, tahap_i, people["hall"][0], old.id, asked_then)
        new = live_services.ask(
            session, tahap_ii, people["hall"][0], NEW, anonymous=False, now=now, per_minute=5
        )
        live_services.moderate(session, tahap_ii, new.id, "approve", None, actor=narasumber, now=now)
        session.flush()
        slug, stage_id, username = program.slug, tahap_ii.id, narasumber.username
        tahap_i_id = tahap_i.id
        tokens = {key: token for key, (_registration, token) in people.items()}

    dialogs: list[str] = []
    control = new_context(**LAPTOP).new_page()
    _watch_dialogs(control, dialogs)
    log_in(control, username)
    control.goto(f"/live/{stage_id}/control")  # the first read of Tahap II carries the question
    _expect_live(control)
    queue = control.locator("[data-queue] .live-question")
    expect(queue.locator(".live-question-text")).to_have_text([CARRIED, NEW])
    expect(queue.first.locator(".live-tag-origin")).to_have_text("dari Tahap I")
    expect(queue.first.locator(".live-upvotes")).to_contain_text("1")
    expect(queue.first.locator(".live-question-meta")).to_contain_text("Kades Parbubu Dolok")
    expect(queue.nth(1).locator(".live-tag-origin")).to_have_count(0)

    phones = {}
    for key in ("hall", "online"):
        page = new_context(**PHONE).new_page()
        _watch_dialogs(page, dialogs)
        page.goto(f"/p/{tokens[key]}")
        page.get_by_test_id("confirm-link").click()
        page.wait_for_url(f"**/saya/{slug}")
        page.goto(f"/live/{stage_id}")
        _expect_live(page)
        shown = page.locator("[data-questions] .live-question")
        expect(shown.locator(".live-question-text")).to_have_text([CARRIED, NEW])
        expect(shown.first.locator(".live-tag-origin")).to_have_text("dari Tahap I")
        phones[key] = page
    # The supporter of Tahap I still supports it: the upvote came along.
    expect(
        phones["hall"].locator("[data-questions] .live-question").first.locator(".live-upvote")
    ).to_have_attribute("aria-pressed", "true")

    # Tahap I, ended: the question says where it went.
    ended = control.context.new_page()
    ended.goto(f"/live/{tahap_i_id}/control")
    _expect_live(ended)
    expect(ended.locator("[data-queue] .live-question").first.locator(".live-tag-carry")).to_have_text(
        "dibawa ke Tahap II"
    )
    expect(ended.locator("[data-queue] .live-question").first.locator("[data-action=carry]")).to_have_count(0)
    ended.screenshot(path=f"{SHOTS}/carried-ended-control-1366.png", full_page=True)
    control.screenshot(path=f"{SHOTS}/carried-control-1366.png", full_page=True)
    control.set_viewport_size(PHONE["viewport"])
    control.screenshot(path=f"{SHOTS}/carried-control-360.png", full_page=True)
    phones["online"].screenshot(path=f"{SHOTS}/carried-phone-360.png", full_page=True)
    assert dialogs == []
    assert browser_problems.seen == []


def test_the_narasumber_marks_a_question_for_the_next_stage_and_takes_the_mark_back(
    live_server, new_context, browser_problems
):
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=2, title="Bimtek Tanda Tahap Berikutnya")
        tahap_i, tahap_ii = program.stages
        tahap_i.starts_at, tahap_i.ends_at = now - timedelta(hours=1), now + timedelta(hours=3)
        tahap_ii.starts_at, tahap_ii.ends_at = now + timedelta(weeks=2), now + timedelta(weeks=2, hours=8)
        asker = factories.registration(session, program, status=Status.APPROVED, name="Kades Siualuompu")
        narasumber = factories.staff(session, Role.NARASUMBER)
        question = live_services.ask(session, tahap_i, asker, CARRIED, anonymous=False, now=now, per_minute=5)
        stage_id, question_id, username = tahap_i.id, question.id, narasumber.username

    dialogs: list[str] = []
    control = new_context(**LAPTOP).new_page()
    _watch_dialogs(control, dialogs)
    log_in(control, username)
    control.goto(f"/live/{stage_id}/control")
    _expect_live(control)
    item = control.locator(f"[data-queue] .live-question[data-question-id='{question_id}']")

    item.get_by_role("button", name="Bahas di tahap berikutnya").click()
    expect(item.locator(".live-tag-carry")).to_have_text("Ke tahap berikutnya")
    expect(item.get_by_role("button", name="Bahas di tahap berikutnya")).to_have_count(0)
    item.get_by_role("button", name="Bahas di tahap ini").click()
    expect(item.locator(".live-tag-carry")).to_have_count(0)
    expect(item.get_by_role("button", name="Bahas di tahap berikutnya")).to_be_visible()
    expect(item.locator(".live-status-approved")).to_be_visible()  # still shown to everyone
    with live_server.session() as session:
        stored = session.get(Question, question_id)
        assert (stored.status, stored.carry_over) == (QuestionStatus.APPROVED, False)
    assert dialogs == []
    assert browser_problems.seen == []
