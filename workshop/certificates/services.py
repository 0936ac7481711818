"""Certificates: the programme's rule and template (settings, numbers, logo) and who earned one.
Issuing, revoking and the bulk runs: issuing.py."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from workshop import audit, pictures
from workshop.auth.models import User
from workshop.certificates.eligibility import Rule, Standing, judge
from workshop.certificates.models import (
    DEFAULT_NUMBER_FORMAT,
    CertificateSettings,
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
