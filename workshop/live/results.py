"""A poll's results: counts per answer, split luring/daring and by kind of organisation, and how
many of the people present have answered; with a hall hand count, each bar's count is the hands
plus the online votes, both kept (`hall`, `online`), and a rating poll's average counts both."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, select

from workshop.attendance.present import present_now
from workshop.db import Session
from workshop.live.handcount import hall_counts
from workshop.live.models import Poll, PollKind, PollVote
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.programs.models import Organization, OrgKind, Stage
from workshop.registration.models import Mode, Person, Registration, RegistrationStage

MAX_WORDS_SHOWN = 60
MAX_ANSWERS_SHOWN = 200


def votes_with_voters(poll: Poll, *columns) -> Select:
    """The poll's votes joined to each voter's person, organisation and mode for the poll's stage."""
    return (
        select(*columns)
        .select_from(PollVote)
        .join(Registration, Registration.id == PollVote.registration_id)
        .join(Person, Person.id == Registration.person_id)
        .join(Organization, Organization.id == Person.organization_id)
        .outerjoin(
            RegistrationStage,
            and_(
                RegistrationStage.registration_id == PollVote.registration_id,
                RegistrationStage.stage_id == poll.stage_id,
            ),
        )
        .where(PollVote.poll_id == poll.id)
    )


class Ballot(NamedTuple):
    """One person's answer with what the breakdowns need."""

    registration_id: int
    answer: dict
    mode: str  # luring | daring
    kind: str  # the kind of their organisation


class VoterCache:
    """Mode and organisation kind of a stage's voters, kept a little while: a tally every few
    hundred milliseconds then reads only the votes. One per process (the broadcaster's)."""

    TTL = timedelta(seconds=30)  # a mode changed at the hall door shows within this

    def __init__(self):
        self._stages: dict[int, tuple[datetime, dict[int, tuple[str, str]]]] = {}

    def lookup(self, session: Session, stage_id: int, registration_ids: set[int], now: datetime) -> dict:
        loaded_at, known = self._stages.get(stage_id, (now, {}))
        if now - loaded_at > self.TTL:
            loaded_at, known = now, {}
        missing = registration_ids - known.keys()
        if missing:
            known.update(voter_details(session, stage_id, missing))
        self._stages[stage_id] = (loaded_at, known)
        return known


def voter_details(session: Session, stage_id: int, registration_ids: set[int]) -> dict[int, tuple[str, str]]:
    rows = session.execute(
        select(Registration.id, RegistrationStage.mode, Organization.kind)
        .join(Person, Person.id == Registration.person_id)
        .join(Organization, Organization.id == Person.organization_id)
        .outerjoin(
            RegistrationStage,
            and_(
                RegistrationStage.registration_id == Registration.id, RegistrationStage.stage_id == stage_id
            ),
        )
        .where(Registration.id.in_(registration_ids))
    )
    return {
        registration_id: ((mode or Mode.DARING).value, kind.value) for registration_id, mode, kind in rows
    }


def poll_results(
    session: Session, poll: Poll, stage: Stage, now: datetime, voters: VoterCache | None = None
) -> dict:
    votes = session.execute(
        select(PollVote.registration_id, PollVote.answer)
        .where(PollVote.poll_id == poll.id)
        .order_by(PollVote.updated_at.desc())
    ).all()
    ids = {registration_id for registration_id, _answer in votes}
    details = voters.lookup(session, stage.id, ids, now) if voters else voter_details(session, stage.id, ids)
    rows = [Ballot(registration_id, answer, *details[registration_id]) for registration_id, answer in votes]
    in_room = present_now(session, stage, now)
    present = in_room.everyone
    groups = Counter(row.mode for row in rows)
    kinds = Counter(row.kind for row in rows)
    hall = hall_counts(session, poll)
    return {
        "poll_id": poll.id,
        "version": poll.results_version,
        "total": len(rows),
        "present": len(present),
        "answered_present": len(ids & present),
        "bars": _bars(poll, rows, hall),
        "hall": {
            "entered": bool(hall),
            "total": sum(hall.values()),
            "online": len(rows),
            "present": len(in_room.hall),
        },
        "average": _average(poll, rows, hall),
        "words": _words(poll, rows),
        "answers": [{"text": row.answer["text"]} for row in rows[:MAX_ANSWERS_SHOWN]]
        if poll.kind == PollKind.TEXT
        else [],
        "groups": {
            "luring": groups[Mode.LURING.value],
            "daring": groups[Mode.DARING.value],
            "by_kind": dict(sorted(kinds.items())),
        },
        "kind_labels": {kind: str(ORG_KIND_LABELS[OrgKind(kind)]) for kind in sorted(kinds)},
    }


def _bar_keys(poll: Poll) -> list[tuple[str, str]]:
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        return [(str(option.id), option.label) for option in poll.options]
    if poll.kind == PollKind.RATING:
        return [(str(value), str(value)) for value in range(1, (poll.scale or 5) + 1)]
    return []


def _chosen_keys(answer: dict) -> list[str]:
    if "option_ids" in answer:
        return [str(option_id) for option_id in answer["option_ids"]]
    return [str(answer["rating"])]


def _bars(poll: Poll, rows, hall: dict[str, int]) -> list[dict]:
    keys = _bar_keys(poll)
    if not keys:
        return []
    bars: dict[str, dict[str, Any]] = {
        key: {
            "key": key,
            "label": label,
            "count": 0,
            "online": 0,
            "hall": 0,
            "luring": 0,
            "daring": 0,
            "by_kind": {},
        }
        for key, label in keys
    }
    for row in rows:
        for key in _chosen_keys(row.answer):
            bar = bars.get(key)
            if bar is None:
                continue
            bar["online"] += 1
            bar[row.mode] += 1
            bar["by_kind"][row.kind] = bar["by_kind"].get(row.kind, 0) + 1
    for bar in bars.values():
        bar["hall"] = hall.get(bar["key"], 0)
        bar["count"] = bar["online"] + bar["hall"]
    return list(bars.values())


def _average(poll: Poll, rows, hall: dict[str, int]) -> float | None:
    """A rating poll's average over the online votes and the hands counted in the hall."""
    answers = len(rows) + sum(hall.values())
    if poll.kind != PollKind.RATING or not answers:
        return None
    points = sum(row.answer["rating"] for row in rows) + sum(int(key) * count for key, count in hall.items())
    return round(points / answers, 2)


def _words(poll: Poll, rows) -> list[dict]:
    if poll.kind != PollKind.WORDCLOUD:
        return []
    counts = Counter(word for row in rows for word in row.answer["words"])
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"text": word, "count": count} for word, count in ordered[:MAX_WORDS_SHOWN]]
