"""Live Q&A and polls of a stage: its settings and version, questions and upvotes, polls with
their options and votes, and the replies to client actions (so a retried action answers the same)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import Model, utcnow
from workshop.registration.models import Registration


class LiveStage(Model):
    """Per stage: how questions are moderated, and a version every public change increments."""

    __tablename__ = "live_stage"

    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), primary_key=True)
    questions_moderated: Mapped[bool] = mapped_column(default=True)
    anonymous_allowed: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    current_poll_id: Mapped[int | None]  # the poll shown: the open one, else the last closed


class QuestionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    ANSWERED = "answered"
    DISMISSED = "dismissed"


PUBLIC_QUESTION_STATUSES = (QuestionStatus.APPROVED, QuestionStatus.ANSWERED)


class Question(Model):
    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    text: Mapped[str] = mapped_column(String(280))
    anonymous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[QuestionStatus] = mapped_column(Enum(QuestionStatus, native_enum=False, length=20))
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was dismissed, shown to the asker
    pinned: Mapped[bool] = mapped_column(default=False)
    upvotes: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    moderated_at: Mapped[datetime | None]
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Marked by the moderator "to discuss at the next stage": carried there when this stage ends.
    carry_over: Mapped[bool] = mapped_column(default=False)
    # The question of the previous stage this one carries on (with its asker and upvotes); unique,
    # so that a question is carried once whichever process does it.
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("question.id"), unique=True)
    # Asked in a group of the stage (workshop/groups): its members see it and upvote it.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("stage_group.id", ondelete="SET NULL"), index=True
    )

    registration: Mapped[Registration] = relationship()


class QuestionUpvote(Model):
    __tablename__ = "question_upvote"

    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"), primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollKind(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    RATING = "rating"
    WORDCLOUD = "wordcloud"
    TEXT = "text"


class PollStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ResultsVisibility(enum.StrEnum):
    LIVE = "live"
    AFTER_CLOSE = "after_close"
    HIDDEN = "hidden"  # organisers only


class Poll(Model):
    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    # For one group of the stage (workshop/groups): only its members vote.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("stage_group.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[PollKind] = mapped_column(Enum(PollKind, native_enum=False, length=20))
    question: Mapped[str] = mapped_column(String(300))
    max_choices: Mapped[int | None]  # multiple choice: at most this many
    scale: Mapped[int | None]  # rating: 5 or 10
    status: Mapped[PollStatus] = mapped_column(
        Enum(PollStatus, native_enum=False, length=10), default=PollStatus.DRAFT
    )
    results_visibility: Mapped[ResultsVisibility] = mapped_column(
        Enum(ResultsVisibility, native_enum=False, length=20), default=ResultsVisibility.LIVE
    )
    allow_change: Mapped[bool] = mapped_column(default=False)
    duration_seconds: Mapped[int | None]  # the countdown started when the poll opens
    opened_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    results_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", order_by="PollOption.position", cascade="all, delete-orphan"
    )

    def accepts_votes_at(self, moment: datetime) -> bool:
        """Whether a vote received at that moment counts: after opening, before the countdown ran
        out and before a facilitator closed it."""
        if self.status == PollStatus.DRAFT or self.opened_at is None or moment < self.opened_at:
            return False
        if self.closes_at is not None and moment >= self.closes_at:
            return False
        return self.status == PollStatus.OPEN or (self.closed_at is not None and moment < self.closed_at)

    def is_open(self, now: datetime) -> bool:
        return self.status == PollStatus.OPEN and (self.closes_at is None or now < self.closes_at)

    def shown_status(self, now: datetime) -> PollStatus:
        """Open until its countdown runs out, whether or not a process has closed it since."""
        if self.status == PollStatus.OPEN and not self.is_open(now):
            return PollStatus.CLOSED
        return self.status


class PollOption(Model):
    __tablename__ = "poll_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    position: Mapped[int]
    label: Mapped[str] = mapped_column(String(200))

    poll: Mapped[Poll] = relationship(back_populates="options")


class PollVote(Model):
    """One per registered person and poll (the unique constraint holds it); `answer` is the
    normalised answer: {"option_ids": [...]}, {"rating": n}, {"words": [...]} or {"text": "..."}.

    `results_version` is the poll's results version that the batch writing the vote made: batches
    of one poll take turns on its row lock, so a tally that has read up to version v reads only
    the votes above v to catch up (workshop/live/tally.py)."""

    __tablename__ = "poll_vote"
    __table_args__ = (
        UniqueConstraint("poll_id", "registration_id"),
        Index("ix_poll_vote_poll_id_results_version", "poll_id", "results_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    answer: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    results_version: Mapped[int] = mapped_column(default=0, server_default="0")


class ClientAction(Model):
    """The reply to an applied client action, by the client's id for it: a retry gets it again."""

    __tablename__ = "client_action"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    reply: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollHallCount(Model):
    """The hands (or cards) counted in the hall for one option of a choice poll, entered by the
    facilitator while the poll is open; shown merged with the online votes, each source labelled."""

    __tablename__ = "poll_hall_count"

    option_id: Mapped[int] = mapped_column(ForeignKey("poll_option.id", ondelete="CASCADE"), primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    count: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class PollHallRating(Model):
    """The hands (or cards) counted in the hall for one value of a rating poll ("who gives 4?"),
    as PollHallCount is for an option of a choice poll."""

    __tablename__ = "poll_hall_rating"

    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    rating: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    count: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
