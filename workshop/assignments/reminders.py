"""Reminders of an assignment's deadline, H-3 and H-1, to the contact persons of the organisations
that have not handed it in yet.

The reminder engine's tick sends `signals.reminders_due`; `queue_due` answers it in the tick's
transaction: it queues one participant message per organisation still missing, which the engine
then sends like any other (WhatsApp, email; the dev outbox without either), with its guarantees.
Exactly once: an (assignment, offset) is expanded once, its `AssignmentReminder` row (the primary
key) taken first, in a savepoint, so that a second scheduler doing the same skips it; each delivery
is unique per (message, registration, channel) and claimed atomically by the engine. A reminder
whose moment passed unsent (the scheduler was down) is replaced by the nearer one: after H-1 no H-3
goes out, and nothing goes out after the deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workshop import signals
from workshop.assignments import messages, services
from workshop.assignments.models import Assignment, AssignmentReminder, Submission
from workshop.db import Session
from workshop.reminders import outreach
from workshop.reminders.models import PARTICIPANT_CHANNELS, Kind

OFFSETS = (timedelta(days=3), timedelta(days=1))


def init_app(app) -> None:
    """Answer the reminder engine's tick (one receiver for every app: it works on the session given)."""
    signals.reminders_due.connect(_on_due, weak=False)


def _on_due(_sender, *, session: Session, now: datetime) -> int:
    return queue_due(session, now)


def queue_due(session: Session, now: datetime) -> int:
    """Queue the reminders whose moment has come; returns how many deliveries were queued."""
    queued = 0
    candidates = session.scalars(
        select(Assignment).where(Assignment.deadline > now, Assignment.deadline <= now + max(OFFSETS))
    )
    for assignment in candidates:
        done = set(
            session.scalars(
                select(AssignmentReminder.offset_days).where(
                    AssignmentReminder.assignment_id == assignment.id
                )
            )
        )
        passed = [offset.days for offset in OFFSETS if now >= assignment.deadline - offset]
        if not passed or min(passed) in done:
            continue
        if not _take(session, assignment, passed, done, now):
            continue
        queued += _remind(session, assignment, timedelta(days=min(passed)), now)
    return queued


def _take(session: Session, assignment: Assignment, passed: list[int], done: set[int], now: datetime) -> bool:
    """Record the offsets as expanded (the nearest is sent, the others were missed); False when
    another scheduler did it first."""
    try:
        with session.begin_nested():
            for days in passed:
                if days not in done:
                    session.add(
                        AssignmentReminder(
                            assignment_id=assignment.id,
                            offset_days=days,
                            created_at=now,
                            sent=days == min(passed),
                        )
                    )
    except IntegrityError:
        return False
    return True


def _remind(session: Session, assignment: Assignment, offset: timedelta, now: datetime) -> int:
    handed_in = set(
        session.scalars(select(Submission.organization_id).where(Submission.assignment_id == assignment.id))
    )
    queued = 0
    for organization in session.scalars(services.targets(assignment)):
        if organization.id in handed_in:
            continue
        contacts = session.scalars(services.contacts(assignment.program_id, organization.id)).all()
        if not contacts:
            continue
        queued += outreach.send_texts(
            session,
            assignment.program,
            contacts,
            Kind.ASSIGNMENT,
            texts=messages.reminder_texts(assignment, organization, offset),
            channels=PARTICIPANT_CHANNELS,
            actor=None,
            base_url="",
            now=now,
            stage=assignment.stage,
            late_at=assignment.deadline,
        ).deliveries
    return queued
