"""Issuing numbered certificates to those who earned one, revoking them, and the bulk runs that
put their PDFs into one ZIP.

Numbers are unique and gap-free per programme: they are assigned in the transaction that creates
the certificates, after locking the programme's counter row (`SELECT ... FOR UPDATE` on
PostgreSQL; on SQLite every write transaction begins IMMEDIATE and so holds the database's write
lock already). Who already has a certificate is read after the lock, so two runs at once issue
each certificate once: the second waits, then finds the first one's certificates. A revoked
certificate keeps its row and number, and its registration gets no new one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workshop import audit, i18n
from workshop.auth.models import User
from workshop.certificates.models import (
    Certificate,
    CertificateCounter,
    CertificateJob,
    CertificateSettings,
    JobStatus,
)
from workshop.certificates.services import Candidate, CertificateError, format_number, rule_of, settings_for
from workshop.db import Session
from workshop.programs import facts
from workshop.programs.models import Program

REASON_MAX_LENGTH = 500
JOB_STALE_AFTER = timedelta(minutes=15)


def new_code() -> str:
    """The verification code: 72 random bits, URL-safe (12 characters)."""
    return secrets.token_urlsafe(9)


def _lock_counter(session: Session, program_id: int) -> CertificateCounter:
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(CertificateCounter).values(program_id=program_id, last_number=0).on_conflict_do_nothing()
    )
    return session.scalars(
        select(CertificateCounter)
        .where(CertificateCounter.program_id == program_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def certificate_date(settings: CertificateSettings, program: Program, now: datetime) -> date:
    return settings.signed_on or i18n.local(now, program.timezone).date()


def issue(
    session: Session,
    program: Program,
    candidates: Iterable[Candidate],
    *,
    actor: User | None,
    now: datetime,
) -> int:
    """A certificate for each eligible candidate that has none yet (revoked ones included), numbered
    on from the programme's last number, inserted in one statement. Returns how many were issued."""
    eligible = [candidate for candidate in candidates if candidate.standing.eligible]
    settings = settings_for(session, program)
    dated = certificate_date(settings, program, now)
    numbers = {stage.id: stage.number for stage in program.stages}
    counter = _lock_counter(session, program.id)
    # Read after the lock: a run that committed meanwhile is seen, and its certificates kept.
    have = set(
        session.scalars(select(Certificate.registration_id).where(Certificate.program_id == program.id))
    )
    first = counter.last_number + 1
    rows = []
    for candidate in eligible:
        if candidate.registration_id in have:
            continue
        counter.last_number += 1
        rows.append(
            {
                "program_id": program.id,
                "registration_id": candidate.registration_id,
                "number": counter.last_number,
                "number_text": format_number(settings.number_format, counter.last_number, dated.year),
                "code": new_code(),
                "name": candidate.name,
                "organization": candidate.organization,
                "program_title": program.title,
                "stage_numbers": ",".join(numbers[stage_id] for stage_id in candidate.standing.stage_ids),
                "stages_total": len(program.stages),
                "jp": candidate.standing.jp,
                "dated": dated,
                "issued_at": now,
                "issued_by_id": actor.id if actor is not None else None,
                "revoked_reason": "",
            }
        )
        have.add(candidate.registration_id)
    if rows:
        session.execute(insert(Certificate), rows)
        facts.changed(session, [program.id])  # a bulk insert: the ORM's flush does not see it
        audit.record(
            session,
            actor,
            "certificate.issue",
            f"program:{program.id}",
            f"{len(rows)} certificates, numbers {first}-{counter.last_number}",
        )
    session.flush()
    return len(rows)


def revoke(
    session: Session, certificate: Certificate, *, reason: str, actor: User | None, now: datetime
) -> None:
    reason = reason.strip()
    if not reason:
        raise CertificateError("reason_required", "reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise CertificateError("reason_too_long", "reason")
    if certificate.revoked:
        raise CertificateError("already_revoked")
    certificate.revoked_at = now
    certificate.revoked_reason = reason
    certificate.revoked_by_id = actor.id if actor is not None else None
    session.flush()
    audit.record(
        session,
        actor,
        "certificate.revoke",
        f"certificate:{certificate.id}",
        f"{certificate.number_text}: {reason}",
    )


# --- Bulk runs --------------------------------------------------------------------------------


def valid_certificates(session: Session, program_id: int) -> list[Certificate]:
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.program_id == program_id, Certificate.revoked_at.is_(None))
            .order_by(Certificate.number)
        )
    )


def running_job(session: Session, program: Program, now: datetime) -> CertificateJob | None:
    """The programme's run under way; one started over JOB_STALE_AFTER ago died with its process."""
    return session.scalar(
        select(CertificateJob)
        .where(
            CertificateJob.program_id == program.id,
            CertificateJob.status == JobStatus.RUNNING,
            CertificateJob.started_at > now - JOB_STALE_AFTER,
        )
        .order_by(CertificateJob.id.desc())
        .limit(1)
    )


def last_job(session: Session, program: Program) -> CertificateJob | None:
    return session.scalar(
        select(CertificateJob)
        .where(CertificateJob.program_id == program.id)
        .order_by(CertificateJob.id.desc())
        .limit(1)
    )


def start_job(session: Session, program: Program, *, actor: User | None, now: datetime) -> CertificateJob:
    """Open a bulk run (bulk.py issues what is due, then writes the ZIP of every valid certificate)."""
    settings = settings_for(session, program)
    if not rule_of(settings).is_set:
        raise CertificateError("no_rule")
    if running_job(session, program, now) is not None:
        raise CertificateError("running")
    job = CertificateJob(
        program_id=program.id,
        status=JobStatus.RUNNING,
        total=0,
        done=0,
        issued=0,
        started_at=now,
        started_by_id=actor.id if actor is not None else None,
    )
    session.add(job)
    session.flush()
    return job
