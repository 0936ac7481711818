"""The delivery log of a stage: counts, rows, failures, the snapshot staff screens fetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from workshop.db import Session
from workshop.programs.models import Stage
from workshop.registration.models import Registration
from workshop.reminders.models import (
    Announcement,
    Delivery,
    DeliveryStatus,
    Kind,
    ParticipantMessage,
    ReminderRule,
    StageMove,
)
from workshop.reminders.services.expansion import (
    audience_size,
)
from workshop.reminders.services.rules import (
    program_rules,
)

# --- The delivery log --------------------------------------------------------------------------

LOG_STATUSES = tuple(DeliveryStatus)
FAILURE_LIST_LIMIT = 200


@dataclass
class LogRow:
    """One line of a stage's delivery log: a rule, an announcement, a change notice, or a message
    to chosen participants."""

    key: str
    kind: Kind
    rule: ReminderRule | None = None
    announcement: Announcement | None = None
    move: StageMove | None = None
    message: ParticipantMessage | None = None
    due_at: datetime | None = None
    late_at: datetime | None = None
    enabled: bool = True
    expected: int | None = None  # audience x channels, for a rule not yet due
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in LOG_STATUSES})

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def stage_log(session: Session, stage: Stage, now: datetime) -> list[LogRow]:
    """Per rule (then announcements, change notices and messages to chosen participants): counts
    of deliveries by status."""
    rows: dict[str, LogRow] = {}
    rules = [r for r in program_rules(session, stage.program) if r.stage_id in (None, stage.id)]
    for rule in rules:
        rows[f"rule:{rule.id}"] = LogRow(
            key=f"rule:{rule.id}",
            kind=Kind.REMINDER,
            rule=rule,
            due_at=rule.due_at(stage),
            late_at=rule.late_at(stage),
            enabled=rule.applies_to(stage),
        )
    row_and_status = (
        Delivery.kind,
        Delivery.rule_id,
        Delivery.announcement_id,
        Delivery.stage_move_id,
        Delivery.participant_message_id,
        Delivery.status,
    )
    counts = session.execute(
        select(*row_and_status, func.count()).where(Delivery.stage_id == stage.id).group_by(*row_and_status)
    ).all()
    announcements = {
        a.id: a for a in session.scalars(select(Announcement).where(Announcement.stage_id == stage.id))
    }
    moves = {m.id: m for m in session.scalars(select(StageMove).where(StageMove.stage_id == stage.id))}
    for move in moves.values():  # a move shows even when nobody needed a change notice
        rows[f"move:{move.id}"] = LogRow(key=f"move:{move.id}", kind=Kind.STAGE_CHANGED, move=move)
    messages = {
        m.id: m
        for m in session.scalars(
            select(ParticipantMessage).where(
                ParticipantMessage.id.in_(
                    select(Delivery.participant_message_id).where(Delivery.stage_id == stage.id)
                )
            )
        )
    }
    for kind, rule_id, announcement_id, move_id, message_id, status, count in counts:
        if kind == Kind.REMINDER:
            key = f"rule:{rule_id}"
            if key not in rows:  # a rule of another stage cannot be here; a deleted one cannot either
                continue
        elif kind == Kind.ANNOUNCEMENT:
            key = f"announcement:{announcement_id}"
            rows.setdefault(key, LogRow(key=key, kind=kind, announcement=announcements.get(announcement_id)))
        elif message_id is not None:
            key = f"message:{message_id}"
            rows.setdefault(key, LogRow(key=key, kind=kind, message=messages.get(message_id)))
        else:
            key = f"move:{move_id}"
            rows.setdefault(key, LogRow(key=key, kind=kind, move=moves.get(move_id)))
        rows[key].counts[status.value] += count
    for row in rows.values():
        if row.rule is not None and row.total == 0 and row.enabled:
            row.expected = audience_size(session, stage, row.rule.audience) * len(row.rule.channel_list)
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            {Kind.REMINDER: 0, Kind.ANNOUNCEMENT: 1, Kind.STAGE_CHANGED: 2}.get(r.kind, 3),
            -(r.rule.offset_minutes if r.rule else 0),
            -(r.announcement.id if r.announcement else r.move.id if r.move else 0),
            -(r.message.id if r.message else 0),
        ),
    )
    return ordered


def stage_failures(session: Session, stage: Stage, limit: int = FAILURE_LIST_LIMIT) -> list[Delivery]:
    """Failed deliveries, and those waiting to be retried, with their reasons (newest first)."""
    return list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.stage_id == stage.id,
                or_(
                    Delivery.status == DeliveryStatus.FAILED,
                    (Delivery.status == DeliveryStatus.PENDING) & (Delivery.failure_code != ""),
                ),
            )
            .options(selectinload(Delivery.registration).selectinload(Registration.person))
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    )


def log_snapshot(session: Session, stage: Stage, now: datetime) -> dict[str, Any]:
    """The JSON the delivery log page re-fetches on every socket event (and every 10 s without one)."""
    rows = stage_log(session, stage, now)
    totals = {s.value: sum(r.counts[s.value] for r in rows) for s in LOG_STATUSES}
    failures = stage_failures(session, stage)
    return {
        "stage_id": stage.id,
        "version": int(now.timestamp() * 1000),
        "generated_at": now.isoformat(),
        "totals": totals,
        "rows": {r.key: {"counts": r.counts, "expected": r.expected} for r in rows},
        "failures": [
            {
                "id": d.id,
                "name": d.registration.person.name if d.registration else d.recipient,
                "channel": d.channel,
                "status": d.status.value,
                "attempts": d.attempts,
                "failure_code": d.failure_code,
                "error": d.error,
                "next_attempt_at": d.next_attempt_at.isoformat()
                if d.status == DeliveryStatus.PENDING
                else None,
            }
            for d in failures
        ],
    }
