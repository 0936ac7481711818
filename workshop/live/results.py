"""A poll's results: counts per answer, split luring/daring and by kind of organisation, and how
many of the people present have answered; with a hall hand count, each bar's count is the hands
plus the online votes, both kept (`hall`, `online`), and a rating poll's average counts both."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from itertools import islice
from typing import NamedTuple

from sqlalchemy import Select, and_, bindparam, select

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


# Built once (its cache key is memoised on the statement): every tick with new voters asks.
_VOTER_DETAILS = (
    select(Registration.id, RegistrationStage.mode, Organization.kind)
    .join(Person, Person.id == Registration.person_id)
    .join(Organization, Organization.id == Person.organization_id)
    .outerjoin(
        RegistrationStage,
        and_(
            RegistrationStage.registration_id == Registration.id,
            RegistrationStage.stage_id == bindparam("stage_id"),
        ),
    )
    .where(Registration.id.in_(bindparam("registration_ids", expanding=True)))
)


def voter_details(session: Session, stage_id: int, registration_ids: set[int]) -> dict[int, tuple[str, str]]:
    rows = session.execute(_VOTER_DETAILS, {"stage_id": stage_id, "registration_ids": list(registration_ids)})
    return {
        registration_id: ((mode or Mode.DARING).value, kind.value) for registration_id, mode, kind in rows
    }


def poll_results(session: Session, poll: Poll, stage: Stage, now: datetime) -> dict:
    votes = session.execute(
        select(PollVote.registration_id, PollVote.answer)
        .where(PollVote.poll_id == poll.id)
        .order_by(PollVote.updated_at, PollVote.id)
    ).all()
    details = voter_details(session, stage.id, {registration_id for registration_id, _answer in votes})
    tally = Tally()
    for registration_id, answer in votes:
        tally.put(Ballot(registration_id, answer, *details[registration_id]))
    return tally.results(session, poll, stage, now)


class Tally:
    """A poll's counts, kept as ballots come and change: per answer, luring/daring and kind of
    organisation, overall and per bar. `results` adds who is present now and the hall's hands."""

    def __init__(self) -> None:
        self.ballots: dict[int, Ballot] = {}  # by registration, in the order written (newest last)
        self.groups: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.chosen: dict[str, Counter[str]] = {}  # bar key -> counts by mode and by "kind:<kind>"
        self.words: Counter[str] = Counter()
        self.rating_sum = 0

    def put(self, ballot: Ballot) -> None:
        """Count a person's ballot, in place of the one they had."""
        old = self.ballots.pop(ballot.registration_id, None)
        if old is not None:
            self._count(old, -1)
        self.ballots[ballot.registration_id] = ballot
        self._count(ballot, 1)

    def _count(self, ballot: Ballot, sign: int) -> None:
        answer = ballot.answer
        self.groups[ballot.mode] += sign
        self.kinds[ballot.kind] += sign
        keys = [str(key) for key in answer.get("option_ids", ())]
        if "rating" in answer:
            keys.append(str(answer["rating"]))
            self.rating_sum += sign * answer["rating"]
        for key in keys:
            counts = self.chosen.setdefault(key, Counter())
            counts[ballot.mode] += sign
            counts["kind:" + ballot.kind] += sign
        for word in answer.get("words", ()):
            self.words[word] += sign

    def results(self, session: Session, poll: Poll, stage: Stage, now: datetime) -> dict:
        total = len(self.ballots)
        in_room = present_now(session, stage, now)
        present = in_room.everyone
        hall = hall_counts(session, poll)
        kinds = sorted(kind for kind, count in self.kinds.items() if count > 0)
        return {
            "poll_id": poll.id,
            "version": poll.results_version,
            "total": total,
            "present": len(present),
            "answered_present": sum(1 for registration_id in present if registration_id in self.ballots),
            "bars": self._bars(poll, hall),
            "hall": {
                "entered": bool(hall),
                "total": sum(hall.values()),
                "online": total,
                "present": len(in_room.hall),
            },
            "average": self._average(poll, hall),
            "words": self._words() if poll.kind == PollKind.WORDCLOUD else [],
            "answers": [
                {"text": ballot.answer["text"]}
                for ballot in islice(reversed(self.ballots.values()), MAX_ANSWERS_SHOWN)
            ]
            if poll.kind == PollKind.TEXT
            else [],
            "groups": {
                "luring": self.groups[Mode.LURING.value],
                "daring": self.groups[Mode.DARING.value],
                "by_kind": {kind: self.kinds[kind] for kind in kinds},
            },
            "kind_labels": {kind: str(ORG_KIND_LABELS[OrgKind(kind)]) for kind in kinds},
        }

    def _average(self, poll: Poll, hall: dict[str, int]) -> float | None:
        """A rating poll's average over the online votes and the hands counted in the hall."""
        answers = len(self.ballots) + sum(hall.values())
        if poll.kind != PollKind.RATING or not answers:
            return None
        points = self.rating_sum + sum(int(key) * count for key, count in hall.items())
        return round(points / answers, 2)

    def _bars(self, poll: Poll, hall: dict[str, int]) -> list[dict]:
        bars = []
        for key, label in _bar_keys(poll):
            counts = self.chosen.get(key, Counter())
            online = counts[Mode.LURING.value] + counts[Mode.DARING.value]
            hands = hall.get(key, 0)
            bars.append(
                {
                    "key": key,
                    "label": label,
                    "count": online + hands,
                    "online": online,
                    "hall": hands,
                    "luring": counts[Mode.LURING.value],
                    "daring": counts[Mode.DARING.value],
                    "by_kind": {
                        name.removeprefix("kind:"): count
                        for name, count in counts.items()
                        if name.startswith("kind:") and count > 0
                    },
                }
            )
        return bars

    def _words(self) -> list[dict]:
        ordered = sorted(
            ((word, count) for word, count in self.words.items() if count > 0),
            key=lambda item: (-item[1], item[0]),
        )
        return [{"text": word, "count": count} for word, count in ordered[:MAX_WORDS_SHOWN]]


def _bar_keys(poll: Poll) -> list[tuple[str, str]]:
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        return [(str(option.id), option.label) for option in poll.options]
    if poll.kind == PollKind.RATING:
        return [(str(value), str(value)) for value in range(1, (poll.scale or 5) + 1)]
    return []
