"""The broadcaster's tallies: each poll in play counted once, then kept up to date from the votes
written since, whichever process wrote them.

Every written vote carries the results version its batch gave the poll (workshop/live/votes.py),
and the batches of one poll take turns on the poll's row lock, so the versions of committed votes
only grow: a tally that has read the votes up to version v catches up by reading those above v, a
few rows a tick instead of every vote. It is counted afresh every `RECOUNT_EVERY` (and whenever the
poll's version goes back): a participant's mode changed at the hall door then shows, and so does
a vote removed with its registration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select

from workshop.db import Session
from workshop.live.models import Poll, PollVote
from workshop.live.results import Ballot, Tally, voter_details
from workshop.programs.models import Stage

RECOUNT_EVERY = timedelta(seconds=30)
# Built once (its cache key is memoised on the statement): every tick of a poll that moved asks.
_VOTES_ABOVE = (
    select(PollVote.registration_id, PollVote.answer, PollVote.results_version)
    .where(PollVote.poll_id == bindparam("poll_id"), PollVote.results_version > bindparam("version"))
    .order_by(PollVote.results_version, PollVote.updated_at, PollVote.id)
)


@dataclass
class _Counted:
    counted_at: datetime
    version: int = -1  # the highest results version of the votes read
    tally: Tally = field(default_factory=Tally)


class LiveTallies:
    """One per process (the broadcaster's)."""

    def __init__(self) -> None:
        self._polls: dict[int, _Counted] = {}

    def results(self, session: Session, poll: Poll, stage: Stage, now: datetime) -> dict:
        counted = self._polls.get(poll.id)
        if (
            counted is None
            or now - counted.counted_at > RECOUNT_EVERY
            or poll.results_version < counted.version
        ):
            counted = self._polls[poll.id] = _Counted(now)
        if poll.results_version > counted.version:
            self._catch_up(session, counted, poll.id, stage.id)
            # every vote up to the version just read was committed with it: all are counted now
            counted.version = max(counted.version, poll.results_version)
        return counted.tally.results(session, poll, stage, now)

    def keep_only(self, poll_ids: set[int]) -> None:
        """Forget the polls no longer in play."""
        for poll_id in self._polls.keys() - poll_ids:
            del self._polls[poll_id]

    @staticmethod
    def _catch_up(session: Session, counted: _Counted, poll_id: int, stage_id: int) -> None:
        rows = session.execute(_VOTES_ABOVE, {"poll_id": poll_id, "version": counted.version}).all()
        known = counted.tally.ballots
        new = {registration_id for registration_id, _answer, _version in rows if registration_id not in known}
        details = voter_details(session, stage_id, new) if new else {}
        for registration_id, answer, version in rows:
            old = known.get(registration_id)
            mode, kind = details[registration_id] if old is None else (old.mode, old.kind)
            counted.tally.put(Ballot(registration_id, answer, mode, kind))
            counted.version = max(counted.version, version)
