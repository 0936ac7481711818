"""Arbitrary JSON at every socket event and every JSON endpoint (hypothesis, a bounded number of
examples, on SQLite and PostgreSQL): the answer is an error ack or a 4xx, never a 5xx or a missing
ack, and the server still answers a valid request afterwards."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import test_live
from tests.test_live import client_id, joined_socket, make_poll, open_now, participant_client, staff_client
from tests.test_scanner_api import log_in, staff_member
from workshop.auth.models import Role

world = test_live.world  # the live tests' programme, people and moderator
fixed_clock = test_live.fixed_clock  # autouse: their clock

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
any_json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
# Ids of real rows, ids no row can have (too large for a BIGINT, zero, negative) and things that
# are no id at all: drawn often, they reach past the first checks into the queries.
ids = st.sampled_from([1, 2, 3, 0, -1, 2**31 - 1, 2**31, 2**63, 10**20, "1", True, None, 1.5, [1], {"id": 1}])
answers = any_json | st.fixed_dictionaries(
    {},
    optional={
        "option_ids": st.lists(ids, max_size=3) | any_json,
        "rating": ids,
        "words": any_json,
        "text": any_json,
    },
)
objects = st.fixed_dictionaries(
    {"stage_id": ids, "poll_id": ids, "question_id": ids},
    optional={
        "client_id": st.sampled_from([client_id("fuzz"), "x", ""]) | any_json,
        "text": any_json,
        "anonymous": any_json,
        "answer": answers,
        "action": st.sampled_from(["approve", "dismiss", "answered", "pin", "unpin", "carry"]) | any_json,
        "reason": any_json,
        "nonce": any_json,
        "scans": st.lists(any_json, max_size=3),
        "code": any_json,
        "desk": any_json,
        "method": any_json,
        "scanned_at": any_json,
        "counts": any_json
        | st.dictionaries(st.sampled_from(["1", "2", "3", "9", "x"]), ids | any_json, max_size=3),
    },
)
payloads = st.one_of(objects, objects, objects, any_json)  # three objects for one other value

SOCKET_EVENTS = ["join_stage", "ask", "upvote", "moderate", "vote", "presence"]


@pytest.fixture
def sockets(app, session, world):
    app.config["LIVE_QUESTIONS_PER_MINUTE"] = 10**6  # the fuzzer asks far more than people do
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    participant = joined_socket(app, participant_client(app, session, world["luring"]), world["stage"])
    moderator = joined_socket(app, staff_client(app, world["moderator"]), world["stage"])
    return participant, moderator


@EXAMPLES
@given(payload=payloads)
def test_any_json_at_any_socket_event_gets_an_ack_and_the_socket_still_works(sockets, world, payload):
    for socket in sockets:
        for event in SOCKET_EVENTS:
            ack = socket.emit(event, payload, callback=True)

            assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (event, payload, ack)
            assert socket.is_connected()
        again = socket.emit("join_stage", {"stage_id": world["stage"].id}, callback=True)
        assert again["ok"] is True


def _json_endpoints(stage_id: int) -> list[tuple[str, str]]:
    return [
        ("POST", f"/live/{stage_id}/questions"),
        ("POST", f"/live/{stage_id}/questions/1/upvote"),
        ("POST", f"/live/{stage_id}/polls/1/vote"),
        ("POST", f"/live/{stage_id}/questions/1/moderate"),
        ("POST", f"/live/{stage_id}/polls/1/close"),
        ("POST", f"/live/{stage_id}/polls/1/hall-count"),
        ("POST", f"/api/stages/{stage_id}/presence"),
        ("POST", f"/api/stages/{stage_id}/checkin"),
        ("POST", f"/api/stages/{stage_id}/checkin/batch"),
        ("POST", "/api/checkins/1/undo"),
    ]


@pytest.fixture
def clients(app, session, world, sockets):
    """A participant, the narasumber and a petugas: each endpoint sees its own kind of user, and the
    others (a refusal must be a 4xx too)."""
    door = app.test_client()
    log_in(door, staff_member(session, Role.PETUGAS))
    return [
        participant_client(app, session, world["daring"]),
        staff_client(app, world["moderator"]),
        door,
    ]


@EXAMPLES
@given(endpoint=st.integers(min_value=0, max_value=9), payload=payloads, raw=st.booleans())
def test_any_json_at_any_json_endpoint_is_a_4xx_at_worst_and_the_server_still_serves(
    clients, world, endpoint, payload, raw
):
    stage_id = world["stage"].id
    method, path = _json_endpoints(stage_id)[endpoint]
    for client in clients:
        if raw:  # a body that is not JSON at all, as JSON
            response = client.open(
                path, method=method, data=repr(payload).encode(), content_type="application/json"
            )
        else:
            response = client.open(path, method=method, json=payload)

        assert response.status_code < 500, (path, payload, response.get_data(as_text=True)[:500])
        assert client.get(f"/live/{stage_id}/state").status_code in (200, 403)


@EXAMPLES
@given(query=st.text(max_size=120))
def test_any_search_text_is_answered_without_a_server_error(clients, world, query):
    door = clients[2]
    response = door.get(f"/api/stages/{world['stage'].id}/search", query_string={"q": query})
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:500]
