"""Operations of live Q&A and polls. Each takes the session and explicit arguments, changes the
data, bumps the stage's version when participants would see the change, and leaves the commit to
the caller (votes, written in batches, are in votes.py)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session
from workshop.ids import valid_id
from workshop.live.models import (
    PUBLIC_QUESTION_STATUSES,
    ClientAction,
    LiveStage,
    Poll,
    PollKind,
    PollOption,
    PollStatus,
    Question,
    QuestionStatus,
    QuestionUpvote,
    ResultsVisibility,
)
from workshop.live.votes import LiveError
from workshop.programs.models import Stage
from workshop.programs.schedule import Phase, stage_phase
from workshop.registration.models import Registration
from workshop.text import clean_line

MAX_QUESTION_LENGTH = 280
MAX_REASON_LENGTH = 300
RATE_WINDOW = timedelta(minutes=1)
MODERATION_ACTIONS = ("approve", "dismiss", "answered", "pin", "unpin", "carry", "uncarry")


def _default_live_stage(stage_id: int) -> LiveStage:
    return LiveStage(stage_id=stage_id, questions_moderated=True, anonymous_allowed=True, version=1)


def live_stage(session: Session, stage_id: int) -> LiveStage:
    """The stage's live settings, stored with the defaults on first use (in a write transaction)."""
    live = session.get(LiveStage, stage_id)
    if live is None:
        live = _default_live_stage(stage_id)
        session.add(live)
        session.flush()
    return live


def live_settings(session: Session, stage_id: int) -> LiveStage:
    """For reading: the stored settings, or the defaults (not stored) of a stage nobody used yet."""
    return session.get(LiveStage, stage_id) or _default_live_stage(stage_id)


def bump_version(session: Session, stage_id: int) -> None:
    live_stage(session, stage_id)
    session.execute(
        update(LiveStage).where(LiveStage.stage_id == stage_id).values(version=LiveStage.version + 1)
    )


def earlier_reply(session: Session, user: User, client_id: str) -> dict[str, Any] | None:
    return session.scalar(
        select(ClientAction.reply).where(ClientAction.user_id == user.id, ClientAction.client_id == client_id)
    )


def remember_reply(session: Session, user: User, client_id: str, reply: dict[str, Any]) -> dict[str, Any]:
    session.add(ClientAction(user_id=user.id, client_id=client_id, reply=reply))
    return reply


def update_settings(
    session: Session, stage: Stage, *, questions_moderated: bool, anonymous_allowed: bool, actor: User
) -> None:
    live = live_stage(session, stage.id)
    live.questions_moderated = questions_moderated
    live.anonymous_allowed = anonymous_allowed
    bump_version(session, stage.id)
    audit.record(
        session,
        actor,
        "live.settings",
        f"stage:{stage.id}",
        f"moderated={questions_moderated} anonymous={anonymous_allowed}",
    )


# Questions


def ask(
    session: Session,
    stage: Stage,
    registration: Registration,
    text: str,
    *,
    anonymous: bool,
    now: datetime,
    per_minute: int,
    group_id: int | None = None,
) -> Question:
    """`group_id`: the asker's group, for a question to their group (the caller checked it). Once the
    stage has ended no question is taken: its open ones are carried to the next stage once (carry.py)."""
    if stage_phase(stage, now) == Phase.ENDED:
        raise LiveError("stage_ended", 409)
    text = " ".join(clean_line(text).split()) if isinstance(text, str) else ""
    if not text:
        raise LiveError("empty", field="text")
    if len(text) > MAX_QUESTION_LENGTH:
        raise LiveError("too_long", field="text")
    recent = session.execute(
        select(func.count())
        .select_from(Question)
        .where(Question.registration_id == registration.id, Question.created_at > now - RATE_WINDOW)
    ).scalar_one()
    if recent >= per_minute:
        raise LiveError("rate_limited", 429)
    live = live_stage(session, stage.id)
    question = Question(
        stage_id=stage.id,
        registration_id=registration.id,
        text=text,
        anonymous=bool(anonymous) and live.anonymous_allowed,
        status=QuestionStatus.PENDING if live.questions_moderated else QuestionStatus.APPROVED,
        created_at=now,
        group_id=group_id,
    )
    session.add(question)
    bump_version(session, stage.id)
    session.flush()
    return question


def upvote(
    session: Session, stage: Stage, registration: Registration, question_id: object, now: datetime
) -> Question:
    """Once per person: a second upvote changes nothing and answers the same. Not once the stage has
    ended: its open questions were carried to the next stage with the upvotes they had then."""
    if stage_phase(stage, now) == Phase.ENDED:
        raise LiveError("support_ended", 409)
    question = session.get(Question, question_id) if valid_id(question_id) else None
    if question is None or question.stage_id != stage.id or question.status not in PUBLIC_QUESTION_STATUSES:
        raise LiveError("unknown_question", 404)
    if question.registration_id == registration.id:
        raise LiveError("own_question", 409)
    if session.get(QuestionUpvote, (question.id, registration.id)) is None:
        session.add(QuestionUpvote(question_id=question.id, registration_id=registration.id, created_at=now))
        session.execute(
            update(Question).where(Question.id == question.id).values(upvotes=Question.upvotes + 1)
        )
        bump_version(session, stage.id)
        session.flush()
        session.refresh(question)
    return question


def moderate(
    session: Session,
    stage: Stage,
    question_id: object,
    action: object,
    reason: object,
    *,
    actor: User,
    now: datetime,
) -> Question:
    question = session.get(Question, question_id) if valid_id(question_id) else None
    if question is None or question.stage_id != stage.id:
        raise LiveError("unknown_question", 404)
    if action not in MODERATION_ACTIONS:
        raise LiveError("invalid", field="action")
    reason = " ".join(clean_line(reason).split()) if isinstance(reason, str) else ""
    if len(reason) > MAX_REASON_LENGTH:
        raise LiveError("too_long", field="reason")
    if action in ("approve", "dismiss", "answered"):
        question.carry_over = False
    if action == "approve":
        question.status, question.reason = QuestionStatus.APPROVED, ""
    elif action == "dismiss":
        question.status, question.reason, question.pinned = QuestionStatus.DISMISSED, reason, False
    elif action == "answered":
        question.status, question.pinned = QuestionStatus.ANSWERED, False
    elif action == "carry":  # "bahas di tahap berikutnya": shown, and carried when the stage ends
        if following_stage(session, stage) is None:
            raise LiveError("no_next_stage", 409)
        question.status, question.reason, question.pinned = QuestionStatus.APPROVED, "", False
        question.carry_over = True
    elif action == "uncarry":  # discussed at this stage after all; still carried if left unanswered
        if not question.carry_over:
            raise LiveError("invalid", field="action")
        question.carry_over = False
    elif question.status not in PUBLIC_QUESTION_STATUSES:
        raise LiveError("invalid", field="action")  # only a shown question can be pinned
    else:
        question.pinned = action == "pin"
    question.moderated_at, question.moderated_by_id = now, actor.id
    bump_version(session, stage.id)
    audit.record(session, actor, f"question.{action}", f"question:{question.id}", reason)
    return question


def previous_stage(session: Session, stage: Stage) -> Stage | None:
    return session.scalar(
        select(Stage)
        .where(Stage.program_id == stage.program_id, Stage.position < stage.position)
        .order_by(Stage.position.desc())
        .limit(1)
    )


def following_stage(session: Session, stage: Stage) -> Stage | None:
    return session.scalar(
        select(Stage)
        .where(Stage.program_id == stage.program_id, Stage.position > stage.position)
        .order_by(Stage.position)
        .limit(1)
    )


# Polls


@dataclass(frozen=True)
class PollDraft:
    kind: PollKind
    question: str
    options: list[str] = field(default_factory=list)  # single and multiple choice
    max_choices: int | None = None  # multiple choice
    scale: int | None = None  # rating: 5 or 10
    results_visibility: ResultsVisibility = ResultsVisibility.LIVE
    allow_change: bool = False
    duration_seconds: int | None = None
    group_id: int | None = None  # a group of the stage (checked by the form), or the whole stage


def create_poll(session: Session, stage: Stage, draft: PollDraft, *, actor: User) -> Poll:
    position = session.execute(
        select(func.coalesce(func.max(Poll.position), 0)).where(Poll.stage_id == stage.id)
    ).scalar_one()
    poll = Poll(stage_id=stage.id, position=position + 1, status=PollStatus.DRAFT)
    _fill(poll, draft)
    session.add(poll)
    session.flush()
    audit.record(session, actor, "poll.create", f"poll:{poll.id}", poll.question)
    return poll


def update_poll(session: Session, poll: Poll, draft: PollDraft, *, actor: User) -> None:
    if poll.status != PollStatus.DRAFT:
        raise LiveError("not_draft", 409)
    _fill(poll, draft)
    audit.record(session, actor, "poll.update", f"poll:{poll.id}", poll.question)


def _fill(poll: Poll, draft: PollDraft) -> None:
    poll.kind = draft.kind
    poll.question = draft.question
    choice = draft.kind in (PollKind.SINGLE, PollKind.MULTIPLE)
    poll.max_choices = draft.max_choices if draft.kind == PollKind.MULTIPLE else None
    poll.scale = draft.scale if draft.kind == PollKind.RATING else None
    poll.results_visibility = draft.results_visibility
    poll.allow_change = draft.allow_change
    poll.duration_seconds = draft.duration_seconds
    poll.group_id = draft.group_id
    labels = draft.options if choice else []
    poll.options = [PollOption(position=index, label=label) for index, label in enumerate(labels, start=1)]


def delete_poll(session: Session, poll: Poll, *, actor: User) -> None:
    if poll.status != PollStatus.DRAFT:
        raise LiveError("not_draft", 409)
    audit.record(session, actor, "poll.delete", f"poll:{poll.id}", poll.question)
    session.delete(poll)


def open_poll(session: Session, poll: Poll, *, actor: User, now: datetime) -> None:
    """Open the poll (its countdown starts) and show it; an open poll of the stage closes."""
    if poll.status != PollStatus.DRAFT:
        raise LiveError("not_draft", 409)
    for other in session.scalars(
        select(Poll).where(Poll.stage_id == poll.stage_id, Poll.status == PollStatus.OPEN)
    ):
        _close(other, now)
    poll.status, poll.opened_at = PollStatus.OPEN, now
    poll.closes_at = now + timedelta(seconds=poll.duration_seconds) if poll.duration_seconds else None
    _show(session, poll)
    audit.record(session, actor, "poll.open", f"poll:{poll.id}")


def close_poll(session: Session, poll: Poll, *, actor: User | None, now: datetime) -> None:
    if poll.status != PollStatus.OPEN:
        raise LiveError("poll_not_open", 409)
    _close(poll, now)
    bump_version(session, poll.stage_id)
    audit.record(session, actor, "poll.close", f"poll:{poll.id}")


def reopen_poll(session: Session, poll: Poll, *, actor: User, now: datetime) -> None:
    """Open a closed poll again, without a countdown; votes already given stay."""
    if poll.shown_status(now) != PollStatus.CLOSED:
        raise LiveError("poll_not_closed", 409)
    for other in session.scalars(
        select(Poll).where(Poll.stage_id == poll.stage_id, Poll.status == PollStatus.OPEN, Poll.id != poll.id)
    ):
        _close(other, now)
    poll.status, poll.closes_at, poll.closed_at = PollStatus.OPEN, None, None
    _show(session, poll)
    audit.record(session, actor, "poll.reopen", f"poll:{poll.id}")


# Built once (their cache keys are memoised on the statements): every broadcast tick asks.
_POLLS_IN_PLAY = select(Poll).where(
    (Poll.status == PollStatus.OPEN)
    | ((Poll.status == PollStatus.CLOSED) & (Poll.closed_at >= bindparam("closed_since")))
)
_POLLS_IN_PLAY_OF_STAGES = _POLLS_IN_PLAY.where(Poll.stage_id.in_(bindparam("stage_ids", expanding=True)))
_EXPIRED_POLLS = select(Poll.id).where(Poll.status == PollStatus.OPEN, Poll.closes_at <= bindparam("now"))


def polls_in_play(
    session: Session, closed_since: datetime, stage_ids: Collection[int] | None = None
) -> list[Poll]:
    """The polls (of these stages, or of all) open now or closed since the given moment."""
    if stage_ids is None:
        return list(session.scalars(_POLLS_IN_PLAY, {"closed_since": closed_since}))
    return list(
        session.scalars(
            _POLLS_IN_PLAY_OF_STAGES, {"closed_since": closed_since, "stage_ids": list(stage_ids)}
        )
    )


def stage_versions(session: Session, stage_ids: Collection[int]) -> dict[int, int]:
    """The live version of each of these stages that has live settings stored."""
    return dict(
        session.execute(
            select(LiveStage.stage_id, LiveStage.version).where(LiveStage.stage_id.in_(stage_ids))
        )
        .tuples()
        .all()
    )


# Built once (its cache key is memoised on the statement): every socket that joins a stage asks.
_STATE_VERSIONS = (
    select(LiveStage.version, Poll.results_version)
    .outerjoin(Poll, Poll.id == LiveStage.current_poll_id)
    .where(LiveStage.stage_id == bindparam("stage_id"))
)


def state_versions(session: Session, stage_id: int) -> dict[str, Any]:
    """What a client's state is as new as: the stage's version and its current poll's results
    version (as in the snapshot)."""
    row = session.execute(_STATE_VERSIONS, {"stage_id": stage_id}).first()
    if row is None:
        return {"version": _default_live_stage(stage_id).version, "results_version": None}
    return {"version": row.version, "results_version": row.results_version}


def expired_polls(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(_EXPIRED_POLLS, {"now": now}))


def close_expired_polls(session: Session, now: datetime) -> list[Poll]:
    """Close the polls whose countdown ran out (at the moment it did); the caller commits."""
    expired = list(
        session.scalars(
            select(Poll).where(Poll.status == PollStatus.OPEN, Poll.closes_at <= now).with_for_update()
        )
    )
    for poll in expired:
        assert poll.closes_at is not None  # selected by it
        _close(poll, poll.closes_at)
        bump_version(session, poll.stage_id)
    return expired


def _close(poll: Poll, now: datetime) -> None:
    poll.status, poll.closed_at = PollStatus.CLOSED, now


def _show(session: Session, poll: Poll) -> None:
    live_stage(session, poll.stage_id).current_poll_id = poll.id
    bump_version(session, poll.stage_id)
