"""Hostile Socket.IO events, found by hypothesis, against the real default server (`python app.py`
as scripts/run.sh starts it: gevent, gevent-websocket, vote batching; SQLite, or PostgreSQL as
BIMTEK_TEST_DATABASE says). One server for the module.

A participant logged in with their personal link joins a running stage with an open poll over a
real WebSocket and sends every live event (`ask`, `upvote`, `moderate`, `vote`, `presence`,
`join_stage`) payloads of any shape: no object at all, ids beyond any row (2^70, 2^63, 10^30), 0,
-1, floats, booleans, nested lists, client ids and texts of control characters, U+202E and lone
surrogates, questions of up to 50,000 characters, a value of the wrong type in every field. Each
is answered with the error ack of its class (the exact code, and the Indonesian message where the
handler gives one), writes no row (questions, upvotes, votes, client actions, online presence),
and leaves the socket connected; right after it, a neighbour on a socket of their own votes and
their vote is stored exactly once. A message over Engine.IO's limit closes only the sender's
socket. Afterwards the server runs, /healthz answers, and it logged no error and no traceback.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from tests import serving
from tests.test_hostile_real_server import (
    EXAMPLES,
    HOSTILE_CHARS,
    HUGE_IDS,
    INVISIBLE,
    _indonesian,
    hostile_text,
    json_values,
)
from workshop.db import db
from workshop.ids import MAX_ID
from workshop.live.actions import ERROR_MESSAGES
from workshop.live.models import ClientAction, PollVote
from workshop.live.services import MAX_QUESTION_LENGTH
from workshop.live.votes import CLIENT_ID

ENGINE_IO_LIMIT = 64 * 1024  # MAX_BODY_BYTES's default, Engine.IO's max_http_buffer_size
LIVE_TABLES = ("question", "question_upvote", "poll_vote", "client_action", "online_evidence", "live_stage")
UNKNOWN_ID = 10**6  # a valid id that no row has


@dataclass
class World(serving.Served):
    stage_id: int
    poll_id: int
    options: list[int]
    hostile_browser: serving.Participant
    hostile: serving.SocketIOClient  # joined the stage; sends what a broken or malicious client sends
    neighbour: serving.SocketIOClient  # joined the stage; votes after every hostile event
    neighbour_registration: int
    neighbour_user: int


_addresses = itertools.count(2)


def _logged_in(url: str, token: str) -> serving.Participant:
    number = next(_addresses)
    browser = serving.Participant(url, f"127.2.{number // 250}.{number % 250 + 2}")
    browser.log_in_with_link(token)
    return browser


def _joined_socket(browser: serving.Participant, stage_id: int) -> serving.SocketIOClient:
    socket = browser.socket(timeout=30)
    _, joined = socket.emit("join_stage", {"stage_id": stage_id}, timeout=30)
    assert joined["ok"] is True, joined
    return socket


@pytest.fixture(scope="module")
def world(tmp_path_factory, make_database_url):
    directory = tmp_path_factory.mktemp("hostile-real-sockets")
    with serving.served_with_app(directory, make_database_url("hostilesockets")) as (process, url, log, app):
        seeded = serving.seed_live_stage(app, participants=2)
        stage_id, poll_id, options, tokens = seeded.stage_id, seeded.poll_id, seeded.options, seeded.tokens
        neighbour_ids = seeded.registration_ids[1], seeded.user_ids[1]
        hostile_browser, neighbour_browser = (_logged_in(url, token) for token in tokens)
        sockets = [_joined_socket(browser, stage_id) for browser in (hostile_browser, neighbour_browser)]
        try:
            yield World(
                url, process, log, app, stage_id, poll_id, options, hostile_browser, *sockets, *neighbour_ids
            )
        finally:
            for socket in sockets:
                socket.close()


def _rows(world: World) -> dict[str, list[str]]:
    """Every row of the live tables, as text (their JSON columns are not hashable)."""
    with world.app.app_context():
        rows = {
            name: sorted(map(repr, db.session.execute(select(db.metadata.tables[name])).tuples()))
            for name in LIVE_TABLES
        }
        db.session.remove()
    return rows


_neighbour_votes = itertools.count()


def _neighbour_votes_once(world: World) -> None:
    """The neighbour votes (another option each time: the poll allows a change): answered ok, and
    their one vote row holds it, written by this client id once."""
    option = world.options[next(_neighbour_votes) % 2]
    client_id = f"n-{uuid.uuid4().hex}"
    vote = {"stage_id": world.stage_id, "poll_id": world.poll_id, "client_id": client_id}
    _, ack = world.neighbour.emit("vote", vote | {"answer": {"option_ids": [option]}}, timeout=30)
    assert ack == {"ok": True, "poll_id": world.poll_id, "answer": {"option_ids": [option]}}
    with world.app.app_context():
        votes = db.session.scalars(
            select(PollVote.answer).where(PollVote.registration_id == world.neighbour_registration)
        ).all()
        actions = db.session.scalars(
            select(ClientAction.client_id).where(
                ClientAction.user_id == world.neighbour_user, ClientAction.client_id == client_id
            )
        ).all()
        db.session.remove()
    assert (votes, actions) == ([{"option_ids": [option]}], [client_id])


# -- what a hostile client sends --------------------------------------------------------------------

HOSTILE_IDS = st.sampled_from((*HUGE_IDS, 2**31 - 1 + 1, -(2**70), UNKNOWN_ID))
not_an_id = st.one_of(
    st.sampled_from(HUGE_IDS),
    st.integers(max_value=0),
    st.integers(min_value=MAX_ID + 1),
    st.floats(),
    st.booleans(),
    st.none(),
    hostile_text,
    st.lists(json_values, max_size=3),
    st.dictionaries(hostile_text, json_values, max_size=3),
)
no_object = json_values.filter(lambda value: not isinstance(value, dict))
not_a_client_id = json_values.filter(
    lambda value: not (isinstance(value, str) and CLIENT_ID.fullmatch(value))
) | st.sampled_from(
    ("x" * 15, "x" * 65, "abcdefghijklmnop\u202e", "abcdefghijklmnop\x00", "\ud800" * 20, "abcdefghijklmno\n")
)
client_ids = st.builds(lambda: f"h-{uuid.uuid4().hex}")
blank_text = st.one_of(
    st.text(st.sampled_from(INVISIBLE + " \t\n\r"), max_size=200),
    json_values.filter(lambda value: not isinstance(value, str)),
)
too_long_text = st.builds(
    lambda size, noise: "a" * size + noise,
    st.integers(MAX_QUESTION_LENGTH + 1, 50_000),
    st.text(st.sampled_from(HOSTILE_CHARS), max_size=30),
)
extra_fields = st.dictionaries(hostile_text, json_values, max_size=3)


MISSING = object()  # a field left out of the payload


def _maybe_missing(values: st.SearchStrategy) -> st.SearchStrategy:
    return values | st.just(MISSING)


@dataclass(frozen=True)
class Case:
    event: str
    payload: object
    error: str
    message: bool = True  # the live actions' acks carry the message; join_stage's and presence's do not


def _case(event: str, error: str, message: bool = True, **fields: object) -> st.SearchStrategy[Case]:
    """`event` with an object of any keys and `fields` over them (each a strategy or a value;
    MISSING leaves the key out), refused with `error`."""

    def build(extra: dict, chosen: dict) -> Case:
        payload = extra | chosen
        return Case(
            event, {key: value for key, value in payload.items() if value is not MISSING}, error, message
        )

    strategies = {
        key: value if isinstance(value, st.SearchStrategy) else st.just(value)
        for key, value in fields.items()
    }
    return st.builds(build, extra_fields, st.fixed_dictionaries(strategies))


def _no_object(event: str, error: str, message: bool = True) -> st.SearchStrategy[Case]:
    return st.builds(Case, st.just(event), no_object, st.just(error), st.just(message))


def _live_cases(world: World) -> st.SearchStrategy[Case]:
    """Every class of refused ask, upvote and moderate, each in the order its handler checks."""
    stage = world.stage_id
    cases = []
    for event in ("ask", "upvote", "moderate"):
        cases += [
            _no_object(event, "invalid"),
            _case(
                event,
                "invalid",
                client_id=_maybe_missing(not_a_client_id),
                stage_id=_maybe_missing(st.just(stage) | not_an_id | HOSTILE_IDS),
            ),
            _case(
                event, "unknown_stage", client_id=client_ids, stage_id=_maybe_missing(not_an_id | HOSTILE_IDS)
            ),
        ]
    some_group = json_values.filter(lambda value: value is not None) | HOSTILE_IDS
    return st.one_of(
        *cases,
        _case("ask", "not_in_group", client_id=client_ids, stage_id=stage, group_id=some_group),
        _case(
            "ask",
            "empty",
            client_id=client_ids,
            stage_id=stage,
            group_id=MISSING,
            text=_maybe_missing(blank_text),
        ),
        _case("ask", "too_long", client_id=client_ids, stage_id=stage, group_id=MISSING, text=too_long_text),
        _case(
            "upvote",
            "unknown_question",
            client_id=client_ids,
            stage_id=stage,
            question_id=_maybe_missing(not_an_id | HOSTILE_IDS),
        ),
        _case("moderate", "moderators_only", client_id=client_ids, stage_id=stage),
    )


def _valid_answer(world: World, answer: object) -> bool:
    if not isinstance(answer, dict):
        return False
    chosen = answer.get("option_ids")
    if not isinstance(chosen, list) or not all(type(item) is int for item in chosen):
        return False
    return len(set(chosen)) == 1 and set(chosen) <= set(world.options)


def _vote_cases(world: World) -> st.SearchStrategy[Case]:
    """Every class of refused vote, in the order the handler checks."""
    stage, poll = world.stage_id, world.poll_id
    answers = _maybe_missing(
        json_values | st.dictionaries(st.just("option_ids"), json_values | st.lists(HOSTILE_IDS))
    )
    bad_answers = answers.filter(lambda answer: answer is MISSING or not _valid_answer(world, answer))
    any_answer = answers | st.sampled_from([{"option_ids": [option]} for option in world.options])
    any_client_id = client_ids | not_a_client_id
    refused_fields: list[dict[str, Any]] = [  # the stage, the poll, the client id
        {
            "stage_id": _maybe_missing(not_an_id),
            "poll_id": st.just(poll) | not_an_id,
            "client_id": any_client_id,
        },
        {"stage_id": stage, "poll_id": _maybe_missing(not_an_id), "client_id": any_client_id},
        {"stage_id": stage, "poll_id": poll, "client_id": _maybe_missing(not_a_client_id)},
    ]
    return st.one_of(
        _no_object("vote", "invalid"),
        *(_case("vote", "invalid", answer=any_answer, **fields) for fields in refused_fields),
        _case(
            "vote",
            "unknown_stage",
            stage_id=UNKNOWN_ID,
            poll_id=poll,
            client_id=client_ids,
            answer=any_answer,
        ),
        _case(
            "vote",
            "unknown_poll",
            stage_id=stage,
            poll_id=UNKNOWN_ID,
            client_id=client_ids,
            answer=any_answer,
        ),
        _case("vote", "invalid", stage_id=stage, poll_id=poll, client_id=client_ids, answer=bad_answers),
    )


def _room_cases() -> st.SearchStrategy[Case]:
    """join_stage and presence with no stage: their acks carry the code only."""
    return st.one_of(
        *(_no_object(event, "unknown_stage", False) for event in ("join_stage", "presence")),
        *(
            _case(event, "unknown_stage", False, stage_id=_maybe_missing(not_an_id | HOSTILE_IDS))
            for event in ("join_stage", "presence")
        ),
    )


def _expected_ack(world: World, case: Case) -> dict:
    if not case.message:
        return {"ok": False, "error": case.error}
    return {
        "ok": False,
        "error": case.error,
        "message": _indonesian(world, ERROR_MESSAGES[case.error]._args[0]),
    }  # type: ignore[arg-type]


def _assert_refused_and_harmless(world: World, case: Case) -> None:
    before = _rows(world)

    _, ack = world.hostile.emit(case.event, case.payload, timeout=30)

    assert ack == _expected_ack(world, case)
    assert _rows(world) == before
    assert not world.hostile.closed.is_set(), world.hostile.close_reason
    _neighbour_votes_once(world)


@EXAMPLES
@given(data=st.data())
def test_a_hostile_ask_upvote_or_moderate_is_refused_with_its_code_and_writes_nothing(world, data):
    _assert_refused_and_harmless(world, data.draw(_live_cases(world)))


@EXAMPLES
@given(data=st.data())
def test_a_hostile_vote_is_refused_with_its_code_and_writes_nothing(world, data):
    _assert_refused_and_harmless(world, data.draw(_vote_cases(world)))


@EXAMPLES
@given(case=_room_cases())
def test_a_hostile_join_or_presence_is_refused_as_an_unknown_stage_and_writes_nothing(world, case):
    _assert_refused_and_harmless(world, case)


def test_a_message_over_the_engine_io_limit_closes_only_its_own_socket(world):
    before = _rows(world)
    sender = _joined_socket(world.hostile_browser, world.stage_id)
    try:
        payload = {
            "stage_id": world.stage_id,
            "client_id": f"h-{uuid.uuid4().hex}",
            "text": "a" * ENGINE_IO_LIMIT,
        }
        with pytest.raises(ConnectionError):
            sender.emit("ask", payload, timeout=30)
    finally:
        sender.close()

    assert sender.closed.is_set()
    assert _rows(world) == before
    assert not world.hostile.closed.is_set(), world.hostile.close_reason
    _neighbour_votes_once(world)


def test_afterwards_the_server_runs_answers_its_health_check_and_logged_no_error(world):
    serving.assert_ran_cleanly(world.process, world.url, world.log)
