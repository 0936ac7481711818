"""Group work in Chromium (issue 17): a hall participant and an online participant of the same
group edit its output on their phones and each sees the other's save; the narasumber's projector
("Presentasi kelompok", 1366 px) shows both; only the online participant gets the breakout link;
a save from an old version says who changed the field meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from tests.browser.test_live import PHONE, _watch_dialogs
from workshop.auth.models import Role
from workshop.groups import services as group_services
from workshop.groups.models import GroupMode
from workshop.live import services as live_services
from workshop.live.models import PollKind, Question
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

pytestmark = pytest.mark.browser

SHOTS = "/tmp/bimtek-shots"
LAPTOP = {"viewport": {"width": 1366, "height": 768}}
BREAKOUT = "https://zoom.us/j/5550001111"
BRANDING_BREAKOUT = "https://zoom.us/j/5550002222"


def _seed(live_server):
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Kerja Kelompok")
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = now - timedelta(hours=1), now + timedelta(hours=6)
        desa = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan VII")
        opd = factories.organization(session, kind=OrgKind.OPD, name="Dinas Perdagangan")
        people = {}
        for key, name, mode, org in (
            ("hall", "Tiurma Situmorang", Mode.LURING, opd),
            ("online", "Kades Hutatoruan", Mode.DARING, desa),
        ):
            registration = factories.registration(
                session, program, status=Status.APPROVED, mode=mode, name=name, org=org
            )
            ensure_participant_user(session, registration.person)
            people[key] = (registration, links.issue(registration, live_server.app.config["SECRET_KEY"]))
        group_services.set_up(
            session, stage, dimensions=["economy", "living"], mode=GroupMode.ORGANISER, cap=None, actor=None
        )
        economy = next(g for g in group_services.groups_of(session, stage.id) if g.dimension == "economy")
        group_services.assign(session, stage, {r.id: economy.id for r, _token in people.values()}, actor=None)
        group_services.update_group(
            session, economy, leader_id=people["hall"][0].id, meeting_url=BREAKOUT, actor=None
        )
        narasumber = factories.staff(session, Role.NARASUMBER)
        session.flush()
        return {
            "slug": program.slug,
            "stage_id": stage.id,
            "username": narasumber.username,
            "tokens": {key: token for key, (_registration, token) in people.items()},
        }


def _phone(new_context, seeded, key: str, dialogs: list[str]) -> Page:
    page = new_context(**PHONE).new_page()
    _watch_dialogs(page, dialogs)
    page.goto(f"/p/{seeded['tokens'][key]}")
    page.get_by_test_id("confirm-link").click()
    page.wait_for_url(f"**/saya/{seeded['slug']}")
    return page


def _live(page: Page) -> None:
    expect(page.locator("[data-live-status]")).to_have_class("live-badge is-live")


def test_hall_and_online_members_edit_the_group_output_together_and_the_projector_shows_it(
    live_server, new_context, browser_problems
):
    seeded = _seed(live_server)
    dialogs: list[str] = []
    hall = _phone(new_context, seeded, "hall", dialogs)
    online = _phone(new_context, seeded, "online", dialogs)

    # The participant page: the group, its leader; the breakout link only for who joins online.
    expect(online.get_by_test_id("group-card-1")).to_contain_text("Kelompok Anda: Smart economy")
    expect(online.get_by_test_id("group-card-1")).to_contain_text("ketua: Tiurma Situmorang")
    expect(online.get_by_test_id("breakout-1")).to_have_attribute("href", BREAKOUT)
    expect(hall.get_by_test_id("group-card-1")).to_contain_text("Kelompok Anda: Smart economy")
    expect(hall.get_by_test_id("breakout-1")).to_have_count(0)
    online.screenshot(path=f"{SHOTS}/groups-my-page-360.png", full_page=True)

    for page in (hall, online):
        page.get_by_test_id("group-page-1").click()
        _live(page)

    projector = new_context(**LAPTOP).new_page()
    _watch_dialogs(projector, dialogs)
    log_in(projector, seeded["username"])
    projector.goto(f"/admin/stages/{seeded['stage_id']}/kelompok/presentasi")
    _live(projector)

    hall_problems = hall.get_by_test_id("output-problems")
    hall_problems.locator("textarea").fill("Pasar desa belum punya data harga")
    hall_problems.get_by_role("button", name="Simpan").click()
    expect(hall_problems.locator("[data-status]")).to_have_text("Tersimpan.")
    expect(online.get_by_test_id("output-problems").locator("textarea")).to_have_value(
        "Pasar desa belum punya data harga"
    )

    online_wins = online.get_by_test_id("output-quick_wins")
    online_wins.locator("textarea").fill("Grup WhatsApp harga komoditas")
    online_wins.get_by_role("button", name="Simpan").click()
    expect(online_wins.locator("[data-status]")).to_have_text("Tersimpan.")
    expect(hall.get_by_test_id("output-quick_wins").locator("textarea")).to_have_value(
        "Grup WhatsApp harga komoditas"
    )

    expect(projector.get_by_test_id("text-economy-problems")).to_have_text(
        "Pasar desa belum punya data harga"
    )
    expect(projector.get_by_test_id("text-economy-quick_wins")).to_have_text("Grup WhatsApp harga komoditas")
    projector.get_by_test_id("show-economy").click()
    expect(projector.get_by_test_id("slide-living")).to_be_hidden()
    expect(projector.get_by_test_id("slide-economy")).to_be_visible()

    # Both write the programmes field at once: the online participant saves first; the hall
    # participant, still writing, is told who changed it, and the save from the old version keeps
    # both texts in the field to merge by hand.
    hall_programmes = hall.get_by_test_id("output-programmes")
    hall_programmes.locator("textarea").fill("Aplikasi pasar desa")
    online_programmes = online.get_by_test_id("output-programmes")
    online_programmes.locator("textarea").fill("Pelatihan BUMDes")
    online_programmes.get_by_role("button", name="Simpan").click()
    expect(online_programmes.locator("[data-status]")).to_have_text("Tersimpan.")
    expect(hall_programmes.locator("[data-status]")).to_contain_text(
        "Kades Hutatoruan mengubah kolom ini sementara itu"
    )
    expect(hall_programmes.locator("textarea")).to_have_value("Aplikasi pasar desa")
    hall_programmes.get_by_role("button", name="Simpan").click()
    expect(hall_programmes.locator("[data-status]")).to_contain_text("Kades Hutatoruan mengubah kolom ini")
    expect(hall_programmes.locator("textarea")).to_have_value(
        "Pelatihan BUMDes\n\nTeks Anda (belum tersimpan):\nAplikasi pasar desa"
    )
    expect(projector.get_by_test_id("text-economy-programmes")).to_have_text("Pelatihan BUMDes")

    hall.screenshot(path=f"{SHOTS}/groups-hall-360.png", full_page=True)
    online.screenshot(path=f"{SHOTS}/groups-online-360.png", full_page=True)
    projector.get_by_test_id("show-all").click()
    projector.screenshot(path=f"{SHOTS}/groups-projector-1366.png", full_page=True)
    assert projector.evaluate("document.documentElement.scrollWidth") <= 1366
    assert dialogs == []
    # The refused save (409) is the one error the browser logs by itself.
    assert [problem for problem in browser_problems.seen if "(CONFLICT)" not in problem] == []
    assert len(browser_problems.seen) == 1


def test_a_group_asks_and_votes_in_its_own_room_and_the_control_panel_filters_by_group(
    live_server, new_context, browser_problems
):
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Tanya Jawab Kelompok")
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = now - timedelta(hours=1), now + timedelta(hours=6)
        opd = factories.organization(session, kind=OrgKind.OPD, name="Dinas Pariwisata")
        people = {}
        for key, name, mode in (
            ("hall", "Lamhot Sinaga", Mode.LURING),
            ("online", "Kades Sipoholon", Mode.DARING),
            ("other", "Camat Siborongborong", Mode.DARING),
        ):
            registration = factories.registration(
                session, program, status=Status.APPROVED, mode=mode, name=name, org=opd
            )
            ensure_participant_user(session, registration.person)
            people[key] = (registration, links.issue(registration, live_server.app.config["SECRET_KEY"]))
        group_services.set_up(
            session, stage, dimensions=["branding", "living"], mode=GroupMode.ORGANISER, cap=None, actor=None
        )
        branding, living = group_services.groups_of(session, stage.id)
        group_services.assign(
            session,
            stage,
            {
                people["hall"][0].id: branding.id,
                people["online"][0].id: branding.id,
                people["other"][0].id: living.id,
            },
            actor=None,
        )
        group_services.update_group(
            session, branding, leader_id=people["hall"][0].id, meeting_url=BRANDING_BREAKOUT, actor=None
        )
        narasumber = factories.staff(session, Role.NARASUMBER)
        organiser = factories.staff(session, Role.PANITIA)
        live_services.update_settings(
            session, stage, questions_moderated=False, anonymous_allowed=True, actor=narasumber
        )
        poll = live_services.create_poll(
            session,
            stage,
            live_services.PollDraft(
                kind=PollKind.SINGLE,
                question="Ikon wisata utama?",
                options=["Danau", "Salib Kasih"],
                group_id=branding.id,
            ),
            actor=narasumber,
        )
        live_services.open_poll(session, poll, actor=narasumber, now=now)
        session.flush()
        seeded = {
            "slug": program.slug,
            "stage_id": stage.id,
            "username": narasumber.username,
            "tokens": {key: token for key, (_registration, token) in people.items()},
            "branding": branding.id,
            "organiser": organiser.username,
            "other": people["other"][0].id,
        }

    dialogs: list[str] = []
    phones = {key: _phone(new_context, seeded, key, dialogs) for key in ("hall", "online", "other")}
    for page in phones.values():
        page.goto(f"/live/{seeded['stage_id']}")
        expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
    expect(phones["online"].get_by_test_id("live-group")).to_contain_text("Smart branding")
    ask_group = phones["other"].locator("label:has([data-testid=ask-group])")
    expect(phones["other"].get_by_test_id("live-group")).to_have_text(
        "Kelompok Anda: Smart living Hasil kerja kelompok kami"
    )
    expect(ask_group).to_have_text("Tanya ke kelompok saya saja (Smart living)")

    # The group's poll: its members answer it; the other group's member does not see it.
    expect(phones["other"].get_by_test_id("poll-waiting")).to_be_visible()
    hall = phones["hall"]
    expect(hall.locator("[data-poll-question]")).to_contain_text("Ikon wisata utama?")
    expect(hall.locator("[data-poll-question] .live-tag-group")).to_have_text("Smart branding")
    hall.get_by_role("radio", name="Danau").check()
    hall.locator("[data-answer-submit]").click()
    expect(hall.locator("[data-answer-mine]")).to_contain_text("Danau")

    # A question to the group: the other member sees it tagged, the other group does not.
    hall.locator("[data-ask-text]").fill("Siapa yang memotret ikon wisata?")
    hall.get_by_test_id("ask-group").check()
    hall.locator("[data-ask-submit]").click()
    shown = phones["online"].locator("[data-questions] .live-question")
    expect(shown.locator(".live-question-text")).to_have_text(["Siapa yang memotret ikon wisata?"])
    expect(shown.locator(".live-tag-group")).to_have_text("Smart branding")
    phones["other"].locator("[data-ask-text]").fill("Pertanyaan untuk semua")
    phones["other"].locator("[data-ask-submit]").click()
    expect(phones["online"].locator("[data-questions] .live-question-text")).to_have_text(
        ["Pertanyaan untuk semua", "Siapa yang memotret ikon wisata?"]
    )
    expect(phones["other"].locator("[data-questions] .live-question-text")).to_have_text(
        ["Pertanyaan untuk semua"]
    )

    control = new_context(**LAPTOP).new_page()
    _watch_dialogs(control, dialogs)
    log_in(control, seeded["username"])
    control.goto(f"/live/{seeded['stage_id']}/control")
    queue = control.locator("[data-queue] .live-question-text")
    expect(queue).to_have_count(2)
    control.get_by_test_id("group-filter").select_option(str(seeded["branding"]))
    expect(queue).to_have_text(["Siapa yang memotret ikon wisata?"])
    control.get_by_test_id("group-filter").select_option("plenary")
    expect(queue).to_have_text(["Pertanyaan untuk semua"])
    control.screenshot(path=f"{SHOTS}/groups-control-1366.png", full_page=True)
    hall.screenshot(path=f"{SHOTS}/groups-live-hall-360.png", full_page=True)

    # The organiser moves the other member into Smart branding: their open page follows at once.
    admin = new_context(**LAPTOP).new_page()
    _watch_dialogs(admin, dialogs)
    log_in(admin, seeded["organiser"])
    admin.goto(f"/admin/stages/{seeded['stage_id']}/kelompok")
    admin.get_by_test_id(f"member-{seeded['other']}").select_option(str(seeded["branding"]))
    admin.get_by_test_id("save-members").click()
    expect(admin.locator(".flash, [role=alert], [role=status]").first).to_contain_text("1")
    other = phones["other"]
    expect(other.locator("[data-questions] .live-question-text")).to_have_text(
        ["Pertanyaan untuk semua", "Siapa yang memotret ikon wisata?"]
    )
    expect(other.locator("[data-poll-question]")).to_contain_text("Ikon wisata utama?")
    # Its page names the new group at once, as a reload would: the group, its leader, the breakout
    # link (it joins online) and "ask my group only", which now asks Smart branding.
    expect(other.get_by_test_id("live-group")).to_have_text(
        "Kelompok Anda: Smart branding · ketua: Lamhot Sinaga "
        "Masuk ruang diskusi kelompok (breakout) Hasil kerja kelompok kami"
    )
    expect(other.get_by_test_id("live-breakout")).to_have_attribute("href", BRANDING_BREAKOUT)
    expect(ask_group).to_have_text("Tanya ke kelompok saya saja (Smart branding)")
    expect(other.get_by_test_id("ask-group")).not_to_be_checked()
    hall.locator("[data-ask-text]").fill("Kapan rapat kelompok berikutnya?")
    hall.get_by_test_id("ask-group").check()
    hall.locator("[data-ask-submit]").click()
    expect(other.locator("[data-questions] .live-question-text")).to_have_text(
        ["Kapan rapat kelompok berikutnya?", "Pertanyaan untuk semua", "Siapa yang memotret ikon wisata?"]
    )
    other.screenshot(path=f"{SHOTS}/groups-live-moved-360.png", full_page=True)
    other.locator("[data-ask-text]").fill("Siapa pencatat kelompok kita?")
    other.get_by_test_id("ask-group").check()
    other.locator("[data-ask-submit]").click()
    asked = hall.locator("[data-questions] .live-question", has_text="Siapa pencatat kelompok kita?")
    expect(asked.locator(".live-tag-group")).to_have_text("Smart branding")
    with live_server.session() as session:
        question = session.scalars(
            select(Question).where(Question.text == "Siapa pencatat kelompok kita?")
        ).one()
        assert question.group_id == seeded["branding"]
    other.set_viewport_size(LAPTOP["viewport"])
    expect(other.get_by_test_id("live-group")).to_contain_text("Smart branding")
    other.screenshot(path=f"{SHOTS}/groups-live-moved-1366.png", full_page=True)
    assert other.evaluate("document.documentElement.scrollWidth") <= 1366

    # Moved out of every group: nothing on the page names one any more.
    admin.get_by_test_id(f"member-{seeded['other']}").select_option("none")
    admin.get_by_test_id("save-members").click()
    expect(other.get_by_test_id("live-group")).to_have_count(0)
    expect(other.get_by_test_id("ask-group")).to_have_count(0)
    assert dialogs == []
    assert browser_problems.seen == []
