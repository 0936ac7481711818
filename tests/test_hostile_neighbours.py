"""Hostile requests beside good ones, at the same moment, against the real server (`python app.py`,
gevent, Socket.IO; SQLite or PostgreSQL as BIMTEK_TEST_DATABASE says).

Twenty participants each log in with their personal link, vote over Socket.IO, ask a question over
HTTP and hand in their agency's assignment rows, while the petugas checks each of them in at the
hall desk; five of them are in groups (two groups of the stage): each saves a field of the group's
output and asks their question to the group. Six more vote and ask by WhatsApp reply, through
Fonnte's webhook and Meta's signed one. At the same time a participant (a member of a group) and a
petugas of the same programme, a participant in no group, one stranger without a session and a
forged gateway send what a broken or malicious client sends: malformed JSON, ids beyond any row
(2^63, 10^30, -1), text of control characters only, an oversized body, a wrong CSRF token, socket
events with payloads of the wrong shape, a stale or oversized group output, a question to another
group, webhooks with a wrong token or signature, junk, a repeated message id, unknown numbers all
at once (exactly WHATSAPP_STRANGER_REPLIES_PER_HOUR of them answered): tests/hostile_whatsapp.py.

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
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from tests import factories, hostile_whatsapp, serving
from tests.browser.conftest import running_server
from workshop.assignments import services as assignments
from workshop.assignments.models import LatePolicy, Submission
from workshop.auth.models import Role
from workshop.checkin.models import CheckIn
from workshop.groups import services as groups
from workshop.groups.models import OUTPUT_FIELDS, GroupMode, GroupOutput
from workshop.live import services as live
from workshop.live.actions import ERROR_MESSAGES
from workshop.live.models import PollKind, PollVote, Question
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user
from workshop.reminders.models import Delivery, Kind
from workshop.web import JSON_ERRORS
from workshop.whatsapp.models import InboundMessage

GOOD = 20
GROUPED = 5  # the first five good participants: three in the economy group, two in living's
WA = 6  # participants who vote and ask by WhatsApp reply only
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
    names: list[str]  # the good participants'
    group_ids: list[int | None]  # each good participant's group (the first GROUPED), else None
    economy_id: int
    living_id: int  # the hostile participant's group too
    outsider_token: str  # a participant in no group
    hostile_phone: str
    wa_phones: list[str]
    wa_registration_ids: list[int]


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
        wa_people = [
            factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
            for _ in range(WA)
        ]
        outsider = factories.registration(session, program, status=Status.APPROVED)
        for registration in [*wa_people, outsider]:  # as their approval made them
            ensure_participant_user(session, registration.person)
        groups.set_up(
            session, stage, dimensions=["economy", "living"], mode=GroupMode.ORGANISER, cap=None, actor=None
        )
        economy, living = groups.groups_of(session, stage.id)
        group_ids = [economy.id] * 3 + [living.id] * (GROUPED - 3)
        members = {registration.id: group for registration, group in zip(good, group_ids, strict=False)}
        groups.assign(session, stage, members | {hostile.id: living.id}, actor=None)
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
            names=[registration.person.name for registration in good],
            group_ids=group_ids + [None] * (GOOD - GROUPED),
            economy_id=economy.id,
            living_id=living.id,
            outsider_token=links.issue(outsider, secret_key),
            hostile_phone=hostile.person.phone,
            wa_phones=[registration.person.phone for registration in wa_people],
            wa_registration_ids=[registration.id for registration in wa_people],
        )


# -- clients ------------------------------------------------------------------------------------


def _csrf(page: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


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


def _output(number: int) -> tuple[str, str]:
    """The field of the group's output good participant `number` saves, and their text."""
    return OUTPUT_FIELDS[number % 3], f"Usulan kelompok dari peserta {number}."


def _good_participant(world: World, number: int) -> dict:
    """Log in, vote over Socket.IO, ask over HTTP (to their group, if in one), hand in the rows,
    save their field of the group's output: what each step answered."""
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
    group_id = world.group_ids[number]
    question = {"text": f"Pertanyaan peserta {number}?", "client_id": _client_id()}
    if group_id is not None:
        question["group_id"] = group_id
    asked = serving.post(
        browser,
        f"/live/{world.stage_id}/questions",
        json.dumps(question).encode(),
        JSON | {"X-CSRFToken": csrf},
    )
    saved = None
    if group_id is not None:
        field, text = _output(number)
        status, body = serving.post(
            browser,
            f"/saya/{world.slug}/kelompok/{world.stage_id}/hasil",
            json.dumps({"field": field, "text": text, "version": 0}).encode(),
            JSON | {"X-CSRFToken": csrf},
        )
        saved = (status, json.loads(body))
    form = {"csrf_token": csrf} | {
        f"{dimension}-{name}": value
        for dimension, row in _rows(number).items()
        for name, value in row.items()
    }
    handed_in = serving.post(
        browser,
        f"/saya/{world.slug}/tugas/{world.assignment_id}",
        urllib.parse.urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": world.url},
    )
    return {"joined": joined, "voted": voted, "asked": asked, "handed_in": handed_in[0], "saved": saved}


def _good_whatsapp(world: World, number: int) -> list[tuple[int, dict]]:
    """WhatsApp participant `number` votes and asks through the gateway's webhook."""
    gateway = serving.Browser(world.url)
    answers = []
    for message in hostile_whatsapp.good_messages(world.wa_phones[number], number):
        status, body = serving.post(gateway, *message)
        answers.append((status, json.loads(body)))
    return answers


def _check_in_everyone(world: World) -> list[tuple[int, dict]]:
    desk, csrf = _staff(world, world.petugas)
    answers = []
    for number, code in enumerate(world.codes):
        scan = {"code": code, "desk": "Meja 1", "nonce": f"scan-{number:04d}-good", "method": "typed"}
        status, body = serving.post(
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
    output = f"/saya/{world.slug}/kelompok/{world.stage_id}/hasil"
    field = {"field": "programmes", "text": "Usulan penyusup.", "version": 0}  # a field no one else saves
    outsider, outsider_csrf = _participant(world, world.outsider_token)
    cases += [
        ("output stale version", browser, output, json.dumps(field | {"version": 7}).encode(), headers),
        ("output too long", browser, output, json.dumps(field | {"text": "x" * 4001}).encode(), headers),
        ("output version 10^30", browser, output, json.dumps(field | {"version": 10**30}).encode(), headers),
        ("output version true", browser, output, json.dumps(field | {"version": True}).encode(), headers),
        ("output no such field", browser, output, json.dumps(field | {"field": "\x00"}).encode(), headers),
        ("output oversized body", browser, output, json.dumps(field | {"text": "x" * 70_000}).encode(), headers),
        ("output wrong csrf", browser, output, json.dumps(field).encode(), JSON | {"X-CSRFToken": "palsu"}),
        ("ask another group", browser, ask, json.dumps({"text": "Halo?", "client_id": _client_id(), "group_id": world.economy_id}).encode(), headers),
        ("output by a non-member", outsider, output, json.dumps(field).encode(), JSON | {"X-CSRFToken": outsider_csrf}),
        ("ask a group as a non-member", outsider, ask, json.dumps({"text": "Halo?", "client_id": _client_id(), "group_id": world.living_id}).encode(), JSON | {"X-CSRFToken": outsider_csrf}),
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
        status, text = serving.post(client, path, body, case_headers)
        answers.append((case, status, json.loads(text)))
    form = {"csrf_token": csrf, "governance-problem": "x" * 5000, "economy-year": "\x00" * 30}
    status, page = serving.post(
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
        ask = {"stage_id": world.stage_id, "text": "Halo kelompok?"}
        for label, group_id in [
            ("2^63", 2**63),
            ("10^30", 10**30),
            ("-1", -1),
            ("true", True),
            ("as text", str(world.living_id)),
            ("of another", world.economy_id),
        ]:
            cases.append((f"ask group {label}", "ask", ask | {"client_id": _client_id(), "group_id": group_id}))  # fmt: skip
        acks = [(case, socket.emit(event, data, timeout=30)[1]) for case, event, data in cases]
        # An event nobody handles is dropped; the connection stays usable.
        socket.send("drop_tables", {"stage_id": world.stage_id})
        _, again = socket.emit("join_stage", {"stage_id": world.stage_id}, timeout=30)
        acks.append(("join after an unknown event", again))
    finally:
        socket.close()
    return acks


def _hostile_whatsapp(world: World) -> list[tuple[str, int, dict]]:
    """(case, status, JSON answer) of what a forger or a broken gateway posts to the webhooks."""
    gateway = serving.Browser(world.url)
    answers = []
    for case, message in hostile_whatsapp.hostile_messages(world.hostile_phone, world.wa_phones):
        status, body = serving.post(gateway, *message)
        answers.append((case, status, json.loads(body)))
    return answers


# -- the test -------------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path, make_database_url):
    database = make_database_url("hostile")
    cap = str(hostile_whatsapp.STRANGER_CAP)
    with running_server(tmp_path, database, WHATSAPP_STRANGER_REPLIES_PER_HOUR=cap) as server:
        yield server


CHANGED = (
    "%(name)s changed this field meanwhile: their text is shown; your text is kept below it, "
    "copy what you need and save again."
)


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

    workers = GOOD + WA + 4 + len(hostile_whatsapp.FLOOD)
    started = threading.Barrier(workers)

    def together(work, *args):
        started.wait(timeout=60)
        return work(*args)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        good = [pool.submit(together, _good_participant, world, number) for number in range(GOOD)]
        by_whatsapp = [pool.submit(together, _good_whatsapp, world, number) for number in range(WA)]
        desk = pool.submit(together, _check_in_everyone, world)
        hostile_http = pool.submit(together, _hostile_http, world)
        hostile_socket = pool.submit(together, _hostile_socket, world)
        hostile_gateway = pool.submit(together, _hostile_whatsapp, world)
        flood = [
            pool.submit(
                together, serving.post, serving.Browser(world.url), *hostile_whatsapp.flood_message(number)
            )
            for number in range(len(hostile_whatsapp.FLOOD))
        ]
        good_answers = [future.result(timeout=180) for future in good]
        whatsapp_answers = [future.result(timeout=180) for future in by_whatsapp]
        desk_answers = desk.result(timeout=180)
        http_answers = hostile_http.result(timeout=180)
        socket_answers = hostile_socket.result(timeout=180)
        gateway_answers = hostile_gateway.result(timeout=180)
        for number, future in enumerate(flood):
            status, body = future.result(timeout=180)
            gateway_answers.append((f"fonnte flood {number}", status, json.loads(body)))

    # Every good action was accepted ...
    for answer in good_answers:
        assert answer["joined"]["ok"] is True, answer
        assert answer["voted"]["ok"] is True, answer
        assert answer["asked"][0] == 200, answer
        assert answer["handed_in"] == 302, answer
    for number, answer in enumerate(good_answers):
        if world.group_ids[number] is not None:
            field, text = _output(number)
            saved = {"ok": True, "field": field, "text": text, "version": 1, "by": world.names[number]}
            assert answer["saved"] == (200, saved), answer
    for number, answers in enumerate(whatsapp_answers):
        assert answers == [(200, hostile_whatsapp.good_answer(number))] * 2, answers
    assert [(status, body["colour"]) for status, body in desk_answers] == [(200, "green")] * GOOD

    # ... and is in the database exactly once, as sent; nothing of the hostile clients is.
    with server.session() as session:
        votes = session.execute(select(PollVote.registration_id, PollVote.answer)).tuples().all()
        voters = [*enumerate(world.registration_ids), *enumerate(world.wa_registration_ids)]
        assert sorted(votes) == sorted(
            (registration, {"option_ids": [world.options[number % 3]]}) for number, registration in voters
        )
        questions = session.execute(select(Question.registration_id, Question.text, Question.group_id))
        assert Counter(questions.tuples()) == Counter(
            [
                *(
                    (registration, f"Pertanyaan peserta {number}?", world.group_ids[number])
                    for number, registration in enumerate(world.registration_ids)
                ),
                *(
                    (registration, f"Pertanyaan WhatsApp {number}?", None)
                    for number, registration in enumerate(world.wa_registration_ids)
                ),
            ]
        )
        outputs = session.execute(
            select(
                GroupOutput.group_id,
                GroupOutput.field,
                GroupOutput.text,
                GroupOutput.version,
                GroupOutput.updated_by_id,
            )
        )
        assert set(outputs.tuples()) == {
            (group_id, *_output(number), 1, world.registration_ids[number])
            for number, group_id in enumerate(world.group_ids)
            if group_id is not None
        } | {(world.living_id, "programmes", "", 0, None)}  # the field only the hostile member tried
        inbound = session.execute(
            select(
                InboundMessage.provider,
                InboundMessage.message_id,
                InboundMessage.sender,
                InboundMessage.outcome,
            )
        ).all()
        strangers = hostile_whatsapp.stranger_ids()
        recorded = {row[1]: row[3] for row in inbound if row[1] in strangers}
        assert {
            tuple(row) for row in inbound if row[1] not in strangers
        } == hostile_whatsapp.expected_inbound(world.hostile_phone, world.wa_phones)
        assert recorded.keys() == strangers and hostile_whatsapp.stranger_outcomes(recorded), recorded
        replies = session.scalars(
            select(Delivery.registration_id).where(Delivery.kind == Kind.WHATSAPP_REPLY)
        )
        assert Counter(replies) == Counter(
            {registration: 2 for registration in world.wa_registration_ids}
            | {world.hostile_registration: 3, None: hostile_whatsapp.STRANGER_CAP}  # three refusals
        )
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
        **{
            f"ask group {label}": "not_in_group"
            for label in ("2^63", "10^30", "-1", "true", "as text", "of another")
        },
    }
    for case, code in expected_acks.items():
        assert acks[case] == {"ok": False, "error": code, "message": _translated(app, live_text[code])}, case
    assert acks["join after an unknown event"]["ok"] is True

    # The group's output and questions refused the stale, the oversized and the outsiders ...
    reload = _translated(app, "Reload the page and try again.")
    changed = _translated(app, CHANGED) % {"name": _translated(app, "Someone")}
    expected_groups = {
        "output stale version": (409, {"error": "changed", "message": changed, "current": {"text": "", "version": 0, "by": ""}}),
        "output too long": (422, {"error": "invalid", "message": _translated(app, "At most %(max)d characters.") % {"max": 4000}}),
        "output version 10^30": (422, {"error": "invalid", "message": reload}),
        "output version true": (422, {"error": "bad_field", "message": reload}),
        "output no such field": (422, {"error": "invalid", "message": _translated(app, "Choose one of the options given.")}),
        "output by a non-member": (403, {"error": "not_member", "message": _translated(app, "Only the members of this group can change its output.")}),
        "ask another group": (403, {"error": "not_in_group", "message": _translated(app, live_text["not_in_group"])}),
        "ask a group as a non-member": (403, {"error": "not_in_group", "message": _translated(app, live_text["not_in_group"])}),
    }  # fmt: skip
    for case, (status, body) in expected_groups.items():
        assert http[case] == (status, {"ok": False, **body}), case
    too_large = {"error": "too_large", "message": _translated(app, page_text["too_large"])}
    assert http["output oversized body"] == (413, too_large)
    assert http["output wrong csrf"] == (400, {"error": "csrf", "message": expired})

    # ... and the webhooks the forged, the junk, the oversized and the repeated messages.
    forbidden = {"error": "forbidden", "message": _translated(app, page_text["forbidden"])}
    for case, status, body in gateway_answers:
        if case in hostile_whatsapp.FORBIDDEN:
            assert (status, body) == (403, forbidden), case
        elif case in hostile_whatsapp.TOO_LARGE:
            assert (status, body) == (413, too_large), case
        else:
            ok = hostile_whatsapp.FONNTE_OK if case.startswith("fonnte") else hostile_whatsapp.META_OK
            assert (status, body) == (200, ok), case

    # No 500, no traceback; the server still answers.
    log = server.log()
    assert "Traceback" not in log
    assert not re.search(r'HTTP/1\.[01]" 5\d\d ', log), log
    assert server.alive()
    status, health = serving.get_json(f"{world.url}/healthz")
    assert (status, health["status"]) == (200, "ok")
