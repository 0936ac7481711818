"""Nothing a participant does on the live page is lost when the network drops (issue 13): an answer,
a question or an upvote made offline waits on the page as "waiting for connection", is sent once
when the connection returns (with the client id it got when it was made), and the page then shows
it counted, with no stale error left next to the green badge."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import Page, WebSocket, expect
from sqlalchemy import func, select

from tests.browser.test_live import OFFLINE_NOISE, _participant, _seed, _texts
from workshop.auth.models import User
from workshop.live import services as live_services
from workshop.live.models import PollKind, PollVote, Question, QuestionUpvote
from workshop.programs.models import OrgKind, Stage
from workshop.registration.models import Mode

pytestmark = pytest.mark.browser

OFFLINE_SECONDS = 30
BACK_ONLINE_TIMEOUT_MS = 30_000  # a socket that went stale offline may take its ack time-out (8 s)


class Sends:
    """Every live action the page sent, over HTTP or as a Socket.IO event, by name."""

    def __init__(self, page: Page, stage_id: int):
        self.sent: list[str] = []
        prefix = f"/live/{stage_id}/"
        page.on("request", lambda request: self._http(request.method, request.url, prefix))
        page.on("websocket", self._socket)

    def _http(self, method: str, url: str, prefix: str) -> None:
        if method == "POST" and prefix in url:
            action = url.rsplit("/", 1)[-1]  # .../polls/<id>/vote, .../questions, .../questions/<id>/upvote
            self.sent.append("ask" if action == "questions" else action)

    def _socket(self, socket: WebSocket) -> None:
        socket.on("framesent", self._frame)

    def _frame(self, payload) -> None:
        # Socket.IO event with an ack: 42<ack id>["name", {...}]
        text = payload if isinstance(payload, str) else payload.decode(errors="replace")
        if text.startswith("42"):
            body = text[2:].lstrip("0123456789")
            event = json.loads(body)[0]
            if event in ("vote", "ask", "upvote"):
                self.sent.append(event)


def _stored(live_server, model, **where) -> int:
    with live_server.session() as session:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return session.scalar(query)


def test_a_vote_tapped_offline_is_sent_once_when_the_connection_returns_and_shows_counted(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Sinyal Putus",
        people={"phone": ("Kades Siatas Barita", Mode.DARING, OrgKind.DESA)},
        poll=live_services.PollDraft(
            kind=PollKind.SINGLE, question="Sinyal di kantor desa?", options=["Baik", "Lemah"]
        ),
        open_poll=True,
    )
    context, phone = _participant(new_context, seeded, "phone", dialogs)
    text = _texts(phone)
    sends = Sends(phone, seeded.stage_id)
    status = phone.locator("[data-live-status]")

    context.set_offline(True)
    expect(status).to_have_attribute("data-status", "offline")
    phone.get_by_role("radio", name="Lemah").check()
    phone.locator("[data-answer-submit]").click()

    # Not refused: the answer waits, marked as such, and nothing went out.
    expect(phone.get_by_test_id("my-answer")).to_contain_text("Lemah")
    expect(phone.locator("[data-answer-mine] [data-pending]")).to_have_text(text["answer_queued"])
    expect(phone.locator("[data-answer-error]")).to_be_hidden()
    time.sleep(OFFLINE_SECONDS)
    assert sends.sent == []
    assert _stored(live_server, PollVote, poll_id=seeded.poll_id) == 0

    context.set_offline(False)
    expect(phone.locator("[data-answer-mine] [data-pending]")).to_have_count(
        0, timeout=BACK_ONLINE_TIMEOUT_MS
    )
    lemah = phone.locator(f"[data-results] .live-bar[data-key='{seeded.options['Lemah']}'] .live-bar-count")
    expect(lemah).to_have_text("1")
    expect(phone.get_by_test_id("my-answer")).to_contain_text("Lemah")
    expect(status).to_have_attribute("data-status", "live", timeout=BACK_ONLINE_TIMEOUT_MS)
    expect(phone.locator("[data-answer-error]")).to_be_hidden()

    assert _stored(live_server, PollVote, poll_id=seeded.poll_id) == 1
    assert sends.sent == ["vote"]
    assert dialogs == []
    assert [
        problem for problem in browser_problems.seen if not any(n in problem for n in OFFLINE_NOISE)
    ] == []


def test_a_question_and_an_upvote_made_offline_wait_and_are_sent_once_online(
    live_server, new_context, browser_problems
):
    dialogs: list[str] = []
    seeded = _seed(
        live_server,
        title="Bimtek Tanya Tanpa Sinyal",
        people={
            "asker": ("Camat Tarutung", Mode.LURING, OrgKind.KECAMATAN),
            "phone": ("Kades Hutagalung", Mode.DARING, OrgKind.DESA),
        },
        poll=live_services.PollDraft(kind=PollKind.SINGLE, question="Hadir?", options=["Ya", "Tidak"]),
        open_poll=False,
    )
    with live_server.session() as session:
        stage = session.get(Stage, seeded.stage_id)
        organiser = session.scalar(select(User).where(User.username == seeded.organiser))
        live_services.update_settings(
            session, stage, questions_moderated=False, anonymous_allowed=True, actor=organiser
        )
    _asker_context, asker = _participant(new_context, seeded, "asker", dialogs)
    asked = "Apakah materi tahap I dibagikan?"
    asker.locator("#live-question").fill(asked)
    asker.locator("[data-ask-submit]").click()
    expect(asker.locator("[data-ask-ok]")).to_be_visible()
    with live_server.session() as session:
        first_id = session.scalar(select(Question.id).where(Question.text == asked))
    context, phone = _participant(new_context, seeded, "phone", dialogs)
    text = _texts(phone)
    sends = Sends(phone, seeded.stage_id)
    question = phone.locator(f"[data-questions] [data-question-id='{first_id}']")
    expect(question).to_be_visible()

    context.set_offline(True)
    expect(phone.locator("[data-live-status]")).to_have_attribute("data-status", "offline")
    question.locator(".live-upvote").click()
    expect(question.locator("[data-pending]")).to_have_text(text["waiting_for_connection"])
    expect(question.locator(".live-upvote")).to_have_attribute("aria-pressed", "true")
    mine = "Kapan jaringan fiber masuk ke desa kami?"
    phone.locator("#live-question").fill(mine)
    phone.locator("[data-ask-submit]").click()
    expect(phone.locator("[data-ask-ok]")).to_have_text(text["question_queued"])
    expect(phone.locator("#live-question")).to_have_value("")
    waiting = phone.locator("[data-my-questions] [data-pending]")
    expect(waiting.locator(".live-question-status")).to_have_text([text["waiting_for_connection"]])
    expect(waiting.locator(".live-question-text")).to_have_text([mine])
    assert sends.sent == []

    context.set_offline(False)
    expect(waiting).to_have_count(0, timeout=BACK_ONLINE_TIMEOUT_MS)
    expect(phone.locator("[data-my-questions] .live-question-text")).to_have_text([mine])
    expect(question.locator("[data-pending]")).to_have_count(0)
    expect(question.locator(".live-upvote-count")).to_have_text("1")
    assert sends.sent == ["upvote", "ask"]  # in the order they were made, once each
    assert _stored(live_server, Question, text=mine) == 1
    assert _stored(live_server, QuestionUpvote, question_id=first_id) == 1
    assert dialogs == []
    assert [
        problem for problem in browser_problems.seen if not any(n in problem for n in OFFLINE_NOISE)
    ] == []
