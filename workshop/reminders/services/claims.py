"""Claiming a batch of due deliveries atomically (SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update

from workshop.db import Session
from workshop.registration.models import Registration, Status
from workshop.reminders.models import (
    Delivery,
    DeliveryStatus,
    Kind,
)
from workshop.reminders.services.common import (
    _dialect,
)

# --- Claiming ----------------------------------------------------------------------------------


def claim(
    session: Session, *, now: datetime, limit: int, lease: timedelta, cancelled: set[int] | None = None
) -> tuple[str, list[int]]:
    """Claim up to `limit` due deliveries for this worker; the caller commits at once.

    SQLite: the transaction began IMMEDIATE (it holds the write lock), and the UPDATE only takes
    rows still pending. PostgreSQL: the candidates are locked with FOR UPDATE SKIP LOCKED, so two
    workers never wait for, nor take, each other's rows. Claimed deliveries whose registration left
    the status they are for (see _no_longer_for_them) are set to cancelled in the same
    transaction and not returned.
    """
    token = secrets.token_hex(16)
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.due_at <= now,
            Delivery.next_attempt_at <= now,
            Delivery.late_at > now,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if _dialect(session) == "postgresql":
        candidates = list(session.scalars(due.with_for_update(skip_locked=True)))
        if not candidates:
            return token, []
        chosen = Delivery.id.in_(candidates)
    else:
        chosen = Delivery.id.in_(due.scalar_subquery())
    claimed = session.execute(
        update(Delivery)
        .where(chosen, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SENDING, claim_token=token, claimed_until=now + lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    ids = sorted(claimed)
    if not ids:
        return token, []
    skipped = set(
        session.execute(
            update(Delivery)
            .where(Delivery.claim_token == token, _no_longer_for_them())
            .values(status=DeliveryStatus.CANCELLED, claim_token=None, claimed_until=None)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    if cancelled is not None:
        cancelled |= skipped
    return token, [i for i in ids if i not in skipped]


def _no_longer_for_them() -> ColumnElement[bool]:
    """Deliveries whose registration is no longer in the status the message is for: approved,
    except the news of a place on the waiting list, which is for those still waiting, and the
    answer to a WhatsApp message, which is for whoever wrote it."""
    not_approved = select(Registration.id).where(Registration.status != Status.APPROVED)
    not_waiting = select(Registration.id).where(Registration.status != Status.WAITLISTED)
    return or_(
        Delivery.kind.not_in((Kind.WAITLISTED, Kind.WHATSAPP_REPLY))
        & Delivery.registration_id.in_(not_approved),
        (Delivery.kind == Kind.WAITLISTED) & Delivery.registration_id.in_(not_waiting),
    )
