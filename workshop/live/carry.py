"""Questions carried to the next stage: when a stage ends, its approved questions that were not
answered (among them those the moderator marked "to discuss at the next stage") go to the next
stage's queue, approved, with their asker, their upvotes and their origin; each asker is told
through the participant-message channels, their question quoted (shortened when long).

Exactly once: a carried question names the one it continues (`carried_from_id`, unique), so when
two processes carry the same stage at once, the second's insert fails on that constraint and its
carrying rolls back whole, its notices too. Run by the reminder engine's tick
(`workshop.signals.reminders_due`, in a savepoint of the tick's transaction) and on the first read
of the next stage's pages, whichever comes first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from workshop import signals
from workshop.db import Session
from workshop.live.models import Question, QuestionStatus, QuestionUpvote
from workshop.live.services import bump_version, following_stage
from workshop.programs.models import Program, Stage
from workshop.registration.models import Registration
from workshop.reminders import outreach
from workshop.reminders.models import Kind

QUOTE_LENGTH = 120  # characters of a question quoted in its asker's notice (a question holds 280)


def _to_carry(session: Session, stage: Stage) -> list[Question]:
    """The stage's approved questions not carried yet."""
    copy = aliased(Question)
    return list(
        session.scalars(
            select(Question)
            .outerjoin(copy, copy.carried_from_id == Question.id)
            .where(
                Question.stage_id == stage.id,
                Question.status == QuestionStatus.APPROVED,
                copy.id.is_(None),
            )
            .order_by(Question.id)
        )
    )


def due(session: Session, stage: Stage, now: datetime) -> bool:
    """Whether the stage has ended, has a next stage and has questions still to carry (a read)."""
    return (
        stage.ends_at <= now
        and following_stage(session, stage) is not None
        and bool(_to_carry(session, stage))
    )


@dataclass
class Carried:
    stage: Stage  # where they went
    questions: list[Question]
    told: int  # askers with a notice queued
    deliveries: int  # their notices (one per asker and channel)


def carry(session: Session, stage: Stage, *, now: datetime, base_url: str = "") -> Carried | None:
    """Carry an ended stage's open questions to the next stage; None when nothing is due. The caller
    commits (an IntegrityError then means another process carried them: roll back)."""
    target = following_stage(session, stage)
    if stage.ends_at > now or target is None:
        return None
    originals = _to_carry(session, stage)
    if not originals:
        return None
    copies = []
    for original in originals:
        copy = Question(
            stage_id=target.id,
            registration_id=original.registration_id,
            text=original.text,
            anonymous=original.anonymous,
            status=QuestionStatus.APPROVED,
            upvotes=original.upvotes,
            created_at=now,
            carried_from_id=original.id,
        )
        session.add(copy)
        copies.append(copy)
    session.flush()
    supporters = session.execute(
        select(QuestionUpvote.question_id, QuestionUpvote.registration_id, QuestionUpvote.created_at).where(
            QuestionUpvote.question_id.in_([original.id for original in originals])
        )
    ).all()
    copy_of = {copy.carried_from_id: copy.id for copy in copies}
    if supporters:
        session.execute(
            insert(QuestionUpvote),
            [
                {"question_id": copy_of[question_id], "registration_id": registration_id, "created_at": at}
                for question_id, registration_id, at in supporters
            ],
        )
    bump_version(session, target.id)
    program = session.get_one(Program, stage.program_id)
    settings = outreach.settings_for(session, program)[Kind.QUESTION_CARRIED]
    told = deliveries = 0
    for asker, texts in _notices(session, settings.texts, originals):
        queued = outreach.send_texts(
            session,
            program,
            [asker],
            Kind.QUESTION_CARRIED,
            texts=texts,
            channels=settings.channels,
            actor=None,
            base_url=base_url,
            now=now,
            stage=target,
        )
        told += len(queued.reached)
        deliveries += queued.deliveries
    return Carried(stage=target, questions=copies, told=told, deliveries=deliveries)


def quote(text: str) -> str:
    """A question as the asker's notice quotes it: in quotation marks, cut at a word when long."""
    if len(text) > QUOTE_LENGTH:
        text = text[: QUOTE_LENGTH - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
    return f"“{text}”"


def _notices(
    session: Session, standard: dict[str, str], originals: list[Question]
) -> list[tuple[Registration, dict[str, str]]]:
    """Each asker, and the words of their notice (language -> text): the programme's (`standard`),
    then their questions quoted, one a line."""
    asked: dict[int, list[str]] = {}
    for original in originals:
        asked.setdefault(original.registration_id, []).append(quote(original.text))
    askers = session.scalars(select(Registration).where(Registration.id.in_(asked)).order_by(Registration.id))
    return [
        (asker, {language: f"{text}\n\n" + "\n".join(asked[asker.id]) for language, text in standard.items()})
        for asker in askers
    ]


def ended_stages_to_carry(session: Session, now: datetime) -> list[Stage]:
    """Ended stages (with a next stage) that still have approved questions to carry (a read)."""
    copy = aliased(Question)
    ids = session.scalars(
        select(Question.stage_id)
        .join(Stage, Stage.id == Question.stage_id)
        .outerjoin(copy, copy.carried_from_id == Question.id)
        .where(Stage.ends_at <= now, Question.status == QuestionStatus.APPROVED, copy.id.is_(None))
        .distinct()
    ).all()
    stages = [session.get_one(Stage, stage_id) for stage_id in ids]
    return [stage for stage in stages if following_stage(session, stage) is not None]


def init_app(app) -> None:
    """Answer the reminder engine's tick (one receiver for every app: it works on the session given)."""
    signals.reminders_due.connect(_on_due, weak=False)


def _on_due(_sender, *, session: Session, now: datetime) -> int:
    return carry_due(session, now)


def carry_due(session: Session, now: datetime) -> int:
    """Carry the questions of every ended stage still holding some, each stage in a savepoint (one
    that another process carried meanwhile is left to it); the caller commits. Returns the number
    of notices queued."""
    queued = 0
    for stage in ended_stages_to_carry(session, now):
        try:
            with session.begin_nested():
                carried = carry(session, stage, now=now)
        except IntegrityError:
            continue
        queued += carried.deliveries if carried else 0
    return queued
