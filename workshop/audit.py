"""Append an entry to the audit log (the caller's transaction commits it)."""

from __future__ import annotations

from workshop.auth.models import AuditEntry, User
from workshop.db import Session, sqlite_write_intent


def record(session: Session, actor: User | None, action: str, subject: str, detail: str = "") -> None:
    session.add(
        AuditEntry(
            actor_id=actor.id if actor is not None else None,
            action=action,
            subject=subject,
            detail=detail,
        )
    )


def record_export(session: Session, actor: User | None, action: str, subject: str, detail: str) -> None:
    """Record who exported what, for a view that has only read: the read transaction ends first and
    the entry is committed in a short write transaction of its own (a read transaction that then
    writes can fail on SQLite while the scanners are writing)."""
    session.commit()
    sqlite_write_intent.set(True)
    record(session, actor, action, subject, detail)
    session.commit()
