"""Live Q&A and polls in Chromium: participants on phones, the facilitator's control panel and the
projector, kept in step over Socket.IO (issue 4, acceptance 2 and 3), plus the Q&A rules on the
participant page and the HTTP fallback without a socket.

UI strings made by the scripts are compared with the page's own translated texts (data-config),
so the checks hold whatever the catalog says; the pages run in Indonesian (locale id-ID)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from workshop.auth.models import Role
from workshop.live import services as live_services
from workshop.live.models import PollKind, ResultsVisibility
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(2)>"
PAYLOAD = f"{SCRIPT} {IMAGE}"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
LAPTOP = {"viewport": {"width": 1280, "height": 900}}
PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}
# What a browser logs by itself while its network is cut off (context.set_offline).
OFFLINE_NOISE = ("ERR_INTERNET_DISCONNECTED", "WebSocket connection to", "ERR_NETWORK_CHANGED")


@dataclass
class Person:
    token: str
    name: str


@dataclass
class Seeded:
    slug: str
    stage_id: int
    organiser: str
    people: dict[str, Person]
    poll_id: int
    options: dict[str, int]  # label -> option id


def _seed(live_server, *, title: str, people: dict, poll: live_services.PollDraft, open_poll: bool) -> Seeded:
    """A stage running now, approved participants with a personal link, a panitia and a poll."""
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title=title)
        stage = program.stages[0]
        stage.starts_at = now - timedelta(minutes=5)
        stage.ends_at = now + timedelta(hours=2)
        kecamatan = factories.organization(session, kind=OrgKind.KECAMATAN, name="Pagaran")
        orgs = {
            OrgKind.OPD: factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo"),
            OrgKind.KECAMATAN: kecamatan,
            OrgKind.DESA: factories.organization(
                session, kind=OrgKind.DESA, name="Lumban Siagian Jae", parent=kecamatan
            ),
        }
        tokens = {}
        for key, (name, mode, kind) in people.items():
            registration = factories.registration(
                session, program, status=Status.APPROVED, mode=mode, name=name, org=orgs[kind]
            )
            ensure_participant_user(session, registration.person)
            tokens[key] = Person(links.issue(registration, live_server.app.config["SECRET_KEY"]), name)
        organiser = factories.staff(session, Role.PANITIA)
        created = live_services.create_poll(session, stage, poll, actor=organiser)
        if open_poll:
            live_services.open_poll(session, created, actor=organiser, now=now)
        session.flush()
        return Seeded(
            slug=program.slug,
            stage_id=stage.id,
            organiser=organiser.username,
            people=tokens,
            poll_id=created.id,
            options={option.label: option.id for option in created.options},
        )


def _watch_dialogs(page: Page, dialogs: list[str]) -> None:
    def on_dialog(dialog) -> None:
        dialogs.append(f"{page.url}: {dialog.type} {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)


def _participant(new_context, seeded: Seeded, key: str, dialogs: list[str]) -> tuple[BrowserContext, Page]:
    """A participant's phone, logged in by the personal link, on the stage's live page."""
    context = new_context(**PHONE)
    page = context.new_page()
    _watch_dialogs(page, dialogs)
    page.goto(f"/p/{seeded.people[key].token}")
    page.get_by_test_id("confirm-link").click()
    page.wait_for_url(f"**/saya/{seeded.slug}")
    page.get_by_test_id("live-1").click()  # the personal page links to the stage's live page
    page.wait_for_url(f"**/live/{seeded.stage_id}")
    _expect_live(page)
    return context, page


def _staff(new_context, seeded: Seeded, view: str, dialogs: list[str], **options) -> Page:
    page = new_context(**options).new_page()
    _watch_dialogs(page, dialogs)
    log_in(page, seeded.organiser)
    page.goto(f"/live/{seeded.stage_id}/{view}")
    _expect_live(page)
    return page


def _expect_live(page: Page) -> None:
    """Socket connected, stage joined, snapshot shown."""
    expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")
    expect(page.locator("[data-live]")).to_have_attribute("data-version", re.compile(r"^\d+$"))


def _texts(page: Page) -> dict[str, str]:
    """The page's translated UI strings (workshop/live/texts.py), as its script got them."""
    return page.evaluate("JSON.parse(document.querySelector('[data-live]').dataset.config).text")


def _bar(page: Page, results: str, option_id: int):
    return page.locator(f"{results} .live-bar[data-key='{option_id}']")


def _queue_item(control: Page, text: str):
    return control.locator("[data-queue] .live-question").filter(has_text=text)


def _no_injected_markup(*pages: Page) -> None:
    for page in pages:
        assert page.locator("img[src='x']").count() == 0, page.url
        assert page.locator("[data-live] script").count() == 0, page.url


def test_questions_names_and_answers_with_markup_show_as_text_in_every_view(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Keamanan Tampilan",
        people={"asker": (f"Kades {PAYLOAD}", Mode.DARING, OrgKind.DESA)},
        poll=live_services.PollDraft(
            kind=PollKind.TEXT,
            question=f"Apa harapan Anda? {SCRIPT}",
        ),
        open_poll=True,
    )
    name = seeded.people["asker"].name
    _, phone = _participant(new_context, seeded, "asker", dialogs)
    control = _staff(new_context, seeded, "control", dialogs, **LAPTOP)
    projector = _staff(new_context, seeded, "projector", dialogs, **PROJECTOR)

    # An open-text answer with markup, sent from the phone.
    expect(phone.locator("[data-poll-question]")).to_have_text(f"Apa harapan Anda? {SCRIPT}")
    phone.locator("[data-answer-fields] textarea").fill(PAYLOAD)
    phone.locator("[data-answer-submit]").click()
    expect(phone.get_by_test_id("my-answer")).to_contain_text(PAYLOAD)
    expect(phone.locator("[data-results] .live-answer")).to_have_text([PAYLOAD])

    # A question with markup, from a person whose name has markup too.
    phone.locator("#live-question").fill(PAYLOAD)
    phone.locator("[data-ask-submit]").click()
    expect(phone.locator("[data-ask-ok]")).to_be_visible()
    expect(phone.locator("[data-my-questions] .live-question-text")).to_have_text([PAYLOAD])

    # The moderator sees it with the asker's name, as text, and approves it.
    pending = _queue_item(control, SCRIPT)
    expect(pending.locator(".live-question-text")).to_have_text(PAYLOAD)
    expect(pending.locator(".live-question-meta")).to_contain_text(name)
    expect(control.locator("[data-poll-row]")).to_contain_text(f"Apa harapan Anda? {SCRIPT}")
    expect(control.locator("[data-current-results] .live-answer")).to_have_text([PAYLOAD])
    pending.locator("[data-action=approve]").click()
    expect(_queue_item(control, SCRIPT)).to_have_attribute("data-status", "approved")

    # Shown to everyone: the projector and the participant page, literally.
    shown = projector.locator("[data-projector-questions] .live-question")
    expect(shown.locator(".live-question-text")).to_have_text([PAYLOAD])
    expect(shown.locator(".live-question-meta")).to_contain_text(name)
    expect(projector.locator("[data-projector-poll-question]")).to_have_text(f"Apa harapan Anda? {SCRIPT}")
    expect(projector.locator("[data-projector-results] .live-answer")).to_have_text([PAYLOAD])
    listed = phone.locator("[data-questions] .live-question")
    expect(listed.locator(".live-question-text")).to_have_text([PAYLOAD])
    expect(listed.locator(".live-question-meta")).to_contain_text(name)

    for page in (phone, control, projector):
        expect(page.get_by_text(SCRIPT).first).to_be_visible()
        expect(page.get_by_text(IMAGE).first).to_be_visible()
    _no_injected_markup(phone, control, projector)
    assert dialogs == []
    assert browser_problems.seen == []


def test_a_poll_and_a_question_go_live_from_the_panel_to_the_phones_and_the_projector(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Polling Langsung",
        people={
            "luring": ("Rina Simanjuntak", Mode.LURING, OrgKind.OPD),
            "daring": ("Kades Hutatoruan", Mode.DARING, OrgKind.DESA),
            "late": ("Camat Tarutung", Mode.DARING, OrgKind.KECAMATAN),
        },
        poll=live_services.PollDraft(
            kind=PollKind.SINGLE,
            question="Apa prioritas utama desa Anda?",
            options=["CCTV", "Wi-Fi publik", "Aplikasi layanan"],
        ),
        open_poll=False,
    )
    cctv, wifi = seeded.options["CCTV"], seeded.options["Wi-Fi publik"]
    control = _staff(new_context, seeded, "control", dialogs, **LAPTOP)
    projector = _staff(new_context, seeded, "projector", dialogs, **PROJECTOR)
    _, luring = _participant(new_context, seeded, "luring", dialogs)
    daring_context, daring = _participant(new_context, seeded, "daring", dialogs)
    _, late = _participant(new_context, seeded, "late", dialogs)
    expect(daring.get_by_test_id("poll-waiting")).to_be_visible()
    text = _texts(daring)

    # The facilitator opens the poll from the control panel; the phones show it without a reload.
    control.locator(f"[data-poll-row='{seeded.poll_id}'] [data-poll-action=open]").click()
    expect(control.locator(f"[data-poll-row='{seeded.poll_id}']")).to_have_attribute("data-status", "open")
    for phone in (luring, daring, late):
        expect(phone.locator("[data-poll-question]")).to_have_text("Apa prioritas utama desa Anda?")

    # A luring and a daring participant vote.
    luring.get_by_role("radio", name="CCTV").check()
    luring.locator("[data-answer-submit]").click()
    daring.get_by_role("radio", name="Wi-Fi publik").check()
    daring.locator("[data-answer-submit]").click()
    expect(luring.get_by_test_id("my-answer")).to_contain_text("CCTV")
    expect(daring.get_by_test_id("my-answer")).to_contain_text("Wi-Fi publik")
    voted = time.monotonic()

    # Within 2 s the projector shows both votes, with the right bars and the luring/daring split.
    results = "[data-projector-results]"
    fast = 2_000
    expect(_bar(projector, results, cctv).locator(".live-bar-count")).to_have_text("1", timeout=fast)
    expect(_bar(projector, results, wifi).locator(".live-bar-count")).to_have_text("1", timeout=fast)
    for option_id, luring_votes, daring_votes in ((cctv, "1", "0"), (wifi, "0", "1")):
        split = _bar(projector, results, option_id).locator(".live-bar-split")
        expect(split).to_have_attribute("data-luring", luring_votes, timeout=fast)
        expect(split).to_have_attribute("data-daring", daring_votes, timeout=fast)
    assert time.monotonic() - voted < 2.0
    widths = projector.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].map((bar) => [
            bar.dataset.key, bar.querySelector('.live-bar-luring').style.width,
            bar.querySelector('.live-bar-daring').style.width])""",
        f"{results} .live-bar",
    )
    assert widths == [
        [str(cctv), "100%", "0%"],
        [str(wifi), "0%", "100%"],
        [str(seeded.options["Aplikasi layanan"]), "0%", "0%"],
    ]
    summary = projector.locator(f"{results} .live-results-summary")
    expect(summary.locator(".live-total")).to_contain_text("2")
    expect(summary.locator(".live-luring")).to_have_text("Luring 1")
    expect(summary.locator(".live-daring")).to_have_text("Daring 1")
    expect(_bar(control, "[data-current-results]", cctv).locator(".live-bar-kinds")).to_have_text(
        "Perangkat daerah (OPD) 1"
    )

    # The daring phone loses its connection; meanwhile another vote comes in and the poll closes.
    daring.evaluate("window.liveNotReloaded = true")
    daring_context.set_offline(True)
    expect(daring.locator("[data-live-status]")).to_have_attribute("data-status", "offline")
    late.get_by_role("radio", name="CCTV").check()
    late.locator("[data-answer-submit]").click()
    expect(late.get_by_test_id("my-answer")).to_contain_text("CCTV")
    expect(_bar(projector, results, cctv).locator(".live-bar-count")).to_have_text("2")
    control.locator(f"[data-poll-row='{seeded.poll_id}'] [data-poll-action=close]").click()
    expect(control.locator(f"[data-poll-row='{seeded.poll_id}']")).to_have_attribute("data-status", "closed")
    expect(luring.locator("[data-poll]")).to_have_attribute("data-status", "closed")
    expect(daring.locator("[data-poll]")).to_have_attribute("data-status", "open")  # it has not heard
    expect(_bar(daring, "[data-results]", cctv).locator(".live-bar-count")).to_have_text("1")

    # Back online: the current state, without a reload.
    daring_context.set_offline(False)
    expect(daring.locator("[data-poll]")).to_have_attribute("data-status", "closed")
    expect(_bar(daring, "[data-results]", cctv).locator(".live-bar-count")).to_have_text("2")
    expect(daring.get_by_test_id("poll-closed")).to_be_visible()
    expect(daring.get_by_test_id("my-answer")).to_contain_text("Wi-Fi publik")
    expect(daring.locator("[data-answer-form]")).to_be_hidden()
    _expect_live(daring)
    assert daring.evaluate("window.liveNotReloaded") is True

    # A question asked on a phone is approved in the panel and appears on the projector.
    question = "Kapan CCTV desa mulai dipasang?"
    daring.locator("#live-question").fill(question)
    daring.locator("[data-ask-submit]").click()
    expect(daring.locator("[data-ask-ok]")).to_have_text(text["question_sent_pending"])
    expect(daring.locator("[data-my-questions] .live-question-status")).to_have_text([text["status_pending"]])
    expect(projector.locator("[data-projector-questions] .live-question")).to_have_count(0)
    pending = _queue_item(control, question)
    expect(pending).to_have_attribute("data-status", "pending")
    expect(pending.locator(".live-question-meta")).to_contain_text("Kades Hutatoruan")
    expect(control.get_by_test_id("count-questions-pending")).to_have_text("1")
    pending.locator("[data-action=approve]").click()
    shown = projector.locator("[data-projector-questions] .live-question")
    expect(shown.locator(".live-question-text")).to_have_text([question])
    expect(shown.locator(".live-question-meta")).to_have_text(
        "Kades Hutatoruan, Kepala Bidang, Lumban Siagian Jae, Kec. Pagaran"
    )
    expect(luring.locator("[data-questions] .live-question-text")).to_have_text([question])
    expect(daring.locator("[data-my-questions] .live-question-status")).to_have_text(
        [text["status_approved"]]
    )

    assert dialogs == []
    problems = [
        problem for problem in browser_problems.seen if not any(noise in problem for noise in OFFLINE_NOISE)
    ]
    assert problems == []


def test_asking_anonymously_upvoting_once_sorting_and_a_dismissal_with_its_reason(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Tanya Jawab",
        people={
            "asker": ("Rina Simanjuntak", Mode.LURING, OrgKind.OPD),
            "voter": ("Kades Hutatoruan", Mode.DARING, OrgKind.DESA),
        },
        poll=live_services.PollDraft(
            kind=PollKind.RATING,
            question="Seberapa bermanfaat sesi ini?",
            scale=5,
            results_visibility=ResultsVisibility.HIDDEN,
        ),
        open_poll=False,
    )
    control = _staff(new_context, seeded, "control", dialogs, **LAPTOP)
    _, asker = _participant(new_context, seeded, "asker", dialogs)
    _, voter = _participant(new_context, seeded, "voter", dialogs)
    text = _texts(asker)
    expect(asker.get_by_test_id("poll-waiting")).to_be_visible()

    # Three questions: the first anonymous; the counter counts down from 280.
    asker.locator("#live-question").fill("Siapa yang merawat CCTV desa?")
    expect(asker.locator("[data-ask-counter]")).to_have_text(text["chars_left"].replace("{count}", "251"))
    asker.locator("[data-ask-anonymous]").check()
    asker.locator("[data-ask-submit]").click()
    expect(asker.locator("[data-ask-ok]")).to_have_text(text["question_sent_pending"])
    for question in ("Apakah ada pelatihan lanjutan?", "Kapan aplikasi desa diluncurkan?"):
        asker.locator("#live-question").fill(question)
        asker.locator("[data-ask-submit]").click()
        expect(asker.locator("[data-my-questions] .live-question-text").first).to_have_text(question)
    # A fourth within the minute is refused by the rate limit; its message shows by the form.
    asker.locator("#live-question").fill("Satu lagi?")
    asker.locator("[data-ask-submit]").click()
    expect(asker.locator("[data-ask-error]")).to_be_visible()
    expect(asker.locator("[data-ask-error]")).not_to_be_empty()
    expect(asker.locator("#live-question")).to_have_value("Satu lagi?")

    # The moderator sees who asked even the anonymous one; approves two, dismisses one with a reason.
    anonymous = _queue_item(control, "Siapa yang merawat CCTV desa?")
    expect(anonymous.locator(".live-question-meta")).to_contain_text("Rina Simanjuntak")
    anonymous.locator("[data-action=approve]").click()
    expect(anonymous).to_have_attribute("data-status", "approved")
    _queue_item(control, "Apakah ada pelatihan lanjutan?").locator("[data-action=approve]").click()
    dismissed = _queue_item(control, "Kapan aplikasi desa diluncurkan?")
    dismissed.locator(".live-reason").fill("Sudah dijawab di sesi pagi")
    dismissed.locator("[data-action=dismiss]").click()
    expect(dismissed).to_have_attribute("data-status", "dismissed")

    # Participants see the approved ones, the anonymous one without a name.
    listed = voter.locator("[data-questions] .live-question")
    expect(listed).to_have_count(2)
    cctv = listed.filter(has_text="Siapa yang merawat CCTV desa?")
    expect(cctv.locator(".live-question-meta")).to_have_text(text["anonymous"])
    state = voter.request.get(f"/live/{seeded.stage_id}/state").json()
    assert [q["author"] for q in state["questions"] if q["text"] == "Siapa yang merawat CCTV desa?"] == [None]
    expect(voter.locator("[data-questions]")).not_to_contain_text("Kapan aplikasi desa diluncurkan?")

    # An upvote counts once; the button is then pressed and disabled. One's own cannot be upvoted.
    cctv.locator(".live-upvote").click()
    expect(cctv.locator(".live-upvote")).to_have_attribute("aria-pressed", "true")
    expect(cctv.locator(".live-upvote")).to_be_disabled()
    expect(cctv.locator(".live-upvote-count")).to_have_text("1")
    own = asker.locator("[data-questions] .live-question").filter(has_text="Siapa yang merawat CCTV desa?")
    expect(own.locator(".live-upvote-count")).to_have_text("1")
    expect(own.locator(".live-upvote")).to_be_disabled()

    # Popular first by default; recent puts the newer question first.
    order = voter.locator("[data-questions] .live-question-text")
    expect(order).to_have_text(["Siapa yang merawat CCTV desa?", "Apakah ada pelatihan lanjutan?"])
    voter.locator("[data-sort=recent]").click()
    expect(order).to_have_text(["Apakah ada pelatihan lanjutan?", "Siapa yang merawat CCTV desa?"])

    # The asker sees the dismissal and its reason under "my questions".
    mine = asker.locator("[data-my-questions] .live-question").filter(
        has_text="Kapan aplikasi desa diluncurkan?"
    )
    expect(mine.locator(".live-question-status")).to_have_text(text["status_dismissed"])
    expect(mine.locator(".live-question-reason")).to_have_text(
        text["reason"].replace("{reason}", "Sudah dijawab di sesi pagi")
    )

    for phone in (asker, voter):
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, phone.url
    assert dialogs == []
    assert browser_problems.seen == []


def test_without_a_socket_the_page_polls_and_sends_its_actions_over_http(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Tanpa Soket",
        people={"phone": ("Kades Sipoholon", Mode.DARING, OrgKind.DESA)},
        poll=live_services.PollDraft(
            kind=PollKind.SINGLE,
            question="Sinyal di kantor desa?",
            options=["Baik", "Lemah"],
        ),
        open_poll=True,
    )
    control = _staff(new_context, seeded, "control", dialogs, **LAPTOP)
    context = new_context(**PHONE)
    context.route("**/vendor/socket.io/**", lambda route: route.abort())  # a proxy that breaks it
    phone = context.new_page()
    _watch_dialogs(phone, dialogs)
    posts: list[str] = []
    live_prefix = f"{live_server.url}/live/"  # (the personal page's presence heartbeat is not ours)
    phone.on(
        "request",
        lambda request: (
            posts.append(request.url)
            if request.method == "POST" and request.url.startswith(live_prefix)
            else None
        ),
    )
    phone.goto(f"/p/{seeded.people['phone'].token}")
    phone.get_by_test_id("confirm-link").click()
    phone.wait_for_url(f"**/saya/{seeded.slug}")
    posts.clear()
    phone.goto(f"/live/{seeded.stage_id}")
    expect(phone.locator("[data-live-status]")).to_have_attribute("data-status", "polling")

    phone.get_by_role("radio", name="Lemah").check()
    phone.locator("[data-answer-submit]").click()
    expect(phone.get_by_test_id("my-answer")).to_contain_text("Lemah")
    phone.locator("#live-question").fill("Bisakah materi dikirim lewat email?")
    phone.locator("[data-ask-submit]").click()
    expect(phone.locator("[data-ask-ok]")).to_be_visible()
    assert [url.removeprefix(live_server.url) for url in posts] == [
        f"/live/{seeded.stage_id}/polls/{seeded.poll_id}/vote",
        f"/live/{seeded.stage_id}/questions",
    ]

    # Approved in the panel: the phone shows it at its next poll of the state, within 10 s.
    _queue_item(control, "Bisakah materi dikirim lewat email?").locator("[data-action=approve]").click()
    expect(phone.locator("[data-questions] .live-question-text")).to_have_text(
        ["Bisakah materi dikirim lewat email?"], timeout=12_000
    )
    expect(
        control.locator(
            f"[data-current-results] .live-bar[data-key='{seeded.options['Lemah']}'] .live-bar-count"
        )
    ).to_have_text("1")

    assert dialogs == []
    blocked = [problem for problem in browser_problems.seen if "socket.io" not in problem]
    assert blocked == []
