"""What the check-in desk reads: the stage's roster (to validate scans offline) and search.

The roster holds what a scanner device needs to decide a scan by itself while the network is
down: each approved registration's short code and the HMAC of its ticket secret under the stage's
roster key (never the secret), the person, the mode for the stage, and the check-ins already made
on the given day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from workshop.checkin.models import CheckIn
from workshop.db import Session
from workshop.programs.models import Organization, Program, Stage
from workshop.programs.schedule import ProgramInfo
from workshop.programs.windows import stage_window
from workshop.registration.models import Person, Registration, Status

SEARCH_LIMIT = 20
# Built once (see checkin/services.py): the stage with its programme, whose time zone every
# answer of the desk's API shows.
_STAGE = select(Stage).options(joinedload(Stage.program)).where(Stage.id == bindparam("id"))


# What a scan reads of its stage, as columns on the session's connection (the ORM's Stage and
# Program cost about 0.1-0.2 ms a scan more, docs/benchmarks.md): a scan reads them in the
# statement that reads its ticket (checkin/services.py `check_in`), the batch with `scan_stage`.
SCAN_STAGE_COLUMNS = (
    Stage.id,
    Stage.program_id,
    Stage.starts_at,
    Stage.ends_at,
    Stage.check_in_opens_before_minutes,
    Program.slug,
    Program.title,
    Program.timezone,
)
_SCAN_STAGE = (
    select(*SCAN_STAGE_COLUMNS)
    .join(Program, Program.id == Stage.program_id)
    .where(Stage.id == bindparam("id"))
)


def stage(session: Session, stage_id: int) -> Stage | None:
    return session.scalar(_STAGE, {"id": stage_id})


@dataclass(frozen=True)
class ScanStage:
    """The stage a desk scans for: when it runs, and its programme (the time zone of the answers)."""

    id: int
    program_id: int
    starts_at: datetime
    ends_at: datetime
    check_in_opens_before_minutes: int
    program: ProgramInfo


def scan_stage(session: Session, stage_id: int) -> ScanStage | None:
    row = session.connection().execute(_SCAN_STAGE, {"id": stage_id}).one_or_none()
    return scan_stage_of(row) if row is not None else None


def scan_stage_of(row: Sequence[Any]) -> ScanStage:
    """The ScanStage of a row that begins with SCAN_STAGE_COLUMNS."""
    id_, program_id, starts_at, ends_at, opens_before, slug, title, timezone = row[: len(SCAN_STAGE_COLUMNS)]
    program = ProgramInfo(id=program_id, slug=slug, title=title, timezone=timezone)
    return ScanStage(id_, program_id, starts_at, ends_at, opens_before, program)


@dataclass(frozen=True)
class RosterEntry:
    registration: Registration
    mode: str | None


def day_check_ins(session: Session, stage: Stage, day: date) -> list[CheckIn]:
    """The stage's active (not undone) check-ins of one day."""
    return list(
        session.scalars(
            select(CheckIn).where(
                CheckIn.stage_id == stage.id, CheckIn.day == day, CheckIn.undone_at.is_(None)
            )
        )
    )


def roster(session: Session, stage: Stage) -> list[RosterEntry]:
    """The approved registrations of the stage's programme, by name."""
    registrations = session.scalars(
        select(Registration)
        .join(Registration.person)
        .where(Registration.program_id == stage.program_id, Registration.status == Status.APPROVED)
        .options(
            joinedload(Registration.person).joinedload(Person.organization).joinedload(Organization.parent),
            selectinload(Registration.stage_modes),
        )
        .order_by(Person.name, Registration.id)
    ).unique()
    return [
        RosterEntry(reg, (mode.value if (mode := reg.mode_for(stage)) else None)) for reg in registrations
    ]


def stage_days(stage: Stage) -> list[date]:
    return stage_window(stage).local_days()


def last_date(stage: Stage) -> date:
    """The date on which the stage's last hall check-in closes: its last day, or the day after for a
    stage crossing midnight (a desk keeps the roster until that date has passed)."""
    return stage_window(stage).day_of(stage.ends_at)


def check_in_windows(stage: Stage) -> list[list[str]]:
    """When the hall check-in of each day is open, [opens, closes) as ISO 8601 UTC (for a desk
    deciding scans offline)."""
    return [
        [opens.astimezone(UTC).isoformat(), closes.astimezone(UTC).isoformat()]
        for opens, closes in stage_window(stage).check_in_windows()
    ]


def today(stage: Stage, now: datetime) -> date:
    """The stage day whose check-ins the desk shows now (`StageWindow.hall_date`: after midnight in
    a stage that crosses it, still the day it began), else the date of now."""
    window = stage_window(stage)
    return window.hall_date(now) or window.day_of(now)


def roster_version(payload: object) -> str:
    """A short fingerprint of the roster's content: it changes when anything in it changes."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def search(session: Session, stage: Stage, query: str, limit: int = SEARCH_LIMIT) -> list[Registration]:
    """Registrations of the stage's programme whose person's name or organisation (or its
    kecamatan) contains the query, case-insensitively; approved ones first, then by name."""
    parent = select(Organization.id).where(Organization.name.icontains(query, autoescape=True))
    matches = (
        select(Registration)
        .join(Registration.person)
        .join(Person.organization)
        .where(
            Registration.program_id == stage.program_id,
            Person.name.icontains(query, autoescape=True)
            | Organization.name.icontains(query, autoescape=True)
            | Organization.parent_id.in_(parent),
        )
        .options(
            joinedload(Registration.person).joinedload(Person.organization).joinedload(Organization.parent),
            selectinload(Registration.stage_modes),
        )
        .order_by((Registration.status != Status.APPROVED), Person.name, Registration.id)
        .limit(limit)
    )
    return list(session.scalars(matches).unique())


def stages_for_picker(session: Session, now: datetime) -> tuple[list[Stage], list[Stage], list[Stage]]:
    """All stages of all programmes: (held today, the running ones first; upcoming soonest first;
    past latest first)."""
    stages = session.scalars(
        select(Stage).join(Stage.program).options(joinedload(Stage.program)).order_by(Stage.starts_at)
    ).all()
    held_today, upcoming, past = [], [], []
    for stage in stages:
        if today(stage, now) in stage_days(stage):
            held_today.append(stage)
        elif stage.starts_at > now:
            upcoming.append(stage)
        else:
            past.append(stage)
    past.reverse()
    held_today.sort(key=lambda stage: not is_running(stage, now))  # stable: by start within each
    return held_today, upcoming, past


def is_running(stage: Stage, now: datetime) -> bool:
    return stage.starts_at <= now < stage.ends_at
