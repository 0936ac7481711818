"""Read-side queries of live Q&A for other pages: what became of each question of a stage (the
activity report lists them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, joinedload

from workshop.live.models import Question, QuestionStatus
from workshop.programs.models import Stage
from workshop.registration.models import Registration


class Fate(enum.StrEnum):
    ANSWERED = "answered"
    CARRIED = "carried"  # to the next stage: `carried_to` names it
    OPEN = "open"  # approved, not answered (yet), not carried
    PENDING = "pending"  # never moderated
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class QuestionFate:
    question: Question  # with its registration and person loaded
    fate: Fate
    carried_to: Stage | None  # the stage it was carried to
    carried_from: Stage | None  # the stage it came from, for a carried question


def question_fates(session: Session, stage_id: int) -> list[QuestionFate]:
    """Every question of the stage, in the order asked, with its fate."""
    copy, original = aliased(Question), aliased(Question)
    to_stage, from_stage = aliased(Stage), aliased(Stage)
    rows = session.execute(
        select(Question, to_stage, from_stage)
        .outerjoin(copy, copy.carried_from_id == Question.id)
        .outerjoin(to_stage, to_stage.id == copy.stage_id)
        .outerjoin(original, original.id == Question.carried_from_id)
        .outerjoin(from_stage, from_stage.id == original.stage_id)
        .where(Question.stage_id == stage_id)
        .options(joinedload(Question.registration).joinedload(Registration.person))
        .order_by(Question.created_at, Question.id)
    ).all()
    return [
        QuestionFate(question, _fate(question, carried_to), carried_to, carried_from)
        for question, carried_to, carried_from in rows
    ]


def _fate(question: Question, carried_to: Stage | None) -> Fate:
    if question.status == QuestionStatus.ANSWERED:
        return Fate.ANSWERED
    if carried_to is not None:
        return Fate.CARRIED
    if question.status == QuestionStatus.DISMISSED:
        return Fate.DISMISSED
    return Fate.PENDING if question.status == QuestionStatus.PENDING else Fate.OPEN
