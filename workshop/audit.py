"""Append an entry to the audit log (the caller's transaction commits it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workshop.auth.models import AuditEntry, User


def record(session: Session, actor: User | None, action: str, subject: str, detail: str = "") -> None:
    session.add(
        AuditEntry(
            actor_id=actor.id if actor is not None else None,
            action=action,
            subject=subject,
            detail=detail,
        )
    )
