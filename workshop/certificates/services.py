"""Certificates: the programme's rule and template, issuing numbered certificates to those who
earned one, revoking them, and the bulk runs that put their PDFs into one ZIP.

Numbers are unique and gap-free per programme: they are assigned in the transaction that creates
the certificates, after locking the programme's counter row (`SELECT ... FOR UPDATE` on
PostgreSQL; on SQLite every write transaction begins IMMEDIATE and so holds the database's write
lock already). Who already has a certificate is read after the lock, so two runs at once issue
each certificate once: the second waits, then finds the first one's certificates. A revoked
certificate keeps its row and number, and its registration gets no new one.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workshop import audit, i18n, pictures
from workshop.auth.models import User
from workshop.certificates.eligibility import Rule, Standing, judge
from workshop.certificates.models import (
    DEFAULT_NUMBER_FORMAT,
    Certificate,
    CertificateCounter,
    CertificateJob,
    CertificateSettings,
    JobStatus,
    StageHours,
)
from workshop.db import Session
from workshop.errors import ServiceError
from workshop.evaluation.queries import responded_stage_ids_by_registration
from workshop.programs.models import Program, Stage
from workshop.reports.services import approved_registrations, stage_attendance

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 4000  # per side
NUMBER_FIELDS = frozenset({"n", "year"})
MAX_JP = 200
REASON_MAX_LENGTH = 500
JOB_STALE_AFTER = timedelta(minutes=15)


class CertificateError(ServiceError):
    """A refused certificate operation."""


# --- The rule and the template ---------------------------------------------------------------


def settings_for(session: Session, program: Program) -> CertificateSettings:
    """The programme's saved settings, or the defaults (not added to the session)."""
    saved = session.get(CertificateSettings, program.id)
    if saved is not None:
        return saved
    return CertificateSettings(
        program_id=program.id,
        min_stages=None,
        min_jp=None,
        require_evaluation=False,
        signatory_name="",
        signatory_nip="",
        signatory_title="",
        place="",
        signed_on=None,
        number_format=DEFAULT_NUMBER_FORMAT,
        logo=None,
        logo_type="",
    )


def rule_of(settings: CertificateSettings) -> Rule:
    return Rule(
        min_stages=settings.min_stages,
        min_jp=settings.min_jp,
        require_evaluation=bool(settings.require_evaluation),
    )


def stage_hours(session: Session, program: Program) -> dict[int, int]:
    """JP per stage id (0 for a stage without one)."""
    ids = [stage.id for stage in program.stages]
    saved = {
        stage_id: jp
        for stage_id, jp in session.execute(
            select(StageHours.stage_id, StageHours.jp).where(StageHours.stage_id.in_(ids))
        )
    }
    return {stage_id: saved.get(stage_id, 0) for stage_id in ids}


def check_number_format(text: str) -> str:
    """The format stripped; it must hold {n} and no field but {n} and {year}."""
    text = text.strip()
    try:
        fields = [name for _, name, spec, conversion in string.Formatter().parse(text) if name is not None]
        text.format(n=1, year=2021)
    except (ValueError, IndexError, KeyError):
        raise CertificateError("number_format", "number_format") from None
    if "n" not in fields or not set(fields) <= NUMBER_FIELDS:
        raise CertificateError("number_format", "number_format")
    return text


def format_number(number_format: str, number: int, year: int) -> str:
    """`800/{n}/Kominfo/{year}`, 123, 2021 -> `800/123/Kominfo/2021`."""
    return number_format.format(n=number, year=year)


def save_settings(
    session: Session,
    program: Program,
    *,
    min_stages: int | None,
    min_jp: int | None,
    require_evaluation: bool,
    signatory_name: str,
    signatory_nip: str,
    signatory_title: str,
    place: str,
    signed_on: date | None,
    number_format: str,
    jp: Mapping[int, int],
    actor: User | None,
    now: datetime,
) -> CertificateSettings:
    stage_ids = {stage.id for stage in program.stages}
    if min_stages is None and min_jp is None:
        raise CertificateError("no_criterion", "min_stages")
    if min_stages is not None and not 1 <= min_stages <= len(stage_ids):
        raise CertificateError("min_stages", "min_stages")
    if min_jp is not None and min_jp < 1:
        raise CertificateError("min_jp", "min_jp")
    if any(stage_id not in stage_ids or not 0 <= hours <= MAX_JP for stage_id, hours in jp.items()):
        raise CertificateError("jp")
    number_format = check_number_format(number_format)
    settings = session.get(CertificateSettings, program.id)
    if settings is None:
        settings = CertificateSettings(program_id=program.id)
        session.add(settings)
    settings.min_stages = min_stages
    settings.min_jp = min_jp
    settings.require_evaluation = require_evaluation
    settings.signatory_name = signatory_name.strip()
    settings.signatory_nip = signatory_nip.strip()
    settings.signatory_title = signatory_title.strip()
    settings.place = place.strip()
    settings.signed_on = signed_on
    settings.number_format = number_format
    settings.updated_at = now
    settings.updated_by_id = actor.id if actor is not None else None
    for stage_id, hours in jp.items():
        row = session.get(StageHours, stage_id)
        if row is None:
            session.add(StageHours(stage_id=stage_id, jp=hours))
        else:
            row.jp = hours
    session.flush()
    audit.record(
        session,
        actor,
        "certificate.settings",
        f"program:{program.id}",
        f"min_stages={min_stages} min_jp={min_jp} evaluation={require_evaluation}",
    )
    return settings


def check_logo(content: bytes) -> str:
    """The logo's type (image/png, image/jpeg), judged by its content (workshop/pictures.py);
    refuses other files, a file too large, a picture too large or one that does not decode."""
    if len(content) > LOGO_MAX_BYTES:
        raise CertificateError("logo_size", "logo")
    try:
        image = pictures.decode(content, max_side=LOGO_MAX_PIXELS)
    except pictures.PictureError:
        raise CertificateError("logo_type", "logo") from None
    return pictures.mime_type(image)


def save_logo(
    session: Session, program: Program, content: bytes, *, actor: User | None, now: datetime
) -> None:
    kind = check_logo(content)
    settings = session.get(CertificateSettings, program.id)
    if settings is None:
        settings = settings_for(session, program)
        session.add(settings)
    settings.logo = content
    settings.logo_type = kind
    settings.updated_at = now
    settings.updated_by_id = actor.id if actor is not None else None
    session.flush()
    audit.record(session, actor, "certificate.logo", f"program:{program.id}", f"{kind}, {len(content)} bytes")


# --- Who earned one ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A participant's standing, with the facts a certificate freezes (plain values: they are read in
    a read transaction that ends before the short write transaction that issues)."""

    registration_id: int
    name: str
    organization: str
    standing: Standing


def ended_stages(program: Program, now: datetime) -> list[Stage]:
    return [stage for stage in program.stages if stage.ends_at <= now]


def standings(session: Session, program: Program, *, now: datetime) -> list[Candidate]:
    """Every approved participant's standing at `now` (organisation, name order), from the
    attendance of the stages that have ended."""
    settings = settings_for(session, program)
    rule = rule_of(settings)
    registrations = approved_registrations(session, program)
    statuses: dict[int, list[Any]] = {registration.id: [] for registration in registrations}
    for stage in ended_stages(program, now):
        for row in stage_attendance(session, stage, registrations, now=now):
            statuses[row.registration.id].append((stage.id, row.status))
    jp = stage_hours(session, program)
    evaluated: Mapping[int, set[int]] = {}
    if rule.require_evaluation:
        evaluated = responded_stage_ids_by_registration(session, list(statuses))
    return [
        Candidate(
            registration_id=registration.id,
            name=registration.person.name,
            organization=registration.person.organization.label,
            standing=judge(
                rule,
                statuses[registration.id],
                jp,
                evaluated.get(registration.id, set()) if rule.require_evaluation else None,
            ),
        )
        for registration in registrations
    ]


# --- Issuing ----------------------------------------------------------------------------------


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
