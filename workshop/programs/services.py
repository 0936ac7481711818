"""Programmes, stages, agenda items and organisations."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session
from workshop.errors import ServiceError
from workshop.programs.models import (
    DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES,
    MAX_CHECK_IN_OPENS_BEFORE_MINUTES,
    AgendaItem,
    Organization,
    OrgKind,
    Program,
    Stage,
)
from workshop.registration.models import Mode, Registration, RegistrationStage

REGENCY_VILLAGES_CSV = Path(__file__).resolve().parent.parent / "data" / "tapanuli-utara-villages.csv"


class ProgramError(ServiceError):
    """A refused change to a programme, stage, agenda item or organisation."""


@dataclass(frozen=True)
class StageDetails:
    title: str
    starts_at: datetime
    ends_at: datetime
    venue_name: str = ""
    venue_address: str = ""
    capacity: int | None = None
    meeting_provider: str = ""
    meeting_url: str = ""
    meeting_id: str = ""
    meeting_passcode: str = ""
    check_in_opens_before_minutes: int = DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES


def _schedule_changed(program: Program) -> None:
    """Move the programme's schedule version on with the next flush, computed by the database: two
    writers that read the same version never both write the same next one. Bumps before one flush
    count once (the version only has to differ); a programme not yet inserted starts at its default."""
    if inspect(program).persistent:
        program.schedule_version = Program.schedule_version + 1


def create_program(session: Session, *, actor: User | None, **fields: Any) -> Program:
    if session.scalar(select(Program).where(Program.slug == fields["slug"])) is not None:
        raise ProgramError("slug_taken", "slug")
    program = Program(**fields)
    session.add(program)
    session.flush()
    audit.record(session, actor, "program.create", f"program:{program.id}", program.title)
    return program


def update_program(session: Session, program: Program, *, actor: User | None, **fields: Any) -> None:
    clash = session.scalar(select(Program).where(Program.slug == fields["slug"], Program.id != program.id))
    if clash is not None:
        raise ProgramError("slug_taken", "slug")
    for name, value in fields.items():
        setattr(program, name, value)
    _schedule_changed(program)
    session.flush()
    audit.record(session, actor, "program.update", f"program:{program.id}")


def _apply_stage(stage: Stage, details: StageDetails) -> None:
    if details.ends_at <= details.starts_at:
        raise ProgramError("ends_before_start", "ends_at")
    if details.capacity is not None and details.capacity < 0:
        raise ProgramError("negative_capacity", "capacity")
    if not 0 <= details.check_in_opens_before_minutes <= MAX_CHECK_IN_OPENS_BEFORE_MINUTES:
        raise ProgramError("check_in_opening_out_of_range", "check_in_opens_before_minutes")
    for name, value in details.__dict__.items():
        setattr(stage, name, value)


def add_stage(session: Session, program: Program, details: StageDetails, *, actor: User | None) -> Stage:
    """Append a stage. Existing registrations get the mode they chose for their last stage."""
    last_position = session.scalar(select(func.max(Stage.position)).where(Stage.program_id == program.id))
    stage = Stage(position=(last_position or 0) + 1)
    _apply_stage(stage, details)
    stage.program = program
    session.add(stage)
    _schedule_changed(program)
    session.flush()
    previous = program.stages[-2] if len(program.stages) > 1 else None
    for registration in session.scalars(select(Registration).where(Registration.program_id == program.id)):
        mode = (registration.mode_for(previous) if previous else None) or Mode.DARING
        session.add(RegistrationStage(registration=registration, stage=stage, mode=mode))
    session.flush()
    audit.record(session, actor, "stage.create", f"stage:{stage.id}", stage.title)
    return stage


def update_stage(session: Session, stage: Stage, details: StageDetails, *, actor: User | None) -> None:
    _apply_stage(stage, details)
    _schedule_changed(stage.program)
    session.flush()
    audit.record(session, actor, "stage.update", f"stage:{stage.id}")


def move_stage(session: Session, stage: Stage, offset: int, *, actor: User | None) -> None:
    """Swap a stage with its neighbour (offset -1: earlier, +1: later)."""
    stages = list(stage.program.stages)
    index = stages.index(stage)
    other_index = index + offset
    if offset not in (-1, 1) or not 0 <= other_index < len(stages):
        return
    other = stages[other_index]
    mine, theirs = stage.position, other.position
    stage.position = -1  # (program, position) is unique: step aside first
    session.flush()
    other.position = mine
    session.flush()
    stage.position = theirs
    _schedule_changed(stage.program)
    session.flush()
    session.expire(stage.program, ["stages"])
    audit.record(session, actor, "stage.move", f"stage:{stage.id}", f"{mine} -> {theirs}")


def add_agenda_item(
    session: Session, stage: Stage, *, starts_at: datetime, title: str, speaker: str, actor: User | None
) -> AgendaItem:
    if not stage.starts_at <= starts_at <= stage.ends_at:
        raise ProgramError("agenda_outside_stage", "starts_at")
    item = AgendaItem(stage=stage, starts_at=starts_at, title=title, speaker=speaker)
    session.add(item)
    _schedule_changed(stage.program)
    session.flush()
    audit.record(session, actor, "agenda.create", f"stage:{stage.id}", title)
    return item


def delete_agenda_item(session: Session, item: AgendaItem, *, actor: User | None) -> None:
    audit.record(session, actor, "agenda.delete", f"stage:{item.stage_id}", item.title)
    _schedule_changed(item.stage.program)
    session.delete(item)
    session.flush()


def save_organization(
    session: Session,
    organization: Organization | None,
    *,
    kind: OrgKind,
    name: str,
    code: str | None,
    parent_id: int | None,
    actor: User | None,
) -> Organization:
    if kind == OrgKind.DESA and parent_id is None:
        raise ProgramError("desa_needs_kecamatan", "parent_id")
    if parent_id is not None:
        parent = session.get(Organization, parent_id)
        if parent is None or parent.kind != OrgKind.KECAMATAN or kind != OrgKind.DESA:
            raise ProgramError("parent_must_be_kecamatan", "parent_id")
    if code:
        clash = session.scalar(select(Organization).where(Organization.code == code))
        if clash is not None and clash is not organization:
            raise ProgramError("code_taken", "code")
    if organization is None:
        organization = Organization()
        session.add(organization)
    organization.kind = kind
    organization.name = name
    organization.code = code or None
    organization.parent_id = parent_id
    session.flush()
    audit.record(session, actor, "organization.save", f"organization:{organization.id}", name)
    return organization


def _title_case(name: str) -> str:
    """'HUTATORUAN I' -> 'Hutatoruan I' (Roman numerals stay upper case)."""
    words = []
    for word in name.split():
        roman = set(word) <= set("IVX")
        words.append(word if roman else word.capitalize())
    return " ".join(words)


def import_regions(session: Session, path: Path = REGENCY_VILLAGES_CSV) -> tuple[int, int]:
    """Create (or update) the kecamatan and desa of a statistics-office code list.

    Returns (kecamatan created, desa created); running it twice creates nothing new.
    """
    existing = {
        org.code: org for org in session.scalars(select(Organization).where(Organization.code.is_not(None)))
    }
    districts_created = villages_created = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            district = existing.get(row["district_code"])
            if district is None:
                district = Organization(kind=OrgKind.KECAMATAN, code=row["district_code"])
                session.add(district)
                existing[district.code] = district
                districts_created += 1
            district.name = _title_case(row["district_name"])
            village = existing.get(row["village_code"])
            if village is None:
                village = Organization(kind=OrgKind.DESA, code=row["village_code"])
                session.add(village)
                existing[village.code] = village
                villages_created += 1
            village.name = _title_case(row["village_name"])
            village.parent = district
    session.flush()
    return districts_created, villages_created
