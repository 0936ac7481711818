"""Audiences and expansion: due (rule, stage) pairs into Delivery rows; leases given back;
late marking."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal, or_, select, update
from sqlalchemy.orm import selectinload

from workshop.db import Session
from workshop.programs.models import Stage
from workshop.registration.models import Mode, Registration, RegistrationStage, Status
from workshop.reminders import failures
from workshop.reminders.models import (
    Audience,
    Delivery,
    DeliveryStatus,
    Kind,
    ReminderExpansion,
    ReminderRule,
)
from workshop.reminders.services.common import (
    EngineSettings,
    _changed,
    _insert,
    _typed,
)

# --- Audiences ---------------------------------------------------------------------------------


def _audience_select(stage: Stage, audience: Audience) -> Select[tuple[int]]:
    """Approved registrations of the stage's programme in the audience (their mode for this stage)."""
    query = (
        select(Registration.id)
        .join(
            RegistrationStage,
            (RegistrationStage.registration_id == Registration.id) & (RegistrationStage.stage_id == stage.id),
        )
        .where(Registration.program_id == stage.program_id, Registration.status == Status.APPROVED)
    )
    if audience == Audience.LURING:
        query = query.where(RegistrationStage.mode == Mode.LURING)
    elif audience == Audience.DARING:
        query = query.where(RegistrationStage.mode == Mode.DARING)
    return query


def audience_size(session: Session, stage: Stage, audience: Audience) -> int:
    return session.execute(
        select(func.count()).select_from(_audience_select(stage, audience).subquery())
    ).scalar_one()


def insert_deliveries(
    session: Session,
    *,
    stage: Stage,
    registrations: Select[Any],
    kind: Kind,
    channel: str,
    due_at: datetime,
    late_at: datetime,
    now: datetime,
    rule_id: int | None = None,
    announcement_id: int | None = None,
    stage_move_id: int | None = None,
    participant_message_id: int | None = None,
) -> int:
    """INSERT ... SELECT one pending delivery per selected registration; existing ones stay as
    they are (ON CONFLICT DO NOTHING on the unique keys). Returns how many were new."""
    columns = Delivery.__table__.c
    values = {
        "kind": _typed(kind, columns.kind),
        "rule_id": _typed(rule_id, columns.rule_id),
        "announcement_id": _typed(announcement_id, columns.announcement_id),
        "stage_move_id": _typed(stage_move_id, columns.stage_move_id),
        "participant_message_id": _typed(participant_message_id, columns.participant_message_id),
        "stage_id": _typed(stage.id, columns.stage_id),
        "channel": _typed(channel, columns.channel),
        "due_at": _typed(due_at, columns.due_at),
        "late_at": _typed(late_at, columns.late_at),
        "status": _typed(DeliveryStatus.PENDING, columns.status),
        "attempts": _typed(0, columns.attempts),
        "next_attempt_at": _typed(due_at, columns.next_attempt_at),
        "recipient": _typed("", columns.recipient),
        "sent_by": _typed("", columns.sent_by),
        "provider_ref": _typed("", columns.provider_ref),
        "failure_code": _typed("", columns.failure_code),
        "error": _typed("", columns.error),
        "created_at": _typed(now, columns.created_at),
    }
    registration_ids = registrations.subquery()
    source = select(*values.values(), registration_ids.c.id).where(literal(True))  # SQLite: WHERE before ON
    statement = (
        _insert(session, Delivery)
        .from_select([*values, "registration_id"], source)
        .on_conflict_do_nothing()
        .returning(Delivery.id)  # the rows that were new (rowcount is not reliable here on PostgreSQL)
    )
    return len(session.execute(statement).all())


# --- Expansion ---------------------------------------------------------------------------------


def expand_due(session: Session, now: datetime, touched: set[int] | None = None) -> int:
    """Expand every due (rule, stage) pair into deliveries; returns how many rows were new.

    A pair is due from its moment on. While its window is open it is expanded on every tick (a
    participant approved meanwhile still gets the reminder); once the window has closed it is
    expanded one last time (its deliveries are then marked late, never silently dropped) and
    remembered in ReminderExpansion. A pair whose window had closed before the rule existed is
    not the rule's business.
    """
    pairs = session.execute(
        select(ReminderRule, Stage)
        .join(Stage, Stage.program_id == ReminderRule.program_id)
        .where(
            ReminderRule.active.is_(True),
            or_(ReminderRule.stage_id.is_(None), ReminderRule.stage_id == Stage.id),
            # A stage that ended before the rule existed is not its business (start-anchored rules
            # skip a stage that started before them too: their moment closes at its start, below).
            Stage.ends_at > ReminderRule.created_at,
        )
        .options(selectinload(ReminderRule.overrides))
    ).all()
    if not pairs:
        return 0
    closed = {(e.rule_id, e.stage_id): e.due_at for e in session.scalars(select(ReminderExpansion))}
    created = 0
    for rule, stage in pairs:
        if not rule.applies_to(stage):
            continue
        due_at, late_at = rule.due_at(stage), rule.late_at(stage)
        if due_at > now or late_at <= rule.created_at:
            continue
        window_closed = late_at <= now
        if window_closed and closed.get((rule.id, stage.id)) == due_at:
            continue
        for channel in rule.channel_list:
            new = insert_deliveries(
                session,
                stage=stage,
                registrations=_audience_select(stage, rule.audience),
                kind=Kind.REMINDER,
                channel=channel,
                due_at=due_at,
                late_at=late_at,
                now=now,
                rule_id=rule.id,
            )
            created += new
            if new and touched is not None:
                touched.add(stage.id)
        if window_closed:
            session.execute(
                _insert(session, ReminderExpansion)
                .values(rule_id=rule.id, stage_id=stage.id, due_at=due_at, closed_at=now)
                .on_conflict_do_update(
                    index_elements=["rule_id", "stage_id"], set_={"due_at": due_at, "closed_at": now}
                )
            )
    return created


def release_expired(session: Session, now: datetime, settings: EngineSettings) -> int:
    """Claims whose lease ran out (the worker died or hung) go back to pending, counting an attempt."""
    expired = (Delivery.status == DeliveryStatus.SENDING) & (Delivery.claimed_until <= now)
    given_up = _changed(
        session,
        update(Delivery)
        .where(expired, Delivery.attempts + 1 >= settings.max_attempts)
        .values(
            status=DeliveryStatus.FAILED,
            attempts=Delivery.attempts + 1,
            claimed_until=None,
            claim_token=None,
            failure_code=failures.WORKER_STOPPED,
            error="",
        )
        .execution_options(synchronize_session=False),
    )
    released = _changed(
        session,
        update(Delivery)
        .where(expired)
        .values(
            status=DeliveryStatus.PENDING,
            attempts=Delivery.attempts + 1,
            next_attempt_at=now,
            claimed_until=None,
            claim_token=None,
        )
        .execution_options(synchronize_session=False),
    )
    return given_up + released


def mark_late(session: Session, now: datetime, touched: set[int] | None = None) -> int:
    """Pending deliveries whose moment passed by more than their window: late, not sent."""
    stage_ids = (
        session.execute(
            update(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.late_at <= now)
            .values(status=DeliveryStatus.LATE)
            .returning(Delivery.stage_id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if touched is not None:
        touched.update(stage_ids)
    return len(stage_ids)
