"""Read-side lookups of evaluations: the stages a registration evaluated (what the certificates' rule
"evaluation filled" reads) and the results the organiser sees and exports."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from workshop.attendance.queries import online_intervals
from workshop.checkin.models import CheckIn
from workshop.db import Session
from workshop.evaluation.models import (
    SCALE_MAX,
    SCALE_MIN,
    EvaluationResponse,
    ItemKind,
    Questionnaire,
    QuestionnaireItem,
)
from workshop.programs.models import OrgKind, Stage
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status

# Built once (its cache key is memoised on the statement): the participant page asks on every view.
_DEADLINE_DAYS = select(Questionnaire.deadline_days).where(
    Questionnaire.program_id == bindparam("program_id"),
    exists().where(QuestionnaireItem.questionnaire_id == Questionnaire.id),
)


def deadline_days_of(session: Session, program_id: int) -> int | None:
    """The deadline of the programme's questionnaire, in days after a stage's end; None when it has
    no questionnaire, or one without questions (nothing to invite to)."""
    return session.connection().execute(_DEADLINE_DAYS, {"program_id": program_id}).scalar()


def responded_stage_ids(session: Session, registration_id: int) -> set[int]:
    """The ids of the stages this registration has evaluated (a response saved, at any time)."""
    return set(
        session.scalars(
            select(EvaluationResponse.stage_id).where(EvaluationResponse.registration_id == registration_id)
        )
    )


def responded_stage_ids_by_registration(session: Session, registration_ids: list[int]) -> dict[int, set[int]]:
    """`responded_stage_ids` for many registrations in one query (bulk certificate runs);
    every given id is a key, with an empty set if it evaluated nothing."""
    found: dict[int, set[int]] = {registration_id: set() for registration_id in registration_ids}
    if not registration_ids:
        return found
    rows = session.execute(
        select(EvaluationResponse.registration_id, EvaluationResponse.stage_id).where(
            EvaluationResponse.registration_id.in_(registration_ids)
        )
    )
    for registration_id, stage_id in rows:
        found[registration_id].add(stage_id)
    return found


# --- Results -----------------------------------------------------------------------------------


@dataclass
class Tally:
    """The answers to one item from one group: how many gave each rating (or option)."""

    counts: dict[int | str, int] = field(default_factory=dict)

    def add(self, value: int | str) -> None:
        self.counts[value] = self.counts.get(value, 0) + 1

    @property
    def count(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        """The average rating (a scale), None without answers."""
        if not self.count:
            return None
        return sum(int(value) * n for value, n in self.counts.items()) / self.count

    def share(self, value: int | str) -> float:
        """The percentage of answers that gave `value` (0 without answers)."""
        return 100 * self.counts.get(value, 0) / self.count if self.count else 0.0


@dataclass(frozen=True)
class TextAnswer:
    stage: Stage
    mode: Mode | None
    kind: OrgKind
    text: str


@dataclass
class ItemResult:
    item: QuestionnaireItem
    overall: Tally = field(default_factory=Tally)
    by_mode: dict[Mode | None, Tally] = field(default_factory=dict)
    by_kind: dict[OrgKind, Tally] = field(default_factory=dict)
    texts: list[TextAnswer] = field(default_factory=list)

    @property
    def values(self) -> list[int | str]:
        """The ratings 1..5 of a scale, the options of a choice (in the organiser's order, then any
        option answered once and since taken out)."""
        if self.item.kind == ItemKind.SCALE:
            return list(range(SCALE_MIN, SCALE_MAX + 1))
        options = list(self.item.options)
        return options + sorted(value for value in self.overall.counts if value not in options)


@dataclass(frozen=True)
class Respondent:
    """One saved response, with who gave it and how they attended the stage."""

    response: EvaluationResponse
    registration: Registration
    stage: Stage
    mode: Mode | None
    kind: OrgKind


@dataclass
class Results:
    stages: list[Stage]
    items: list[ItemResult]
    respondents: list[Respondent]
    approved: dict[int, int]  # stage id -> approved registrations for it
    responded: dict[int, int]  # stage id -> responses

    @property
    def modes(self) -> list[Mode]:
        return [Mode.LURING, Mode.DARING]

    @property
    def kinds(self) -> list[OrgKind]:
        """The organisation kinds that answered, in the usual order."""
        present = {respondent.kind for respondent in self.respondents}
        return [kind for kind in OrgKind if kind in present]


def attended_modes(
    session: Session, stage: Stage, registrations: list[Registration]
) -> dict[int, Mode | None]:
    """How each registration attended the stage, as the attendance report says: in the hall when
    checked in there, online when seen online only, else as registered."""
    ids = [registration.id for registration in registrations]
    in_hall = set(
        session.scalars(
            select(CheckIn.registration_id).where(
                CheckIn.stage_id == stage.id, CheckIn.undone_at.is_(None), CheckIn.registration_id.in_(ids)
            )
        )
    )
    online_spans = online_intervals(session, ids, stage) if ids else {}
    modes: dict[int, Mode | None] = {}
    for registration in registrations:
        if registration.id in in_hall:
            modes[registration.id] = Mode.LURING
        elif online_spans.get(registration.id):
            modes[registration.id] = Mode.DARING
        else:
            modes[registration.id] = registration.mode_for(stage)
    return modes


def results(session: Session, questionnaire: Questionnaire, stages: list[Stage]) -> Results:
    """The answers to the questionnaire for the given stages (one, or all of them): per item,
    overall, per attendance mode and per organisation kind; the free texts in stage order."""
    stage_ids = [stage.id for stage in stages]
    by_id = {stage.id: stage for stage in stages}
    responses = (
        session.scalars(
            select(EvaluationResponse)
            .where(EvaluationResponse.stage_id.in_(stage_ids))
            .options(
                selectinload(EvaluationResponse.answers),
                joinedload(EvaluationResponse.registration)
                .joinedload(Registration.person)
                .joinedload(Person.organization),
                joinedload(EvaluationResponse.registration).selectinload(Registration.stage_modes),
            )
            .order_by(EvaluationResponse.stage_id, EvaluationResponse.submitted_at, EvaluationResponse.id)
        )
        .unique()
        .all()
    )
    modes: dict[tuple[int, int], Mode | None] = {}
    for stage in stages:
        registrations = [response.registration for response in responses if response.stage_id == stage.id]
        for registration_id, mode in attended_modes(session, stage, registrations).items():
            modes[(registration_id, stage.id)] = mode
    items = [ItemResult(item=item) for item in questionnaire.items]
    by_item = {result.item.id: result for result in items}
    respondents = []
    for response in sorted(
        responses, key=lambda r: ([s.id for s in stages].index(r.stage_id), r.submitted_at, r.id)
    ):
        registration, stage = response.registration, by_id[response.stage_id]
        mode = modes[(registration.id, stage.id)]
        kind = registration.person.organization.kind
        respondents.append(Respondent(response, registration, stage, mode, kind))
        for answer in response.answers:
            result = by_item.get(answer.item_id)
            if result is None:
                continue
            if result.item.kind == ItemKind.TEXT:
                result.texts.append(TextAnswer(stage, mode, kind, answer.text))
                continue
            value = answer.rating if result.item.kind == ItemKind.SCALE else answer.text
            if value is None:  # a scale answer always has its rating
                continue
            result.overall.add(value)
            result.by_mode.setdefault(mode, Tally()).add(value)
            result.by_kind.setdefault(kind, Tally()).add(value)
    approved = dict(
        session.execute(
            select(RegistrationStage.stage_id, func.count())
            .join(Registration, Registration.id == RegistrationStage.registration_id)
            .where(RegistrationStage.stage_id.in_(stage_ids), Registration.status == Status.APPROVED)
            .group_by(RegistrationStage.stage_id)
        )
        .tuples()
        .all()
    )
    responded: dict[int, int] = {}
    for response in responses:
        responded[response.stage_id] = responded.get(response.stage_id, 0) + 1
    return Results(
        stages=stages,
        items=items,
        respondents=respondents,
        approved={stage_id: approved.get(stage_id, 0) for stage_id in stage_ids},
        responded={stage_id: responded.get(stage_id, 0) for stage_id in stage_ids},
    )
