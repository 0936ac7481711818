"""Scheduler heartbeats: who is alive, for /healthz."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from workshop.db import Session
from workshop.reminders.models import (
    SchedulerHeartbeat,
)
from workshop.reminders.services.common import (
    HEARTBEAT_KEEP,
    _insert,
)

# --- Heartbeats --------------------------------------------------------------------------------


def beat(
    session: Session, *, name: str, mode: str, pid: int, host: str, started_at: datetime, now: datetime
) -> None:
    """Record that this scheduler is alive (upsert), and forget schedulers silent for a day."""
    session.execute(
        _insert(session, SchedulerHeartbeat)
        .values(name=name, mode=mode, pid=pid, host=host, started_at=started_at, beat_at=now)
        .on_conflict_do_update(index_elements=["name"], set_={"beat_at": now})
    )
    session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at < now - HEARTBEAT_KEEP))


def live_schedulers(session: Session, now: datetime, within: timedelta) -> list[SchedulerHeartbeat]:
    """Schedulers that beat within `within` (e.g. three ticks): what /healthz reports."""
    return list(
        session.scalars(
            select(SchedulerHeartbeat)
            .where(SchedulerHeartbeat.beat_at >= now - within)
            .order_by(SchedulerHeartbeat.started_at)
        )
    )


def stop_beating(session: Session, name: str) -> None:
    session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.name == name))
