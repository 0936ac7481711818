"""Stage moves (change notices), announcements and retries of failed deliveries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import selectinload

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session
from workshop.programs.models import Stage
from workshop.registration.models import Registration, Status
from workshop.reminders.models import (
    CHANNELS,
    Announcement,
    Audience,
    Delivery,
    DeliveryStatus,
    Kind,
    ReminderExpansion,
    StageMove,
)
from workshop.reminders.services.common import (
    ANNOUNCEMENT_WINDOW,
    CHANGE_NOTICE_MIN_WINDOW,
    ReminderError,
    _changed,
)
from workshop.reminders.services.expansion import (
    _audience_select,
    insert_deliveries,
)
from workshop.reminders.services.rules import (
    _channels_text,
)

# --- Stage moves, announcements, retries --------------------------------------------------------


def stage_rescheduled(
    session: Session, stage: Stage, previous_start: datetime, now: datetime
) -> StageMove | None:
    """Called after a stage's details were saved (workshop/programs/views.edit_stage).

    When the start changed: the stage's reminders not yet sent follow the new start (their moment
    and window are computed again; a late one whose new window is still open is pending again);
    sent ones are not repeated; everyone who already got (or is being sent) a reminder for this
    stage gets a change notice on the same channels, unique per (stage, registration, channel,
    move).
    """
    if stage.starts_at == previous_start:
        return None
    move = StageMove(
        stage_id=stage.id, previous_start=previous_start, new_start=stage.starts_at, moved_at=now
    )
    session.add(move)
    session.flush()
    unsent = session.scalars(
        select(Delivery)
        .where(
            Delivery.stage_id == stage.id,
            Delivery.kind == Kind.REMINDER,
            Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.LATE]),
        )
        .options(selectinload(Delivery.rule))
    ).all()
    for delivery in unsent:
        assert delivery.rule is not None  # a reminder is made by its rule
        delivery.due_at = delivery.rule.due_at(stage)
        delivery.late_at = delivery.rule.late_at(stage)
        delivery.next_attempt_at = delivery.due_at
        if delivery.status == DeliveryStatus.LATE and delivery.late_at > now:
            delivery.status = DeliveryStatus.PENDING
            delivery.failure_code = delivery.error = ""
    session.execute(delete(ReminderExpansion).where(ReminderExpansion.stage_id == stage.id))
    late_at = max(stage.ends_at, now + CHANGE_NOTICE_MIN_WINDOW)
    for channel in CHANNELS:
        insert_deliveries(
            session,
            stage=stage,
            registrations=_reminded_on(stage, channel),
            kind=Kind.STAGE_CHANGED,
            channel=channel,
            due_at=now,
            late_at=late_at,
            now=now,
            stage_move_id=move.id,
        )
    session.flush()
    return move


def _reminded_on(stage: Stage, channel: str) -> Select[tuple[int | None]]:
    return (
        select(Delivery.registration_id.label("id"))
        .join(Registration, Registration.id == Delivery.registration_id)
        .where(
            Delivery.stage_id == stage.id,
            Delivery.kind == Kind.REMINDER,
            Delivery.channel == channel,
            Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.SENDING]),
            Registration.status == Status.APPROVED,
        )
        .distinct()
    )


def announce(
    session: Session,
    stage: Stage,
    *,
    text: str,
    channels: Iterable[str],
    audience: Audience,
    actor: User | None,
    now: datetime,
) -> tuple[Announcement, int]:
    """A one-off message to a stage's participants, due now, through the same engine."""
    text = text.strip()
    if not text:
        raise ReminderError("empty_text", "text")
    announcement = Announcement(
        stage_id=stage.id,
        author_id=actor.id if actor is not None else None,
        text=text,
        channels=_channels_text(channels),
        audience=audience,
        created_at=now,
    )
    session.add(announcement)
    session.flush()
    count = 0
    for channel in announcement.channels.split(","):
        count += insert_deliveries(
            session,
            stage=stage,
            registrations=_audience_select(stage, audience),
            kind=Kind.ANNOUNCEMENT,
            channel=channel,
            due_at=now,
            late_at=now + ANNOUNCEMENT_WINDOW,
            now=now,
            announcement_id=announcement.id,
        )
    audit.record(session, actor, "reminder.announce", f"stage:{stage.id}", f"{count} deliveries")
    return announcement, count


def retry_failed(
    session: Session,
    stage: Stage,
    *,
    rule_id: int | None = None,
    actor: User | None,
    now: datetime,
) -> tuple[int, int]:
    """Failed deliveries of a stage (or of one rule) back to pending, attempts from zero.

    Returns (retried, too late): a delivery whose window has closed stays failed, since it would
    only be marked late.
    """
    criteria = [Delivery.stage_id == stage.id, Delivery.status == DeliveryStatus.FAILED]
    if rule_id is not None:
        criteria.append(Delivery.rule_id == rule_id)
    retried = _changed(
        session,
        update(Delivery)
        .where(*criteria, Delivery.late_at > now)
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, failure_code="", error="")
        .execution_options(synchronize_session=False),
    )
    too_late = session.execute(select(func.count()).select_from(Delivery).where(*criteria)).scalar_one()
    if retried:
        audit.record(session, actor, "reminder.retry", f"stage:{stage.id}", f"{retried} deliveries")
    return retried, too_late
