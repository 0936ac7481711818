"""The hall's hand count of a poll: the facilitator enters how many hands (or cards) went up for
each option of a choice poll, or for each value of a rating poll; the results merge it with the
online votes, each source labelled.

The ceiling is the number of people checked in at the hall now: a count above it is kept (a guest
without a ticket raises a hand too) and the facilitator is warned. Editable while the poll is open,
audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session
from workshop.live.models import LiveStage, Poll, PollHallCount, PollHallRating, PollKind, PollStatus
from workshop.live.votes import LiveError

MAX_HALL_COUNT = 10_000  # more than any hall holds: a larger number is a typing slip
HAND_COUNTED = (PollKind.SINGLE, PollKind.MULTIPLE, PollKind.RATING)
ONE_ANSWER_EACH = (PollKind.SINGLE, PollKind.RATING)

HallRow = PollHallCount | PollHallRating
# Built once (their cache keys are memoised on the statements): every broadcast tick of a poll asks.
_HALL_RATINGS = select(PollHallRating).where(PollHallRating.poll_id == bindparam("poll_id"))
_HALL_COUNTS = select(PollHallCount).where(PollHallCount.poll_id == bindparam("poll_id"))


def hall_counts(session: Session, poll: Poll) -> dict[str, int]:
    """The hands counted per answer, keyed as the results' bars are: "<option id>" or "<rating>"
    (answers not counted are absent)."""
    return {str(key): row.count for key, row in stored_rows(session, poll).items()}


def stored_rows(session: Session, poll: Poll) -> dict[int, HallRow]:
    """Option id (or rating) -> its stored row (the count, when and by whom it was last set)."""
    if poll.kind == PollKind.RATING:
        ratings = session.scalars(_HALL_RATINGS, {"poll_id": poll.id})
        return {row.rating: row for row in ratings}
    if poll.kind in HAND_COUNTED:
        options = session.scalars(_HALL_COUNTS, {"poll_id": poll.id})
        return {row.option_id: row for row in options}
    return {}


def answer_labels(poll: Poll) -> dict[int, str]:
    """Option id (or rating) -> how the answer reads, for every answer hands can be counted for."""
    if poll.kind == PollKind.RATING:
        return {value: str(value) for value in range(1, (poll.scale or 5) + 1)}
    return {option.id: option.label for option in poll.options}


def shown_poll(session: Session, stage_id: int) -> Poll | None:
    """The stage's poll shown now (open, else the last closed) if hands can be counted for it."""
    live = session.get(LiveStage, stage_id)
    poll = session.get(Poll, live.current_poll_id) if live and live.current_poll_id else None
    if poll is None or poll.kind not in HAND_COUNTED or poll.status == PollStatus.DRAFT:
        return None
    return poll


def parse_counts(poll: Poll, counts: object) -> dict[int, int]:
    """{"<option id or rating>": n, ...} as sent by the control page -> {option id or rating: n},
    or LiveError (the field is the answer's key at fault)."""
    if not isinstance(counts, dict) or not counts:
        raise LiveError("no_counts", field="counts")
    answers = {str(key): key for key in answer_labels(poll)}
    parsed = {}
    for key, value in counts.items():
        answer = answers.get(key)
        if answer is None:
            raise LiveError("unknown_option", 404, field=str(key)[:20])
        if type(value) is not int or not 0 <= value <= MAX_HALL_COUNT:
            raise LiveError("invalid_count", field=str(answer))
        parsed[answer] = value
    return parsed


def over_ceiling(poll: Poll, counts: dict[int, int], hall_present: int) -> bool:
    """More hands than people in the hall: for one answer, or in all (one answer each) for a
    single-choice or rating poll."""
    if any(count > hall_present for count in counts.values()):
        return True
    return poll.kind in ONE_ANSWER_EACH and sum(counts.values()) > hall_present


def set_hall_counts(
    session: Session, poll: Poll, counts: object, *, hall_present: int, actor: User, now: datetime
) -> bool:
    """Store the hall counts given (answers not given keep theirs) and move the results version, so
    that every page gets the merged results; True when they exceed the hall's ceiling."""
    if poll.kind not in HAND_COUNTED:
        raise LiveError("hall_count_choice_only", 409)
    if poll.status == PollStatus.DRAFT:
        raise LiveError("poll_not_open", 409)
    if not poll.is_open(now):
        raise LiveError("hall_count_closed", 409)
    parsed = parse_counts(poll, counts)
    stored = stored_rows(session, poll)
    for key, count in parsed.items():
        row = stored.get(key)
        if row is None:
            row = stored[key] = _new_row(poll, key)
            session.add(row)
        row.count, row.updated_at, row.updated_by_id = count, now, actor.id
    session.execute(update(Poll).where(Poll.id == poll.id).values(results_version=Poll.results_version + 1))
    labels = answer_labels(poll)
    detail = "; ".join(f"{labels[key]}={count}" for key, count in sorted(parsed.items()))
    audit.record(session, actor, "poll.hall_count", f"poll:{poll.id}", detail)
    session.flush()
    return over_ceiling(poll, {key: row.count for key, row in stored.items()}, hall_present)


def _new_row(poll: Poll, key: int) -> HallRow:
    if poll.kind == PollKind.RATING:
        return PollHallRating(poll_id=poll.id, rating=key, count=0)
    return PollHallCount(option_id=key, poll_id=poll.id, count=0)
