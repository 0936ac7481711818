"""The facilitator's poll lifecycle (delete, open, close, reopen) and the HTTP fallbacks of the live
actions (ask, upvote, vote, moderate, hall count) with what a careless or hostile client sends
(hypothesis, a bounded number of examples): ids of 2**63, 2**70, 0, negative, NUL, control bytes,
U+202E, 50,000-character texts, values of the wrong kind, fields missing; from the people the action
is for and from those it is not (a participant of another programme, a petugas, a participant at
the facilitator's routes). Never a server error: a refusal says why in the user's language (the
exact text of its code) and leaves every table as it was; a neighbour's good request right after
is answered as usual."""

from __future__ import annotations

import itertools
import json

import pytest
from flask_babel import force_locale
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests import factories, test_live
from tests.test_evaluation_fuzz import BAD_IDS, snapshot
from tests.test_live import make_poll, open_now, participant_client, staff_client
from tests.test_programme_forms_fuzz import EXAMPLES
from workshop.auth.models import Role
from workshop.live import actions
from workshop.live.models import Poll, PollStatus, Question
from workshop.live.services import close_poll

world = test_live.world
fixed_clock = test_live.fixed_clock  # autouse: Tahap I runs
MORE_EXAMPLES = settings(EXAMPLES, max_examples=30)
NOT_FOUND = "Halaman tidak ditemukan"
NO_ACCESS = "Anda tidak memiliki akses ke halaman ini"
PATH_IDS = [*BAD_IDS, str(2**70), "1.5", "+1", "\u202e1"]
# What a script puts where an id, a text, a flag or an answer goes.
HOSTILE_JSON = [
    2**63,
    2**70,
    -(2**63) - 1,
    -1,
    0,
    1.5,
    1e308,
    float("nan"),
    True,
    None,
    "",
    "1",
    "\x00",
    "4\x00",
    "\x01\x1b[31m\x7f",
    "\u202eYa",
    "x" * 50_000,
    str(2**70),
    [],
    [1, 2],
    ["\x00"],
    {},
    {"option_ids": [2**63]},
    {"option_ids": "1"},
    {"text": None},
    {"1": 2**70},
]
MISSING = object()
_labels = itertools.count(1)


def post_json(client, path: str, body: object):
    """`body` as the JSON body, whatever it is (the test client sends no body for json=None)."""
    return client.post(path, data=json.dumps(body), content_type="application/json")


def client_id() -> str:
    return f"fuzz{next(_labels)}-0123456789abcdef"


def in_language(app, code: str, language: str = "id") -> str:
    with app.test_request_context(), force_locale(language):
        return str(actions.ERROR_MESSAGES[code])


@pytest.fixture
def live(app, session, world):
    app.config["LIVE_QUESTIONS_PER_MINUTE"] = 10**6  # the fuzzer asks far more than people do
    stage = world["stage"]
    english = participant_client(app, session, world["daring"])
    english.post("/language/en", data={"next": "/"})
    door = factories.staff(session, Role.PETUGAS)
    session.commit()
    return {
        "stage": stage,
        "moderator": world["moderator"],
        "facilitator": staff_client(app, world["moderator"]),
        "luring": participant_client(app, session, world["luring"]),
        "english": english,
        "stranger": participant_client(app, session, world["stranger"]),
        "door": staff_client(app, door),
        "other_stage": world["program"].stages[1],
    }


# The poll lifecycle


EXPECTED = {  # action -> (the status it acts on, the code of its refusal otherwise)
    "delete": (PollStatus.DRAFT, "not_draft"),
    "open": (PollStatus.DRAFT, "not_draft"),
    "close": (PollStatus.OPEN, "poll_not_open"),
    "reopen": (PollStatus.CLOSED, "poll_not_closed"),
}


def _poll_in(session, live, status: PollStatus, stage=None) -> Poll:
    poll = make_poll(session, stage or live["stage"], live["moderator"])
    if status != PollStatus.DRAFT:
        open_now(session, poll, live["moderator"])
    if status == PollStatus.CLOSED:
        close_poll(session, poll, actor=live["moderator"], now=test_live.NOW)
        session.commit()
    return poll


def _poll_url(stage_id: object, poll_id: object, action: str) -> str:
    return f"/live/{stage_id}/polls/{poll_id}/{action}"


@given(
    action=st.sampled_from(sorted(EXPECTED)),
    status=st.sampled_from(list(PollStatus)),
    as_json=st.booleans(),
    body=st.sampled_from(HOSTILE_JSON),
)
@example(action="delete", status=PollStatus.OPEN, as_json=False, body=None)
@example(action="reopen", status=PollStatus.DRAFT, as_json=True, body=2**70)
@example(action="close", status=PollStatus.CLOSED, as_json=True, body="\x00")
@MORE_EXAMPLES
def test_a_poll_action_acts_once_on_the_status_it_is_for_or_says_why_in_indonesian_and_changes_nothing(
    app, session, live, action, status, as_json, body
):
    poll = _poll_in(session, live, status)
    stage_id, poll_id = live["stage"].id, poll.id
    path = _poll_url(stage_id, poll_id, action)
    before = snapshot()
    for outsider in (live["luring"], live["door"]):
        refused = post_json(outsider, path, body) if as_json else outsider.post(path, data={"x": str(body)})
        assert refused.status_code == 403
        assert NO_ACCESS in refused.get_data(as_text=True)
    assert snapshot() == before

    facilitator = live["facilitator"]
    if as_json and action != "delete":
        response = post_json(facilitator, path, body)
    else:
        response = facilitator.post(path, data={"x": str(body)}, follow_redirects=True)

    acts_on, refusal = EXPECTED[action]
    session.expire_all()
    after = session.get(Poll, poll_id)
    if status == acts_on:
        assert response.status_code == 200
        if action == "delete":
            assert after is None and "Draf dihapus." in response.get_data(as_text=True)
        else:
            assert after.status == (PollStatus.CLOSED if action == "close" else PollStatus.OPEN)
    else:
        message = in_language(app, refusal)
        if as_json and action != "delete":
            assert response.status_code == 409
            assert response.get_json() == {"ok": False, "error": refusal, "message": message}
        else:
            assert response.status_code == 200 and message in response.get_data(as_text=True)
        assert snapshot() == before
    assert facilitator.get(f"/live/{stage_id}/state").status_code == 200


@given(
    action=st.sampled_from(sorted(EXPECTED)),
    stage_id=st.sampled_from([*PATH_IDS, "stage", "other_stage"]),
    poll_id=st.sampled_from([*PATH_IDS, "poll", "other_poll"]),
    as_json=st.booleans(),
)
@example(action="delete", stage_id="other_stage", poll_id="poll", as_json=False)
@example(action="open", stage_id="stage", poll_id="other_poll", as_json=True)
@example(action="close", stage_id=str(2**63), poll_id="poll", as_json=True)
@example(action="reopen", stage_id="stage", poll_id=str(2**70), as_json=False)
@example(action="close", stage_id="other_stage", poll_id="other_poll", as_json=False)
@MORE_EXAMPLES
def test_a_poll_action_at_any_stage_and_poll_id_that_do_not_belong_together_is_404_in_indonesian(
    session, live, action, stage_id, poll_id, as_json
):
    poll = _poll_in(session, live, PollStatus.DRAFT)
    elsewhere = _poll_in(session, live, PollStatus.DRAFT, stage=live["other_stage"])
    stage_in_path = {"stage": live["stage"].id, "other_stage": live["other_stage"].id}.get(stage_id, stage_id)
    poll_in_path = {"poll": poll.id, "other_poll": elsewhere.id}.get(poll_id, poll_id)
    if (stage_id, poll_id) in (("stage", "poll"), ("other_stage", "other_poll")):  # they belong together
        poll_in_path = elsewhere.id + 1000
    path = _poll_url(stage_in_path, poll_in_path, action)
    before = snapshot()

    response = live["facilitator"].post(path, json={}) if as_json else live["facilitator"].post(path)

    assert response.status_code == 404
    if as_json:
        assert response.get_json() == {"error": "not_found", "message": NOT_FOUND}
    else:
        assert NOT_FOUND in response.get_data(as_text=True)
    assert snapshot() == before
    opened = live["facilitator"].post(_poll_url(live["stage"].id, poll.id, "open"), json={})
    assert opened.get_json() == {"ok": True, "poll_id": poll.id, "status": "open"}


# The HTTP fallbacks of the live actions


def _fallbacks(session, live) -> dict[str, tuple[object, str, dict]]:
    """action -> (who sends it, its path, a good payload)."""
    stage = live["stage"]
    poll = session.scalar(select(Poll).where(Poll.stage_id == stage.id, Poll.status == PollStatus.OPEN))
    if poll is None:
        poll = _poll_in(session, live, PollStatus.OPEN)
    question = session.scalar(select(Question).where(Question.stage_id == stage.id))
    if question is None:
        asked = live["english"].post(
            f"/live/{stage.id}/questions", json={"client_id": client_id(), "text": "Kapan dibuka?"}
        )
        question = session.get(Question, asked.get_json()["question"]["id"])
    yes = poll.options[0].id
    return {
        "ask": (live["luring"], f"/live/{stage.id}/questions", {"text": "Di mana?", "anonymous": False}),
        "upvote": (live["luring"], f"/live/{stage.id}/questions/{question.id}/upvote", {}),
        "vote": (live["luring"], f"/live/{stage.id}/polls/{poll.id}/vote", {"answer": {"option_ids": [yes]}}),
        "moderate": (
            live["facilitator"],
            f"/live/{stage.id}/questions/{question.id}/moderate",
            {"action": "approve", "reason": ""},
        ),
        "hall_count": (
            live["facilitator"],
            f"/live/{stage.id}/polls/{poll.id}/hall-count",
            {"counts": {str(yes): 3}},
        ),
    }


FIELDS = {
    "ask": ["client_id", "stage_id", "text", "anonymous", "group_id"],
    "upvote": ["client_id", "question_id", "group_id"],
    "vote": ["client_id", "poll_id", "answer"],
    "moderate": ["client_id", "question_id", "action", "reason"],
    "hall_count": ["poll_id", "counts"],
}


def _assert_answered(app, response, before, language="id"):
    """A reply the page knows: done, or refused with its code's text in the user's language and
    nothing changed."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    reply = response.get_json()
    assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool), reply
    if reply["ok"]:
        return snapshot()
    assert reply["message"] == in_language(app, reply["error"], language), reply
    assert snapshot() == before
    return before


@given(
    action=st.sampled_from(sorted(FIELDS)),
    data=st.data(),
    value=st.sampled_from(HOSTILE_JSON) | st.just(MISSING),
    english=st.booleans(),
)
@example(action="vote", data=None, value=2**63, english=False)
@example(action="ask", data=None, value="x" * 50_000, english=True)
@example(action="hall_count", data=None, value={"1": 2**70}, english=False)
@example(action="moderate", data=None, value="\u202eYa", english=False)
@MORE_EXAMPLES
def test_any_hostile_field_of_a_live_action_over_http_is_answered_in_the_users_language_or_applied(
    app, session, live, action, data, value, english
):
    who, path, good = _fallbacks(session, live)[action]
    field = data.draw(st.sampled_from(FIELDS[action])) if data is not None else FIELDS[action][-1]
    if english and who is live["luring"]:
        who = live["english"]
    payload = good | {"client_id": client_id()}
    if value is MISSING:
        payload.pop(field, None)
    else:
        payload[field] = value
    before = snapshot()

    response = who.post(path, json=payload)

    before = _assert_answered(app, response, before, "en" if who is live["english"] else "id")
    again = who.post(path, json=payload)  # the same client id again: the same answer
    _assert_answered(app, again, before, "en" if who is live["english"] else "id")
    neighbour, neighbour_path, neighbour_good = _fallbacks(session, live)["ask"]
    asked = neighbour.post(neighbour_path, json=neighbour_good | {"client_id": client_id()})
    assert asked.status_code == 200 and asked.get_json()["question"]["text"] == "Di mana?"


@given(action=st.sampled_from(sorted(FIELDS)), body=st.sampled_from(HOSTILE_JSON), raw=st.booleans())
@EXAMPLES
def test_a_live_action_over_http_from_someone_it_is_not_for_is_refused_and_changes_nothing(
    app, session, live, action, body, raw
):
    who, path, good = _fallbacks(session, live)[action]
    outsiders = (
        [live["stranger"], live["door"]] if who is live["luring"] else [live["luring"], live["stranger"]]
    )
    before = snapshot()
    for outsider in outsiders:
        payload = good | {"client_id": client_id()} if not raw else body
        response = post_json(outsider, path, payload)
        assert response.status_code in (400, 403, 404), (path, response.status_code)
        reply = response.get_json()
        if "ok" in reply:  # the action's refusal
            assert reply["ok"] is False and reply["message"] == in_language(app, reply["error"])
        else:  # the role check's
            assert reply == {"error": "forbidden", "message": NO_ACCESS}
        assert snapshot() == before
