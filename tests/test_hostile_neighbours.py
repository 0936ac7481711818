"""Hostile requests beside good ones, at the same moment, against the real server (`python app.py`,
gevent, Socket.IO; SQLite or PostgreSQL as BIMTEK_TEST_DATABASE says).

Twenty participants each log in with their personal link, vote over Socket.IO, ask a question over
HTTP and hand in their agency's assignment rows, while the petugas checks each of them in at the
hall desk. At the same time a participant and a petugas of the same programme (and one stranger
without a session) send what a broken or malicious client sends: malformed JSON, ids beyond any row
(2^63, 10^30, -1), text of control characters only, an oversized body, a wrong CSRF token, socket
events with payloads of the wrong shape.

Afterwards every good action is in the database exactly once and as sent, none of the bad ones
left a trace; each bad one was answered with a 4xx (or an error ack) carrying the Indonesian
message for what was wrong; the server logged no 500 and no traceback and still answers.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from tests import factories, serving
from tests.browser.conftest import running_server
from workshop.assignments import services as assignments
from workshop.assignments.models import LatePolicy, Submission
from workshop.auth.models import Role
from workshop.checkin.models import CheckIn
from workshop.live import services as live
from workshop.live.actions import ERROR_MESSAGES
from workshop.live.models import PollKind, PollVote, Question
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Status
from workshop.registration.services import ensure_participant_user
from workshop.web import JSON_ERRORS

GOOD = 20
JSON = {"Content-Type": "application/json", "Accept": "application/json"}
HUGE = (2**63, 10**30)  # beyond any row (the largest id is 2^63-1 on SQLite, 2^31-1 on PostgreSQL)


@dataclass
class World:
    url: str
    stage_id: int
    poll_id: int
    options: list[int]
    assignment_id: int
    slug: str
    tokens: list[str]  # the good participants' personal links, in registration order
    registration_ids: list[int]
    organization_ids: list[int]
    codes: list[str]  # their ticket codes
    hostile_token: str
    hostile_registration: int
    hostile_organization: int
    petugas: str
    hostile_petugas: str


def _seed(server) -> World:
    now = datetime.now(UTC)
    secret_key = server.app.config["SECRET_KEY"]
    with server.session() as session:
        program = factories.program(session, stages=2)
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = now - timedelta(hours=1), now + timedelta(hours=6)
        people = []
        for number in range(GOOD + 1):
            org = factories.organization(session, kind=OrgKind.OPD, name=f"Dinas Uji {number + 1:02d}")
            registration = factories.registration(session, program, status=Status.APPROVED, org=org)
            ensure_participant_user(session, registration.person)
            people.append(registration)
        *good, hostile = people
        organiser = factories.staff(session, Role.PANITIA)
        petugas, hostile_petugas = (
            factories.staff(session, Role.PETUGAS),
            factories.staff(session, Role.PETUGAS),
        )
        poll = live.create_poll(
            session,
            stage,
            live.PollDraft(kind=PollKind.SINGLE, question="Siap?", options=["Ya", "Belum", "Ragu"]),
            actor=organiser,
        )
        live.open_poll(session, poll, actor=organiser, now=now)
        assignment = assignments.save_assignment(
            session,
            program,
            None,
            stage=stage,
            title="Analisis kondisi",
            instructions="",
            deadline=now + timedelta(days=3),
            late_policy=LatePolicy.REFUSE,
            wants_rows=True,
            wants_file=False,
            kinds=[OrgKind.OPD],
            picked_ids=[],
            reviewer=None,
            actor=organiser,
        )
        return World(
            url=server.url,
            stage_id=stage.id,
            poll_id=poll.id,
            options=[option.id for option in poll.options],
            assignment_id=assignment.id,
            slug=program.slug,
            tokens=[links.issue(registration, secret_key) for registration in good],
            registration_ids=[registration.id for registration in good],
            organization_ids=[registration.person.organization_id for registration in good],
            codes=[registration.ticket_code for registration in good],
            hostile_token=links.issue(hostile, secret_key),
            hostile_registration=hostile.id,
            hostile_organization=hostile.person.organization_id,
            petugas=petugas.username,
            hostile_petugas=hostile_petugas.username,
        )


# -- clients ------------------------------------------------------------------------------------


def _csrf(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def _post(browser: serving.Browser, path: str, body: bytes, headers: dict) -> tuple[int, str]:
    request = urllib.request.Request(browser.base_url + path, data=body, headers=headers, method="POST")
    try:
        with browser.opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def _participant(world: World, token: str) -> tuple[serving.Participant, str]:
    """Logged in with the personal link; the CSRF token of its live page."""
    browser = serving.Participant(world.url)
    browser.log_in_with_link(token)
    return browser, _csrf(browser.get(f"/live/{world.stage_id}").read().decode())


def _staff(world: World, username: str) -> tuple[serving.Browser, str]:
    browser = serving.Browser(world.url)
    browser.log_in(username, factories.PASSWORD)
    return browser, _csrf(browser.get(f"/checkin/stages/{world.stage_id}").read().decode())


def _client_id() -> str:
    return f"t-{uuid.uuid4().hex}"


def _rows(number: int) -> dict[str, dict[str, str]]:
    return {
        "governance": {
            "problem": f"Data OPD {number} tersebar di banyak aplikasi.",
            "innovation": f"Portal Satu Data {number}",
            "owner": f"Dinas Uji {number + 1:02d}",
            "year": "2022",
        }
    }


def _good_participant(world: World, number: int) -> dict:
    """Log in, vote over Socket.IO, ask over HTTP, hand in the rows: what each step answered."""
    browser, csrf = _participant(world, world.tokens[number])
    socket = browser.socket()
    try:
        _, joined = socket.emit("join_stage", {"stage_id": world.stage_id}, timeout=30)
        vote = {
            "stage_id": world.stage_id,
            "poll_id": world.poll_id,
            "client_id": _client_id(),
            "answer": {"option_ids": [world.options[number % 3]]},
        }
        _, voted = socket.emit("vote", vote, timeout=30)
    finally:
        socket.close()
    question = {"text": f"Pertanyaan peserta {number}?", "client_id": _client_id()}
    asked = _post(
        browser,
        f"/live/{world.stage_id}/questions",
        json.dumps(question).encode(),
        JSON | {"X-CSRFToken": csrf},
    )
    form = {"csrf_token": csrf} | {
        f"{dimension}-{name}": value
        for dimension, row in _rows(number).items()
        for name, value in row.items()
    }
    handed_in = _post(
        browser,
        f"/saya/{world.slug}/tugas/{world.assignment_id}",
        urllib.parse.urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": world.url},
    )
    return {"joined": joined, "voted": voted, "asked": asked, "handed_in": handed_in[0]}


def _check_in_everyone(world: World) -> list[tuple[int, dict]]:
    desk, csrf = _staff(world, world.petugas)
    answers = []
    for number, code in enumerate(world.codes):
        scan = {"code": code, "desk": "Meja 1", "nonce": f"scan-{number:04d}-good", "method": "typed"}
        status, body = _post(
            desk,
            f"/api/stages/{world.stage_id}/checkin",
            json.dumps(scan).encode(),
            JSON | {"X-CSRFToken": csrf},
        )
        answers.append((status, json.loads(body)))
    return answers


# -- the hostile clients --------------------------------------------------------------------------


def _hostile_http(world: World) -> list[tuple[str, int, dict]]:
    """(case, status, JSON answer) of each bad HTTP request of the hostile participant and petugas."""
    browser, csrf = _participant(world, world.hostile_token)
    headers = JSON | {"X-CSRFToken": csrf}
    ask = f"/live/{world.stage_id}/questions"
    vote = {"client_id": _client_id(), "answer": {"option_ids": [world.options[0]]}}
    cases: list[tuple[str, serving.Browser, str, bytes, dict]] = [
        ("malformed json", browser, ask, b'{"text": "Apa kabar?", "client_id": ', headers),
        ("control bytes", browser, ask, json.dumps({"text": "\x00\x01\x1b\x7f\u200b", "client_id": _client_id()}).encode(), headers),
        ("oversized body", browser, ask, json.dumps({"text": "x" * 200_000, "client_id": _client_id()}).encode(), headers),
        ("wrong csrf", browser, ask, json.dumps({"text": "Halo?", "client_id": _client_id()}).encode(), JSON | {"X-CSRFToken": "palsu"}),
        ("no session", serving.Browser(world.url), ask, json.dumps({"text": "Halo?", "client_id": _client_id()}).encode(), JSON),
        ("vote no client id", browser, f"/live/{world.stage_id}/polls/{world.poll_id}/vote", json.dumps({"answer": {"option_ids": [world.options[0]]}}).encode(), headers),
        ("vote unknown option", browser, f"/live/{world.stage_id}/polls/{world.poll_id}/vote", json.dumps(vote | {"answer": {"option_ids": [2**63]}}).encode(), headers),
        ("upvote -1", browser, f"/live/{world.stage_id}/questions/-1/upvote", json.dumps({"client_id": _client_id()}).encode(), headers),
    ]  # fmt: skip
    for huge in HUGE:
        cases += [
            (f"vote poll {huge}", browser, f"/live/{world.stage_id}/polls/{huge}/vote", json.dumps(vote).encode(), headers),
            (f"ask stage {huge}", browser, f"/live/{huge}/questions", json.dumps({"text": "Halo?", "client_id": _client_id()}).encode(), headers),
        ]  # fmt: skip
    desk, desk_csrf = _staff(world, world.hostile_petugas)
    scan = f"/api/stages/{world.stage_id}/checkin"
    desk_headers = JSON | {"X-CSRFToken": desk_csrf}
    cases += [
        ("scan malformed json", desk, scan, b'{"code": "AB', desk_headers),
        ("scan not an object", desk, scan, b"[1, 2, 3]", desk_headers),
        ("scan long code", desk, scan, json.dumps({"code": "Z" * 500, "desk": "Meja 9", "nonce": "hostile-1", "method": "typed"}).encode(), desk_headers),
        ("scan bad nonce", desk, scan, json.dumps({"code": world.codes[0], "desk": "Meja 9", "nonce": "\x00", "method": "typed"}).encode(), desk_headers),
        ("scan wrong csrf", desk, scan, json.dumps({"code": world.codes[0], "desk": "Meja 9", "nonce": "hostile-2", "method": "typed"}).encode(), JSON | {"X-CSRFToken": "palsu"}),
        (f"scan stage {HUGE[0]}", desk, f"/api/stages/{HUGE[0]}/checkin", b"{}", desk_headers),
    ]  # fmt: skip
    answers = []
    for case, client, path, body, case_headers in cases:
        status, text = _post(client, path, body, case_headers)
        answers.append((case, status, json.loads(text)))
    form = {"csrf_token": csrf, "governance-problem": "x" * 5000, "economy-year": "\x00" * 30}
    status, page = _post(
        browser,
        f"/saya/{world.slug}/tugas/{world.assignment_id}",
        urllib.parse.urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": world.url},
    )
    answers.append(("rows too long", status, {"page": page}))
    return answers


def _hostile_socket(world: World) -> list[tuple[str, dict | None]]:
    """(case, ack) of each bad socket event of the hostile participant."""
    browser, _csrf_token = _participant(world, world.hostile_token)
    socket = browser.socket()
    try:
        _, joined = socket.emit("join_stage", {"stage_id": world.stage_id}, timeout=30)
        assert joined["ok"] is True, joined
        vote = {
            "stage_id": world.stage_id,
            "poll_id": world.poll_id,
            "client_id": _client_id(),
            "answer": {"option_ids": [world.options[0]]},
        }
        cases = [
            ("vote stage 2^63", "vote", vote | {"stage_id": 2**63}),
            ("vote poll 10^30", "vote", vote | {"poll_id": 10**30}),
            ("vote poll -1", "vote", vote | {"poll_id": -1}),
            ("vote option 2^63", "vote", vote | {"answer": {"option_ids": [2**63]}}),
            ("vote answer a string", "vote", vote | {"answer": "Ya"}),
            ("vote a list", "vote", [world.stage_id, world.poll_id]),
            ("ask a string", "ask", "Apa kabar?"),
            ("ask control bytes", "ask", {"stage_id": world.stage_id, "client_id": _client_id(), "text": "\x00\x08\x1b"}),
            ("ask text a list", "ask", {"stage_id": world.stage_id, "client_id": _client_id(), "text": ["a"]}),
            ("upvote question 10^30", "upvote", {"stage_id": world.stage_id, "client_id": _client_id(), "question_id": 10**30}),
            ("moderate as participant", "moderate", {"stage_id": world.stage_id, "client_id": _client_id(), "question_id": 1, "action": "approve"}),
        ]  # fmt: skip
        acks = [(case, socket.emit(event, data, timeout=30)[1]) for case, event, data in cases]
        # An event nobody handles is dropped; the connection stays usable.
        socket.send("drop_tables", {"stage_id": world.stage_id})
        _, again = socket.emit("join_stage", {"stage_id": world.stage_id}, timeout=30)
        acks.append(("join after an unknown event", again))
    finally:
        socket.close()
    return acks


# -- the test -------------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path, make_database_url):
    with running_server(tmp_path, make_database_url("hostile")) as server:
        yield server


def _translated(app, message: str) -> str:
    """`message` (an English msgid) in Indonesian, checked to be a translation."""
    with app.test_request_context(), force_locale("id"):
        text = gettext(message)
    assert text != message, f"no Indonesian for {message!r}"
    return text


def test_hostile_requests_beside_twenty_good_participants_change_nothing_but_their_own_answers(server):
    world = _seed(server)
    live_text = {code: message._args[0] for code, message in ERROR_MESSAGES.items()}
    page_text = {code: str(message._args[0]) for code, message in JSON_ERRORS.values()}

    started = threading.Barrier(GOOD + 3)

    def together(work, *args):
        started.wait(timeout=60)
        return work(*args)

    with ThreadPoolExecutor(max_workers=GOOD + 3) as pool:
        good = [pool.submit(together, _good_participant, world, number) for number in range(GOOD)]
        desk = pool.submit(together, _check_in_everyone, world)
        hostile_http = pool.submit(together, _hostile_http, world)
        hostile_socket = pool.submit(together, _hostile_socket, world)
        good_answers = [future.result(timeout=180) for future in good]
        desk_answers = desk.result(timeout=180)
        http_answers = hostile_http.result(timeout=180)
        socket_answers = hostile_socket.result(timeout=180)

    # Every good action was accepted ...
    for answer in good_answers:
        assert answer["joined"]["ok"] is True, answer
        assert answer["voted"]["ok"] is True, answer
        assert answer["asked"][0] == 200, answer
        assert answer["handed_in"] == 302, answer
    assert [(status, body["colour"]) for status, body in desk_answers] == [(200, "green")] * GOOD

    # ... and is in the database exactly once, as sent; nothing of the hostile clients is.
    with server.session() as session:
        votes = session.execute(select(PollVote.registration_id, PollVote.answer)).tuples().all()
        assert sorted(votes) == [
            (registration, {"option_ids": [world.options[number % 3]]})
            for number, registration in enumerate(world.registration_ids)
        ]
        questions = session.execute(select(Question.registration_id, Question.text)).tuples().all()
        assert sorted(questions) == [
            (registration, f"Pertanyaan peserta {number}?")
            for number, registration in enumerate(world.registration_ids)
        ]
        checked_in = session.scalars(select(CheckIn.registration_id)).all()
        assert sorted(checked_in) == world.registration_ids
        submissions = session.scalars(select(Submission).order_by(Submission.organization_id)).all()
        assert [submission.organization_id for submission in submissions] == world.organization_ids
        assert [submission.latest.rows for submission in submissions] == [_rows(n) for n in range(GOOD)]

    # Each bad request got a 4xx and the Indonesian words for what was wrong.
    app = server.app
    http = {case: (status, body) for case, status, body in http_answers}
    expected_live = {
        "malformed json": (400, "invalid"),  # no client id survives a body that is not JSON
        "control bytes": (400, "empty"),
        "vote no client id": (400, "invalid"),
        "vote unknown option": (400, "invalid"),
    }
    for case, (status, code) in expected_live.items():
        assert http[case] == (
            status,
            {"ok": False, "error": code, "message": _translated(app, live_text[code])},
        ), case
    expected_page = {
        "oversized body": 413,
        "upvote -1": 404,
        **{f"vote poll {huge}": 404 for huge in HUGE},
        **{f"ask stage {huge}": 404 for huge in HUGE},
        f"scan stage {HUGE[0]}": 404,
    }
    for case, status in expected_page.items():
        code, message = {400: "bad_request", 404: "not_found", 413: "too_large"}[status], None
        message = _translated(app, page_text[code])
        assert http[case] == (status, {"error": code, "message": message}), case
    expired = _translated(app, "The page has expired. Reload it and try again.")
    assert http["wrong csrf"] == (400, {"error": "csrf", "message": expired})
    assert http["scan wrong csrf"] == (400, {"error": "csrf", "message": expired})
    assert http["no session"] == (400, {"error": "csrf", "message": expired})  # no session, no token
    expected_scan = {
        "scan malformed json": ("bad_json", "The request is not valid JSON."),
        "scan not an object": ("bad_scan", "A scan must be a JSON object."),
        "scan long code": ("bad_code", "The code is too long."),
        "scan bad nonce": ("bad_nonce", "The scan has no valid identifier (nonce)."),
    }
    for case, (code, message) in expected_scan.items():
        assert http[case] == (400, {"error": code, "message": _translated(app, message)}), case
    status, page = http["rows too long"][0], http["rows too long"][1]["page"]
    assert status == 400
    # WTForms' message, from the app's catalog (WTForms has no Indonesian of its own).
    assert page.count("Paling banyak 2000 karakter.") == 1

    acks = dict(socket_answers)
    expected_acks = {
        "vote stage 2^63": "invalid",
        "vote poll 10^30": "invalid",
        "vote poll -1": "invalid",
        "vote option 2^63": "invalid",
        "vote answer a string": "invalid",
        "vote a list": "invalid",
        "ask a string": "invalid",
        "ask control bytes": "empty",
        "ask text a list": "empty",
        "upvote question 10^30": "unknown_question",
        "moderate as participant": "moderators_only",
    }
    for case, code in expected_acks.items():
        assert acks[case] == {"ok": False, "error": code, "message": _translated(app, live_text[code])}, case
    assert acks["join after an unknown event"]["ok"] is True

    # No 500, no traceback; the server still answers.
    log = server.log()
    assert "Traceback" not in log
    assert not re.search(r'HTTP/1\.[01]" 5\d\d ', log), log
    assert server.alive()
    status, health = serving.get_json(f"{world.url}/healthz")
    assert (status, health["status"]) == (200, "ok")
