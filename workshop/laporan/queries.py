"""What the laporan reports, read from the features that hold it: per stage the attendance recap
(reports), the polls and questions (live), the photos; the evaluation results (evaluation), the
assignments between stages (assignments) and the certificates issued (certificates). Plain facts, not yet words: document.py says them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from workshop.assignments import queries as assignment_queries
from workshop.assignments.models import Assignment
from workshop.attendance.models import AttendanceStatus
from workshop.certificates.models import Certificate
from workshop.certificates.queries import certificates_of
from workshop.db import Session
from workshop.evaluation import queries as evaluation_queries
from workshop.evaluation import services as evaluation_services
from workshop.groups import queries as group_queries
from workshop.groups.queries import GroupView
from workshop.laporan.models import ReportPhoto, ReportText
from workshop.laporan.services import texts_of
from workshop.live.models import Poll, PollStatus, Question, QuestionStatus
from workshop.live.queries import Fate, question_fates
from workshop.live.results import poll_results
from workshop.programs.models import OrgKind, Program, Stage
from workshop.registration.models import Mode, Person, Registration
from workshop.reports.services import stage_attendance

# The questions a laporan lists, in this order (answered first; a state added later comes last);
# dismissed ones are left out (off-topic, spam).
_FIRST = [QuestionStatus.ANSWERED, QuestionStatus.APPROVED, QuestionStatus.PENDING]
QUESTION_ORDER = _FIRST + [s for s in QuestionStatus if s not in _FIRST and s != QuestionStatus.DISMISSED]


@dataclass
class Recap:
    """One stage's attendance: how many have each status, per mode (as attended) and per kind."""

    total: Counter = field(default_factory=Counter)
    by_mode: dict[Mode | None, Counter] = field(default_factory=dict)
    by_kind: dict[OrgKind, Counter] = field(default_factory=dict)

    @property
    def statuses(self) -> list[AttendanceStatus]:
        """The four statuses of attendance, and "not started" if some stage has not."""
        shown = [
            AttendanceStatus.HADIR,
            AttendanceStatus.TERLAMBAT,
            AttendanceStatus.IZIN,
            AttendanceStatus.TIDAK_HADIR,
        ]
        return (
            [*shown, AttendanceStatus.BELUM_DIMULAI] if self.total[AttendanceStatus.BELUM_DIMULAI] else shown
        )


@dataclass(frozen=True)
class AskedQuestion:
    text: str
    asker: str | None  # None: asked anonymously
    organization: str
    upvotes: int
    status: QuestionStatus
    carried_over: bool  # carried to the next stage, or marked to be
    carried_in: bool  # carried here from the previous stage


@dataclass(frozen=True)
class PollSummary:
    poll: Poll
    results: dict  # live.results.poll_results


@dataclass(frozen=True)
class StageFacts:
    stage: Stage
    recap: Recap
    polls: list[PollSummary]
    questions: list[AskedQuestion]
    photos: list[ReportPhoto]


@dataclass(frozen=True)
class Facts:
    program: Program
    texts: ReportText
    whole: bool  # the whole programme, else one stage
    stages: list[StageFacts]
    evaluation: evaluation_queries.Results | None
    certificates: list[Certificate]  # valid ones; the whole programme's report only
    assignments: list[Assignment] = field(default_factory=list)  # of the stages reported
    assignment_rows: list[assignment_queries.Row] = field(default_factory=list)  # organisations x them
    group_work: dict[int, list[GroupView]] = field(default_factory=dict)  # stage id -> its groups, if any


def recap(session: Session, stage: Stage, now: datetime) -> Recap:
    found = Recap()
    for row in stage_attendance(session, stage, now=now):
        found.total[row.status] += 1
        found.by_mode.setdefault(row.mode, Counter())[row.status] += 1
        found.by_kind.setdefault(row.org.kind, Counter())[row.status] += 1
    return found


def polls(session: Session, stage: Stage, now: datetime) -> list[PollSummary]:
    asked = session.scalars(
        select(Poll)
        .where(Poll.stage_id == stage.id, Poll.status != PollStatus.DRAFT)
        .order_by(Poll.position, Poll.id)
    )
    return [PollSummary(poll, poll_results(session, poll, stage, now)) for poll in asked]


def questions(session: Session, stage: Stage) -> list[AskedQuestion]:
    rows = session.scalars(
        select(Question)
        .where(Question.stage_id == stage.id, Question.status.in_(QUESTION_ORDER))
        .options(
            joinedload(Question.registration).joinedload(Registration.person).joinedload(Person.organization)
        )
    ).all()
    rows = sorted(rows, key=lambda q: (QUESTION_ORDER.index(q.status), -q.upvotes, q.created_at, q.id))
    carried = {fate.question.id for fate in question_fates(session, stage.id) if fate.fate == Fate.CARRIED}
    return [
        AskedQuestion(
            text=question.text,
            asker=None if question.anonymous else question.registration.person.name,
            organization="" if question.anonymous else question.registration.person.organization.label,
            upvotes=question.upvotes,
            status=question.status,
            carried_over=question.carry_over or question.id in carried,
            carried_in=question.carried_from_id is not None,
        )
        for question in rows
    ]


def photos_of(session: Session, stage_ids: list[int], *, with_content: bool = False) -> list[ReportPhoto]:
    """The photos of the stages, in upload order (their bytes loaded only when asked for)."""
    query = select(ReportPhoto).where(ReportPhoto.stage_id.in_(stage_ids)).order_by(ReportPhoto.id)
    if not with_content:
        query = query.options(defer(ReportPhoto.content))
    return list(session.scalars(query))


def facts(session: Session, program: Program, stage: Stage | None, *, now: datetime) -> Facts:
    """Everything the laporan says: of the whole programme (`stage` None), or of one stage."""
    whole = stage is None
    stages = list(program.stages) if stage is None else [stage]
    photos = photos_of(session, [stage.id for stage in stages], with_content=True)
    questionnaire = evaluation_services.questionnaire_of(session, program)
    stage_ids = {stage.id for stage in stages}
    assignments = [
        a for a in assignment_queries.assignments_of(session, program.id) if a.stage_id in stage_ids
    ]
    return Facts(
        program=program,
        texts=texts_of(session, program),
        whole=whole,
        stages=[
            StageFacts(
                stage=stage,
                recap=recap(session, stage, now),
                polls=polls(session, stage, now),
                questions=questions(session, stage),
                photos=[photo for photo in photos if photo.stage_id == stage.id],
            )
            for stage in stages
        ],
        evaluation=evaluation_queries.results(session, questionnaire, stages) if questionnaire else None,
        certificates=[c for c in certificates_of(program.id) if not c.revoked] if whole else [],
        assignments=assignments,
        assignment_rows=assignment_queries.matrix(session, assignments, now),
        group_work={
            stage.id: groups
            for stage in stages
            if (groups := group_queries.stage_groups(session, stage.id)[1])
        },
    )
