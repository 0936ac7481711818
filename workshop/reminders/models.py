"""Reminder rules, the delivery outbox, announcements, stage moves, messages to chosen
participants, the dev outbox, heartbeats.

The database is the source of truth: a rule says when (an offset before a stage's start) and to
whom (an audience, on some channels); the engine expands a due rule into one Delivery row per
(rule, stage, registration, channel), unique in the database, and drains those rows. Announcements,
change notices and messages to chosen participants (outreach.py) are Delivery rows too.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import Model, utcnow
from workshop.programs.models import Program, Stage
from workshop.registration.models import Registration

CHANNELS = ("whatsapp", "email", "inapp")


class Audience(enum.StrEnum):
    ALL = "all"  # every approved registration
    LURING = "luring"  # approved, in the hall for that stage
    DARING = "daring"  # approved, online for that stage


class Anchor(enum.StrEnum):
    START = "start"  # offset_minutes before the stage starts (H-3, H-1, 1 hour)
    END = "end"  # offset_minutes before the stage ends (0: at its end): the evaluation's invitation


# A rule at the stage's end without a window of its own is late this long after its moment.
END_WINDOW = timedelta(days=1)


class Kind(enum.StrEnum):
    REMINDER = "reminder"
    ANNOUNCEMENT = "announcement"
    STAGE_CHANGED = "stage_changed"
    # Messages to chosen participants (ParticipantMessage): their personal link, and the news of
    # their approval, of a place on the waiting list, of a move up from it.
    PERSONAL_LINK = "personal_link"
    APPROVED = "approved"
    WAITLISTED = "waitlisted"
    PROMOTED = "promoted"
    CERTIFICATE = "certificate"  # "sertifikat tersedia": sent from the certificates page
    QUESTION_CARRIED = "question_carried"  # live Q&A: a question goes on at the next stage
    # An organisation's assignment (workshop/assignments): its review, a reminder of its deadline.
    ASSIGNMENT = "assignment"
    # WhatsApp replies (workshop/whatsapp): a poll's question, and the answer to a participant's reply.
    POLL_QUESTION = "poll_question"
    WHATSAPP_REPLY = "whatsapp_reply"


PARTICIPANT_KINDS = (Kind.PERSONAL_LINK, Kind.APPROVED, Kind.WAITLISTED, Kind.PROMOTED, Kind.CERTIFICATE)
PARTICIPANT_CHANNELS = ("whatsapp", "email")  # they reach people who may not be logged in


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its due moment (or its next attempt)
    SENDING = "sending"  # claimed by a worker until claimed_until (the lease)
    SENT = "sent"
    FAILED = "failed"  # permanent failure, or temporary ones up to the limit
    LATE = "late"  # its moment passed by more than its window: not sent
    CANCELLED = "cancelled"  # the registration was cancelled (or no longer approved) before sending


class ReminderSettings(Model):
    """Marks a programme whose default rules were created (so deleting them all sticks)."""

    __tablename__ = "reminder_settings"

    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReminderRule(Model):
    """A reminder `offset_minutes` before a stage starts: for every stage of the programme, or
    for one stage only (`stage_id`). Late after `window_minutes` past its moment; with no window,
    late once the stage has started (a reminder is never sent after its stage started).

    A rule anchored at the stage's end (`anchor` END) invites to the evaluation instead: its moment
    is `offset_minutes` before the stage's end, late after its window (END_WINDOW without one)."""

    __tablename__ = "reminder_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stage.id"), index=True)
    offset_minutes: Mapped[int]
    window_minutes: Mapped[int | None]
    channels: Mapped[str] = mapped_column(String(40))  # "whatsapp,email,inapp"
    audience: Mapped[Audience] = mapped_column(
        Enum(Audience, native_enum=False, length=10), default=Audience.ALL
    )
    anchor: Mapped[Anchor] = mapped_column(
        Enum(Anchor, native_enum=False, length=10), default=Anchor.START, server_default=Anchor.START.name
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[Program] = relationship()
    stage: Mapped[Stage | None] = relationship()
    overrides: Mapped[list[ReminderRuleOverride]] = relationship(
        back_populates="rule", cascade="all, delete-orphan"
    )

    @property
    def channel_list(self) -> list[str]:
        return [name for name in CHANNELS if name in self.channels.split(",")]

    @property
    def offset(self) -> timedelta:
        return timedelta(minutes=self.offset_minutes)

    @property
    def at_end(self) -> bool:
        return self.anchor == Anchor.END

    def due_at(self, stage: Stage) -> datetime:
        return (stage.ends_at if self.at_end else stage.starts_at) - self.offset

    def late_at(self, stage: Stage) -> datetime:
        if self.at_end:
            window = END_WINDOW if self.window_minutes is None else timedelta(minutes=self.window_minutes)
            return self.due_at(stage) + window
        if self.window_minutes is None:
            return stage.starts_at
        return min(self.due_at(stage) + timedelta(minutes=self.window_minutes), stage.starts_at)

    def applies_to(self, stage: Stage) -> bool:
        if not self.active or (self.stage_id is not None and self.stage_id != stage.id):
            return False
        return not any(o.stage_id == stage.id and not o.enabled for o in self.overrides)


class ReminderRuleOverride(Model):
    """A programme-wide rule switched off (enabled=False) for one stage."""

    __tablename__ = "reminder_rule_override"

    rule_id: Mapped[int] = mapped_column(ForeignKey("reminder_rule.id"), primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), primary_key=True, index=True)
    enabled: Mapped[bool] = mapped_column(default=False)

    rule: Mapped[ReminderRule] = relationship(back_populates="overrides")


class ReminderExpansion(Model):
    """A (rule, stage) pair whose window had closed when it was expanded, for that due moment:
    it need not be looked at again (unless the stage or the rule moves its due moment)."""

    __tablename__ = "reminder_expansion"

    rule_id: Mapped[int] = mapped_column(ForeignKey("reminder_rule.id"), primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), primary_key=True, index=True)
    due_at: Mapped[datetime]
    closed_at: Mapped[datetime]


class Announcement(Model):
    """A one-off text for a stage's participants, sent now through the engine."""

    __tablename__ = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    channels: Mapped[str] = mapped_column(String(40))
    audience: Mapped[Audience] = mapped_column(Enum(Audience, native_enum=False, length=10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    stage: Mapped[Stage] = relationship()
    author = relationship("User")


class StageMove(Model):
    """A change of a stage's start: the version that change notices are unique for."""

    __tablename__ = "stage_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    previous_start: Mapped[datetime]
    new_start: Mapped[datetime]
    moved_at: Mapped[datetime] = mapped_column(default=utcnow)

    stage: Mapped[Stage] = relationship()


class MessageTemplate(Model):
    """A programme's words for one kind of message to participants, in Indonesian and English,
    its channels, and (for the news of a status change) whether it goes out by itself. Without a
    row, the standard text goes out on WhatsApp and email, and nothing goes out by itself."""

    __tablename__ = "message_template"

    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), primary_key=True)
    kind: Mapped[Kind] = mapped_column(Enum(Kind, native_enum=False, length=20), primary_key=True)
    text_id: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    channels: Mapped[str] = mapped_column(String(40), default="whatsapp,email")
    automatic: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ParticipantMessage(Model):
    """One sending of a message to chosen participants, with its texts as they were then and the
    base of the personal links in it (the request's host when PUBLIC_BASE_URL is not set)."""

    __tablename__ = "participant_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    kind: Mapped[Kind] = mapped_column(Enum(Kind, native_enum=False, length=20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    text_id: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    base_url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author = relationship("User")

    def text_for(self, locale: str) -> str:
        return self.text_en if locale == "en" else self.text_id


class Delivery(Model):
    """One message to one registration (or, for a WhatsApp reply to an unknown number, to the bare
    number in `recipient`) on one channel: the outbox row the engine drains."""

    __tablename__ = "delivery"
    __table_args__ = (
        # NULLs are distinct, so each constraint binds only the kind that fills its first column.
        UniqueConstraint("rule_id", "stage_id", "registration_id", "channel"),
        UniqueConstraint("announcement_id", "registration_id", "channel"),
        UniqueConstraint("stage_move_id", "stage_id", "registration_id", "channel"),
        UniqueConstraint("participant_message_id", "registration_id", "channel"),
        Index("ix_delivery_status_due_at", "status", "due_at"),
        Index("ix_delivery_stage_id_rule_id", "stage_id", "rule_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(Enum(Kind, native_enum=False, length=20))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("reminder_rule.id"))
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcement.id"))
    stage_move_id: Mapped[int | None] = mapped_column(ForeignKey("stage_move.id"))
    participant_message_id: Mapped[int | None] = mapped_column(ForeignKey("participant_message.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"))  # a participant message: the next stage
    # None for a WhatsApp reply to a number nobody registered (sent to `recipient`)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime]
    late_at: Mapped[datetime]
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(DeliveryStatus, native_enum=False, length=20), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254), default="")
    provider_ref: Mapped[str] = mapped_column(String(200), default="")
    # Why it failed (or failed last, while waiting to be retried): a code of
    # workshop/reminders/failures.py, shown translated, and the error's own words, shown as they came.
    failure_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    sent_by: Mapped[str] = mapped_column(String(200), default="")  # the scheduler, "<mode>:<host>:<pid>"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rule: Mapped[ReminderRule | None] = relationship()
    announcement: Mapped[Announcement | None] = relationship()
    stage_move: Mapped[StageMove | None] = relationship()
    participant_message: Mapped[ParticipantMessage | None] = relationship()
    stage: Mapped[Stage] = relationship()
    registration: Mapped[Registration | None] = relationship()


class OutboxMessage(Model):
    """The dev outbox: what email and WhatsApp would have sent with no SMTP server or gateway."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), index=True)
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SchedulerHeartbeat(Model):
    """One row per running scheduler, beaten every tick: /healthz can tell 0, 1 or 2 apart."""

    __tablename__ = "scheduler_heartbeat"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # "<mode>:<host>:<pid>"
    mode: Mapped[str] = mapped_column(String(20))  # "embedded" | "process"
    pid: Mapped[int]
    host: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)
