"""The state of a stage's Q&A and poll as a client sees it: the JSON of GET /live/<id>/state and
of the broadcasts. Participants see shown questions only, with anonymous askers unnamed, and the
results when the poll's visibility allows, and of the group questions and polls only their own
group's (`for_group`); staff see everything; `mine` is one participant's own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from workshop.attendance.present import present_now
from workshop.db import Session
from workshop.groups.models import StageGroup
from workshop.live.models import (
    PUBLIC_QUESTION_STATUSES,
    Poll,
    PollStatus,
    PollVote,
    Question,
    QuestionStatus,
    QuestionUpvote,
    ResultsVisibility,
)
from workshop.live.results import poll_results
from workshop.live.services import live_settings
from workshop.programs.models import Organization, Stage
from workshop.registration.models import Person, Registration


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def author_of(registration: Registration) -> dict:
    person = registration.person
    affiliation = person.organization.label
    if person.position:
        affiliation = f"{person.position}, {affiliation}"
    return {"name": person.name, "affiliation": affiliation}


def question_json(
    question: Question,
    *,
    staff: bool,
    asker: bool = False,
    origin: str | None = None,
    carried_to: str | None = None,
) -> dict:
    """`origin`: the number of the stage a carried question comes from ("I"); `carried_to`: the
    number of the stage it was carried to."""
    return {
        "id": question.id,
        "text": question.text,
        "author": author_of(question.registration) if staff or asker or not question.anonymous else None,
        "anonymous": question.anonymous,
        "upvotes": question.upvotes,
        "status": question.status.value,
        "pinned": question.pinned,
        "reason": question.reason if staff or asker else "",
        "created_at": iso(question.created_at),
        "carry_over": question.carry_over,
        "origin": origin,
        "carried_to": carried_to,
        "group_id": question.group_id,
    }


def results_visible(poll: Poll, now: datetime, *, staff: bool) -> bool:
    if staff or poll.results_visibility == ResultsVisibility.LIVE:
        return True
    return (
        poll.results_visibility == ResultsVisibility.AFTER_CLOSE
        and poll.shown_status(now) == PollStatus.CLOSED
    )


Tally = Callable[[Poll, Stage], dict]  # a poll's results (the broadcaster computes each once a tick)


def poll_json(
    session: Session, poll: Poll, stage: Stage, now: datetime, *, staff: bool, tally: Tally | None = None
) -> dict:
    return {
        "id": poll.id,
        "kind": poll.kind.value,
        "question": poll.question,
        "options": [{"id": option.id, "label": option.label} for option in poll.options],
        "max_choices": poll.max_choices,
        "scale": poll.scale,
        "status": poll.shown_status(now).value,
        "closes_at": iso(poll.closes_at),
        "allow_change": poll.allow_change,
        "results_visibility": poll.results_visibility.value,
        "group_id": poll.group_id,
        "results": (tally(poll, stage) if tally else poll_results(session, poll, stage, now))
        if results_visible(poll, now, staff=staff)
        else None,
    }


def _questions(session: Session, stage: Stage, *, staff: bool) -> list[Question]:
    query = (
        select(Question)
        .where(Question.stage_id == stage.id)
        .options(
            joinedload(Question.registration)
            .joinedload(Registration.person)
            .joinedload(Person.organization)
            .joinedload(Organization.parent)
        )
        # Carried from the previous stage first: the speakers take them up before the new ones.
        .order_by(
            Question.carried_from_id.is_(None),
            Question.pinned.desc(),
            Question.upvotes.desc(),
            Question.created_at,
        )
    )
    if not staff:
        query = query.where(Question.status.in_(PUBLIC_QUESTION_STATUSES))
    return list(session.scalars(query))


def _origins(session: Session, questions: list[Question]) -> dict[int, str]:
    """Carried question id -> the number of the stage it comes from."""
    carried = {question.carried_from_id: question.id for question in questions if question.carried_from_id}
    if not carried:
        return {}
    rows = session.execute(
        select(Question.id, Stage).join(Stage, Stage.id == Question.stage_id).where(Question.id.in_(carried))
    ).all()
    return {carried[original_id]: stage.number for original_id, stage in rows}


def _destinations(session: Session, stage: Stage, now: datetime) -> dict[int, str]:
    """Question id -> the number of the stage it was carried to (once the stage has ended)."""
    if stage.ends_at > now:
        return {}
    rows = session.execute(
        select(Question.carried_from_id, Stage)
        .join(Stage, Stage.id == Question.stage_id)
        .where(Question.carried_from_id.in_(select(Question.id).where(Question.stage_id == stage.id)))
    ).all()
    return {original_id: target.number for original_id, target in rows}


def stage_state(
    session: Session,
    stage: Stage,
    now: datetime,
    *,
    staff: bool,
    registration: Registration | None = None,
    group_id: int | None = None,
    tally: Tally | None = None,
) -> dict:
    """The snapshot; with a registration it includes `mine`, that participant's own part. A
    participant's holds the plenary items and those of their group (`group_id`) only."""
    state = _state(session, stage, now, staff=staff, registration=registration, tally=tally)
    return state if staff else for_group(state, group_id)


def group_states(session: Session, stage: Stage, now: datetime, tally: Tally | None = None) -> dict:
    """The participants' snapshot for each group of the stage (group id -> state) and for those in
    none (None), computed once: what the broadcasts send to each group's room."""
    state = _state(session, stage, now, staff=False, tally=tally)
    group_ids = session.scalars(select(StageGroup.id).where(StageGroup.stage_id == stage.id))
    return {group_id: for_group(state, group_id) for group_id in [None, *group_ids]}


def for_group(state: dict, group_id: int | None) -> dict:
    """The state without the other groups' questions and poll."""
    poll = state["poll"]
    return state | {
        "poll": poll if poll is None or poll["group_id"] in (None, group_id) else None,
        "questions": [q for q in state["questions"] if q["group_id"] in (None, group_id)],
    }


def _state(
    session: Session,
    stage: Stage,
    now: datetime,
    *,
    staff: bool,
    registration: Registration | None = None,
    tally: Tally | None = None,
) -> dict:
    live = live_settings(session, stage.id)
    poll = (
        session.scalar(
            select(Poll).where(Poll.id == live.current_poll_id).options(selectinload(Poll.options))
        )
        if live.current_poll_id
        else None
    )
    questions = _questions(session, stage, staff=staff)
    origins = _origins(session, questions)
    destinations = _destinations(session, stage, now)
    return {
        "stage_id": stage.id,
        "version": live.version,
        "server_time": iso(now),
        "settings": {
            "questions_moderated": live.questions_moderated,
            "anonymous_allowed": live.anonymous_allowed,
        },
        "poll": poll_json(session, poll, stage, now, staff=staff, tally=tally)
        if poll and poll.status != PollStatus.DRAFT
        else None,
        "questions": [
            question_json(
                question,
                staff=staff,
                origin=origins.get(question.id),
                carried_to=destinations.get(question.id),
            )
            for question in questions
        ],
        "counts": _counts(session, stage, now, questions) if staff else None,
        "mine": _mine(session, stage, registration) if registration is not None else None,
    }


def _counts(session: Session, stage: Stage, now: datetime, questions: list[Question]) -> dict:
    present = present_now(session, stage, now)
    return {
        "present": len(present.everyone),
        "online_now": len(present.online),
        "checked_in": len(present.hall),
        "questions_pending": sum(question.status == QuestionStatus.PENDING for question in questions),
    }


def _mine(session: Session, stage: Stage, registration: Registration) -> dict:
    votes = session.execute(
        select(PollVote.poll_id, PollVote.answer)
        .join(Poll, Poll.id == PollVote.poll_id)
        .where(Poll.stage_id == stage.id, PollVote.registration_id == registration.id)
    ).all()
    upvotes = session.scalars(
        select(QuestionUpvote.question_id)
        .join(Question, Question.id == QuestionUpvote.question_id)
        .where(Question.stage_id == stage.id, QuestionUpvote.registration_id == registration.id)
    )
    own = session.scalars(
        select(Question)
        .where(Question.stage_id == stage.id, Question.registration_id == registration.id)
        .order_by(Question.created_at.desc())
    )
    return {
        "votes": {str(poll_id): answer for poll_id, answer in votes},
        "upvotes": sorted(upvotes),
        "questions": [
            {
                "id": question.id,
                "text": question.text,
                "status": question.status.value,
                "reason": question.reason,
            }
            for question in own
        ],
    }
