"""Tallies shared by the web processes of a cluster through Redis (workshop/live/cluster.py): one
process leads and counts, the others send its results to their own clients without reading a vote;
the lead passes on when its holder stops; with Redis down each process counts for itself; the
ticks are paced by the sockets of all processes. Two broadcasters of one app stand for two
processes, on a real redis-server."""

from __future__ import annotations

import time

import pytest
from redis.exceptions import RedisError
from sqlalchemy import event

from tests.test_live import (
    NOW,
    client_id,
    joined_socket,
    make_poll,
    open_now,
    participant_client,
    received,
    world,  # noqa: F401 (a fixture)
)
from workshop.db import db
from workshop.live import broadcast, cluster
from workshop.live.votes import VoteRequest, record_votes
from workshop.registration.services import ensure_participant_user


@pytest.fixture
def hubs(app, redis_server, monkeypatch):
    """Two broadcasters sharing the redis-server, as two processes would: (the leader, the other).
    The lead is held for a minute: on a loaded machine a test's logins and votes took longer than
    the 2 s lease, and the other process took the lead."""
    monkeypatch.setattr(broadcast, "LEASE", 60.0)
    app.config["SOCKETIO_MESSAGE_QUEUE"] = redis_server[1]
    first, second = broadcast.Broadcaster(app), broadcast.Broadcaster(app)
    with app.app_context():
        assert (first._role(set()), second._role(set())) == (broadcast.LEAD, broadcast.FOLLOW)
    return first, second


@pytest.fixture
def poll(session, world):  # noqa: F811
    poll = make_poll(session, world["stage"], world["moderator"], allow_change=True)
    open_now(session, poll, world["moderator"])
    return poll


def vote(session, world, poll, who, option, label):  # noqa: F811
    registration = world[who]
    user = ensure_participant_user(session, registration.person)
    session.commit()
    request = VoteRequest(
        user.id,
        user.session_epoch,
        registration.id,
        poll.stage_id,
        poll.id,
        client_id(label),
        {"option_ids": [poll.options[option].id]},
        NOW,
    )
    assert record_votes(session, [request], NOW) == [
        {"ok": True, "poll_id": poll.id, "answer": {"option_ids": [poll.options[option].id]}}
    ]


def counts(message) -> tuple:
    results = message["results"]
    return (
        results["version"],
        results["total"],
        [bar["count"] for bar in results["bars"]],
        results["groups"]["luring"],
        results["groups"]["daring"],
    )


def statements_of(app, action) -> list[str]:
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_the_other_process_sends_the_leaders_tally_without_reading_a_vote(app, session, world, poll, hubs):  # noqa: F811
    leader, other = hubs
    socket = joined_socket(app, participant_client(app, session, world["daring"]), world["stage"])
    vote(session, world, poll, "luring", 0, "a1")
    vote(session, world, poll, "daring", 1, "b1")
    assert statements_of(app, other.flush) == []  # nothing stored yet: nothing read, nothing sent
    assert received(socket, "poll_results") == []

    leader.flush()
    assert [counts(message) for message in received(socket, "poll_results")] == [(2, 2, [1, 1, 0], 1, 1)]
    read = statements_of(app, other.flush)
    assert [counts(message) for message in received(socket, "poll_results")] == [(2, 2, [1, 1, 0], 1, 1)]
    assert not [statement for statement in read if "poll_vote" in statement]
    other.flush()  # nothing moved: nothing sent again
    assert received(socket, "poll_results") == []

    vote(session, world, poll, "luring", 2, "a2")  # a changed vote moves the counts
    leader.flush()
    other.flush()
    assert [counts(message) for message in received(socket, "poll_results")] == [(3, 2, [0, 1, 1], 1, 1)] * 2


def test_the_lead_passes_on_when_its_lease_runs_out(app, session, world, poll, hubs):  # noqa: F811
    leader, other = hubs
    socket = joined_socket(app, participant_client(app, session, world["daring"]), world["stage"])
    leader.flush()
    other.flush()
    assert [counts(message) for message in received(socket, "poll_results")] == [(0, 0, [0, 0, 0], 0, 0)] * 2
    vote(session, world, poll, "daring", 0, "b1")
    other.flush()
    assert received(socket, "poll_results") == []  # the leader holds the lead: nobody counted
    leader.cluster.redis.pexpire(cluster.LEADER, 50)  # as if its 60 s had run out
    while leader.cluster.redis.exists(cluster.LEADER):
        time.sleep(0.02)
    other.flush()
    assert [counts(message) for message in received(socket, "poll_results")] == [(1, 1, [1, 0, 0], 0, 1)]
    with app.app_context():
        assert (other._role(set()), leader._role(set())) == (broadcast.LEAD, broadcast.FOLLOW)


def test_with_redis_down_each_process_counts_for_its_own_clients(
    app,
    session,
    world,  # noqa: F811
    poll,
    hubs,
    redis_server,
    caplog,
):
    leader, other = hubs
    socket = joined_socket(app, participant_client(app, session, world["daring"]), world["stage"])
    leader.flush()
    other.flush()
    received(socket, "poll_results")
    redis_server[0].kill()
    redis_server[0].wait()
    vote(session, world, poll, "luring", 1, "a1")
    other.flush()
    assert [counts(message) for message in received(socket, "poll_results")] == [(1, 1, [0, 1, 0], 1, 0)]
    other.flush()
    assert received(socket, "poll_results") == []
    assert [record.getMessage()[:52] for record in caplog.records if "Redis" in record.getMessage()] == [
        "live broadcast: Redis does not answer (Error 111 con"
    ]


def test_the_ticks_are_paced_by_the_sockets_of_all_processes(redis_server, monkeypatch):
    first, second = cluster.Cluster(redis_server[1]), cluster.Cluster(redis_server[1])
    assert first.tick(3000, 5, []) == (True, 3000, {})
    assert second.tick(1000, 5, []) == (False, 4000, {})
    assert first.tick(3000, 5, []) == (True, 4000, {})
    monkeypatch.setattr(cluster, "SOCKETS_FRESH", -1)  # the counts noted from now on are stale at once
    assert second.tick(1000, 5, []) == (False, 3000, {})  # its own count is stale, and dropped
    assert first.redis.hkeys(cluster.SOCKETS) == [first.me.encode()]


def test_a_broadcasters_period_follows_the_audience_of_the_cluster(app, hubs):
    leader, _other = hubs
    leader.interval = 0.3
    leader.audience = 4000
    assert leader.period() == 4000 / broadcast.SENDS_PER_SECOND == 0.5


def test_results_the_leader_could_not_store_are_stored_at_its_next_tick(
    app,
    session,
    world,  # noqa: F811
    poll,
    hubs,
    monkeypatch,
):
    leader, other = hubs
    socket = joined_socket(app, participant_client(app, session, world["daring"]), world["stage"])
    vote(session, world, poll, "daring", 2, "b1")
    store = leader.cluster.store

    def refused(_stages):
        raise RedisError("OOM command not allowed")

    monkeypatch.setattr(leader.cluster, "store", refused)
    leader.flush()  # sent to its own clients, not stored
    other.flush()
    assert [counts(message) for message in received(socket, "poll_results")] == [(1, 1, [0, 0, 1], 0, 1)]
    monkeypatch.setattr(leader.cluster, "store", store)
    leader.flush()
    other.flush()
    assert [counts(message) for message in received(socket, "poll_results")] == [(1, 1, [0, 0, 1], 0, 1)] * 2
