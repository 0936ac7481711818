"""The broadcaster's incremental tallies: votes carry the results version of their batch, and a
tally that reads only the votes above the version it counted equals a full count after every batch,
whatever the kind of poll, changed votes, hall hands or batches written elsewhere; and the
broadcast period, which grows with the sockets a tick sends to; and the servers' garbage collector
settings."""

from __future__ import annotations

import gc
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories
from tests.test_live import NOW, client_id, make_poll, open_now
from workshop import realtime, serving
from workshop.auth.models import Role
from workshop.live import broadcast
from workshop.live.handcount import HAND_COUNTED, set_hall_counts
from workshop.live.models import Poll, PollKind, PollVote
from workshop.live.results import poll_results
from workshop.live.tally import RECOUNT_EVERY, LiveTallies
from workshop.live.votes import VoteRequest, record_votes
from workshop.programs.models import OrgKind
from workshop.registration.models import Mode, RegistrationStage, Status
from workshop.registration.services import ensure_participant_user


@pytest.fixture
def voters(session):
    program = factories.program(session, stages=1)
    kinds = (OrgKind.OPD, OrgKind.KECAMATAN, OrgKind.DESA)
    registrations = [
        factories.registration(
            session,
            program,
            status=Status.APPROVED,
            mode=Mode.LURING if index % 3 == 0 else Mode.DARING,
            org=factories.organization(session, kind=kinds[index % 3]),
        )
        for index in range(6)
    ]
    users = {
        registration.id: ensure_participant_user(session, registration.person)
        for registration in registrations
    }
    moderator = factories.staff(session, Role.NARASUMBER)
    session.commit()
    return {
        "stage": program.stages[0],
        "registrations": registrations,
        "users": users,
        "moderator": moderator,
    }


def vote(voters, poll, registration, answer, label, at=NOW):
    user_id = voters["users"][registration.id].id
    return VoteRequest(user_id, 0, registration.id, poll.stage_id, poll.id, client_id(label), answer, at)


def versions(session, poll):
    return dict(
        session.execute(
            select(PollVote.registration_id, PollVote.results_version).where(PollVote.poll_id == poll.id)
        )
        .tuples()
        .all()
    )


def test_each_written_vote_carries_the_results_version_its_batch_gave_the_poll(session, voters):
    poll = make_poll(session, voters["stage"], voters["moderator"], allow_change=True)
    open_now(session, poll, voters["moderator"])
    first, second, third = voters["registrations"][:3]
    yes, no, _unsure = (option.id for option in poll.options)

    record_votes(
        session,
        [
            vote(voters, poll, first, {"option_ids": [yes]}, "a1"),
            vote(voters, poll, second, {"option_ids": [yes]}, "b1"),
        ],
        NOW,
    )
    record_votes(
        session,
        [
            vote(voters, poll, second, {"option_ids": [no]}, "b2"),  # changed
            vote(voters, poll, third, {"option_ids": [no]}, "c1"),
        ],
        NOW,
    )
    record_votes(session, [vote(voters, poll, first, {"option_ids": [7]}, "a2")], NOW)  # refused

    assert session.get(Poll, poll.id).results_version == 2
    assert versions(session, poll) == {first.id: 1, second.id: 2, third.id: 2}


def stored_votes(session, poll):
    session.expire_all()
    return {
        vote.registration_id: (vote.answer, vote.created_at, vote.updated_at, vote.results_version)
        for vote in session.scalars(select(PollVote).where(PollVote.poll_id == poll.id))
    }


def test_a_batch_writes_each_vote_once_with_its_last_answer(session, voters):
    poll = make_poll(session, voters["stage"], voters["moderator"], allow_change=True)
    open_now(session, poll, voters["moderator"])
    first, second = voters["registrations"][:2]
    yes, no, unsure = (option.id for option in poll.options)
    later = NOW + timedelta(minutes=1)
    record_votes(session, [vote(voters, poll, first, {"option_ids": [yes]}, "a1")], NOW)

    replies = record_votes(
        session,
        [
            vote(voters, poll, first, {"option_ids": [no]}, "a2", later),  # stored, changed twice
            vote(voters, poll, second, {"option_ids": [yes]}, "b1", later),  # new, changed in the batch
            vote(voters, poll, first, {"option_ids": [unsure]}, "a3", later),
            vote(voters, poll, second, {"option_ids": [no]}, "b2", later),
        ],
        later,
    )

    assert [reply["answer"] for reply in replies] == [
        {"option_ids": [no]},
        {"option_ids": [yes]},
        {"option_ids": [unsure]},
        {"option_ids": [no]},
    ]
    assert stored_votes(session, poll) == {
        first.id: ({"option_ids": [unsure]}, NOW, later, 2),
        second.id: ({"option_ids": [no]}, later, later, 2),
    }


def test_without_changes_a_second_vote_is_refused_in_the_same_batch_and_in_the_next(session, voters):
    poll = make_poll(session, voters["stage"], voters["moderator"])
    open_now(session, poll, voters["moderator"])
    first, second = voters["registrations"][:2]
    yes, no, _unsure = (option.id for option in poll.options)

    replies = record_votes(
        session,
        [
            vote(voters, poll, first, {"option_ids": [yes]}, "a1"),
            vote(voters, poll, first, {"option_ids": [no]}, "a2"),
        ],
        NOW,
    )
    again = record_votes(
        session,
        [
            vote(voters, poll, first, {"option_ids": [no]}, "a3"),
            vote(voters, poll, second, {"option_ids": [no]}, "b1"),
            vote(voters, poll, first, {"option_ids": [yes]}, "a1"),  # a retry: the same reply
        ],
        NOW,
    )

    assert [reply.get("error") for reply in replies + again] == [
        None,
        "already_voted",
        "already_voted",
        None,
        None,
    ]
    assert again[2] == replies[0]
    assert stored_votes(session, poll) == {
        first.id: ({"option_ids": [yes]}, NOW, NOW, 1),
        second.id: ({"option_ids": [no]}, NOW, NOW, 2),
    }


KINDS = {
    PollKind.SINGLE: lambda poll, index: {"option_ids": [poll.options[index % 3].id]},
    PollKind.MULTIPLE: lambda poll, index: {"option_ids": [poll.options[index % 3].id, poll.options[2].id]},
    PollKind.RATING: lambda poll, index: {"rating": 1 + index % 5},
    PollKind.WORDCLOUD: lambda poll, index: {"words": ["internet", f"jalan {index % 2}"]},
    PollKind.TEXT: lambda poll, index: {"text": f"Usulan nomor {index}"},
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_tally_kept_up_to_date_equals_a_full_count_after_every_batch(session, voters, kind):
    stage, moderator = voters["stage"], voters["moderator"]
    poll = make_poll(session, stage, moderator, kind, allow_change=True)
    open_now(session, poll, moderator)
    answer = KINDS[kind]
    people = voters["registrations"]
    tallies = LiveTallies()  # the broadcaster's, which saw none of these batches being written
    batches = [
        [(people[0], 0), (people[1], 1)],
        [(people[2], 2)],
        [(people[1], 4), (people[3], 3), (people[4], 1)],  # people[1] changes their answer
        [(people[0], 2), (people[5], 0), (people[2], 2)],  # people[2] sends the same answer again
    ]
    for number, batch in enumerate(batches):
        at = NOW + timedelta(seconds=number)
        replies = record_votes(
            session,
            [
                vote(voters, poll, registration, answer(poll, index), f"v{number}-{registration.id}", at)
                for registration, index in batch
            ],
            at,
        )
        assert all(reply["ok"] for reply in replies)
        if number == 2 and kind in HAND_COUNTED:
            counts = (
                {"5": 4, "2": 1}
                if kind == PollKind.RATING
                else {str(poll.options[0].id): 4, str(poll.options[1].id): 1}
            )
            set_hall_counts(session, poll, counts, hall_present=10, actor=moderator, now=NOW)
            session.commit()
        poll = session.get_one(Poll, poll.id)

        assert tallies.results(session, poll, stage, NOW) == poll_results(session, poll, stage, NOW)
        session.rollback()

    counted = tallies.results(session, poll, stage, NOW)
    assert counted["total"] == 6
    assert counted["version"] == 4 + (kind in HAND_COUNTED)


def test_a_mode_changed_at_the_hall_door_shows_at_the_next_recount(session, voters):
    stage, moderator = voters["stage"], voters["moderator"]
    poll = make_poll(session, stage, moderator)
    open_now(session, poll, moderator)
    daring = voters["registrations"][1]
    record_votes(session, [vote(voters, poll, daring, {"option_ids": [poll.options[0].id]}, "d1")], NOW)
    tallies = LiveTallies()
    poll = session.get_one(Poll, poll.id)
    assert tallies.results(session, poll, stage, NOW)["groups"]["luring"] == 0

    stage_mode = session.scalar(
        select(RegistrationStage).where(RegistrationStage.registration_id == daring.id)
    )
    stage_mode.mode = Mode.LURING
    session.commit()
    poll = session.get_one(Poll, poll.id)

    assert tallies.results(session, poll, stage, NOW + timedelta(seconds=1))["groups"]["luring"] == 0
    later = NOW + RECOUNT_EVERY + timedelta(seconds=1)
    assert tallies.results(session, poll, stage, later) == poll_results(session, poll, stage, later)
    assert tallies.results(session, poll, stage, later)["groups"] == {
        "luring": 1,
        "daring": 0,
        "by_kind": {"kecamatan": 1},
    }


def test_the_broadcast_period_grows_with_the_sockets_a_tick_sends_to(app, monkeypatch):
    hub = broadcast.Broadcaster(app)
    hub.interval = 0.3
    sockets = {f"sid-{index}": None for index in range(2000)}
    monkeypatch.setattr(realtime, "socket_users", sockets)
    assert hub.period() == 0.3  # 2,000 sockets: a tick's 2,000 messages fit in 0.25 s
    sockets.update({f"sid-more-{index}": None for index in range(6000)})
    assert hub.period() == 8000 / broadcast.SENDS_PER_SECOND == 1.0


class FakeClock:
    """time.monotonic and socketio.sleep of the broadcaster; `during_sleep` runs at each sleep."""

    def __init__(self, during_sleep=lambda now: None):
        self.now = 1000.0
        self.during_sleep = during_sleep
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.during_sleep(self.now)


def _waited(app, monkeypatch, sockets: int, during_sleep=lambda hub, now: None, last_votes=None) -> float:
    hub = broadcast.Broadcaster(app)
    hub.interval = 0.3
    hub.last_votes = last_votes
    monkeypatch.setattr(realtime, "socket_users", {f"sid-{index}": None for index in range(sockets)})
    clock = FakeClock(lambda now: during_sleep(hub, now))
    monkeypatch.setattr(broadcast.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(broadcast.socketio, "sleep", clock.sleep)
    started = clock.now
    hub._wait_for_tick()
    return round(clock.now - started, 6)


def test_without_votes_a_tick_waits_the_whole_period(app, monkeypatch):
    assert _waited(app, monkeypatch, 8000) == 1.0
    assert _waited(app, monkeypatch, 100) == 0.3  # the interval


def test_while_votes_keep_coming_the_ticks_keep_the_period(app, monkeypatch):
    def votes_all_along(hub, now):
        hub.results_changed(poll_id=1)

    monkeypatch.setattr(broadcast.Broadcaster, "_soon", lambda hub: None)
    assert _waited(app, monkeypatch, 8000, votes_all_along) == 1.0


def test_when_the_votes_pause_the_moved_results_go_out_at_once_but_not_before_the_interval(app, monkeypatch):
    def burst_ends_at(end):
        def votes(hub, now):
            if now <= end:
                hub.last_votes = now

        return votes

    # The burst ends at 0.5 s: the tick goes once 0.1 s passed without a vote, half a second early.
    assert _waited(app, monkeypatch, 8000, burst_ends_at(1000.5)) == pytest.approx(0.6, abs=0.051)
    # Votes within the interval: the tick still waits the interval.
    assert _waited(app, monkeypatch, 8000, last_votes=1000.1) == 0.3
    # A tick resets it: no vote since, the whole period.
    hub = broadcast.Broadcaster(app)
    hub.last_votes = 0.0
    monkeypatch.setattr(hub, "_role", lambda listened: broadcast.ALONE)
    hub.flush()
    assert hub.last_votes is None


def test_a_server_takes_its_start_up_objects_out_of_the_collectors_scans():
    threshold = gc.get_threshold()
    try:
        serving.freeze_startup_objects()
        assert gc.get_freeze_count() > 10_000  # the app and everything the tests imported
        assert gc.get_threshold() == serving.GC_THRESHOLD == (10_000, 20, 20)
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
