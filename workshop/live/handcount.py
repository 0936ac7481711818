"""The hall's hand count of a choice poll: the facilitator enters how many hands (or cards) went up
for each option; the results merge it with the online votes, each source labelled.

The ceiling is the number of people checked in at the hall now: a count above it is kept (a guest
without a ticket raises a hand too) and the facilitator is warned. Editable while the poll is open,
audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session
from workshop.live.models import LiveStage, Poll, PollHallCount, PollKind, PollStatus
from workshop.live.votes import LiveError

MAX_HALL_COUNT = 10_000  # more than any hall holds: a larger number is a typing slip


def hall_counts(session: Session, poll_id: int) -> dict[int, int]:
    """Option id -> the hands counted for it (options not counted are absent)."""
    return dict(
        session.execute(
            select(PollHallCount.option_id, PollHallCount.count).where(PollHallCount.poll_id == poll_id)
        )
        .tuples()
        .all()
    )


def shown_poll(session: Session, stage_id: int) -> Poll | None:
    """The stage's poll shown now (open, else the last closed) if hands can be counted for it."""
    live = session.get(LiveStage, stage_id)
    poll = session.get(Poll, live.current_poll_id) if live and live.current_poll_id else None
    if (
        poll is None
        or poll.kind not in (PollKind.SINGLE, PollKind.MULTIPLE)
        or poll.status == PollStatus.DRAFT
    ):
        return None
    return poll


def parse_counts(poll: Poll, counts: object) -> dict[int, int]:
    """{"<option id>": n, ...} as sent by the control page -> {option id: n}, or LiveError (the
    field is the option id at fault)."""
    if not isinstance(counts, dict) or not counts:
        raise LiveError("no_counts", field="counts")
    options = {str(option.id): option.id for option in poll.options}
    parsed = {}
    for key, value in counts.items():
        option_id = options.get(key)
        if option_id is None:
            raise LiveError("unknown_option", 404, field=str(key)[:20])
        if type(value) is not int or not 0 <= value <= MAX_HALL_COUNT:
            raise LiveError("invalid_count", field=str(option_id))
        parsed[option_id] = value
    return parsed


def over_ceiling(poll: Poll, counts: dict[int, int], hall_present: int) -> bool:
    """More hands than people in the hall: for one option, or in all (one answer each) for a
    single-choice poll."""
    if any(count > hall_present for count in counts.values()):
        return True
    return poll.kind == PollKind.SINGLE and sum(counts.values()) > hall_present


def set_hall_counts(
    session: Session, poll: Poll, counts: object, *, hall_present: int, actor: User, now: datetime
) -> bool:
    """Store the hall counts given (options not given keep theirs) and move the results version, so
    that every page gets the merged results; True when they exceed the hall's ceiling."""
    if poll.kind not in (PollKind.SINGLE, PollKind.MULTIPLE):
        raise LiveError("hall_count_choice_only", 409)
    if poll.status == PollStatus.DRAFT:
        raise LiveError("poll_not_open", 409)
    if not poll.is_open(now):
        raise LiveError("hall_count_closed", 409)
    parsed = parse_counts(poll, counts)
    stored = {
        row.option_id: row
        for row in session.scalars(select(PollHallCount).where(PollHallCount.poll_id == poll.id))
    }
    for option_id, count in parsed.items():
        row = stored.get(option_id)
        if row is None:
            row = stored[option_id] = PollHallCount(option_id=option_id, poll_id=poll.id, count=count)
            session.add(row)
        row.count, row.updated_at, row.updated_by_id = count, now, actor.id
    session.execute(update(Poll).where(Poll.id == poll.id).values(results_version=Poll.results_version + 1))
    labels = {option.id: option.label for option in poll.options}
    detail = "; ".join(f"{labels[option_id]}={count}" for option_id, count in sorted(parsed.items()))
    audit.record(session, actor, "poll.hall_count", f"poll:{poll.id}", detail)
    session.flush()
    merged = {option_id: row.count for option_id, row in stored.items()}
    return over_ceiling(poll, merged, hall_present)
