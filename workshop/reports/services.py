"""The attendance record of a stage: every approved participant's status, computed from the
evidence (hall check-ins, online intervals, the organiser's override) by the pure function in
workshop.attendance.attendance, with batched queries; overrides; the numbers of the dashboard."""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from workshop import audit
from workshop.attendance import attendance
from workshop.attendance.models import AttendanceOverride, AttendanceStatus
from workshop.attendance.present import present_now
from workshop.attendance.queries import online_intervals
from workshop.auth.models import User
from workshop.checkin.models import CheckIn
from workshop.db import Session, utcnow
from workshop.errors import ServiceError
from workshop.programs.models import Organization, OrgKind, Program, Stage
from workshop.programs.windows import CheckInState, Interval, StageWindow, stage_window
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status

# The statuses a stage under way gives; "belum dimulai" (not started) is counted apart from them.
STATUS_ORDER = (
    AttendanceStatus.HADIR,
    AttendanceStatus.TERLAMBAT,
    AttendanceStatus.IZIN,
    AttendanceStatus.TIDAK_HADIR,
)
NOT_STARTED = AttendanceStatus.BELUM_DIMULAI
SUMMARY_ORDER = (*STATUS_ORDER, NOT_STARTED)


class ReportError(ServiceError):
    """A refused attendance override."""


@dataclass(frozen=True)
class Row:
    """One participant's attendance at one stage."""

    registration: Registration
    person: Person
    org: Organization
    registered_mode: Mode | None
    status: AttendanceStatus
    mode: Mode | None  # as attended (hall check-in: luring; online only: daring), else as registered
    minutes_present: int
    first_seen: datetime | None
    checked_in_at: datetime | None  # the earliest hall check-in of the stage (not undone)
    desk: str
    first_online: datetime | None
    override: AttendanceOverride | None
    check_ins: tuple[tuple[datetime, str], ...] = ()  # (scanned at, desk) per day, earliest first
    online: tuple[Interval, ...] = ()

    @property
    def arrived_at(self) -> datetime | None:
        """The daftar hadir's "jam hadir": the hall check-in, else the first time seen online."""
        return self.checked_in_at or self.first_online

    def arrived_on(self, day: date, window: StageWindow) -> datetime | None:
        """The "jam hadir" of one day of a multi-day stage: the hall check-in for that day (its
        check-in may open the evening before), else the first time seen online on that date."""
        for scanned_at, _desk in self.check_ins:
            if window.check_in_date(scanned_at) == day:
                return scanned_at
        return min((start for start, _ in self.online if window.day_of(start) == day), default=None)


def kecamatan_of(org: Organization) -> str:
    if org.kind == OrgKind.KECAMATAN:
        return org.name
    if org.parent is not None and org.parent.kind == OrgKind.KECAMATAN:
        return org.parent.name
    return ""


def sort_key(registration: Registration) -> tuple[str, str, int]:
    """Sorted by organisation, then name, as on a paper daftar hadir."""
    person = registration.person
    return (person.organization.label.casefold(), person.name.casefold(), registration.id)


def approved_registrations(session: Session, program: Program) -> list[Registration]:
    registrations = (
        session.scalars(
            select(Registration)
            .where(Registration.program_id == program.id, Registration.status == Status.APPROVED)
            .options(
                joinedload(Registration.person)
                .joinedload(Person.organization)
                .joinedload(Organization.parent),
                selectinload(Registration.stage_modes),
            )
        )
        .unique()
        .all()
    )
    return sorted(registrations, key=sort_key)


def attendance_rules(program: Program) -> attendance.Rules:
    return attendance.Rules(
        threshold_percent=program.attendance_threshold_percent,
        late_after_minutes=program.late_after_minutes,
    )


def stage_attendance(
    session: Session, stage: Stage, registrations: Sequence[Registration] | None = None, *, now: datetime
) -> list[Row]:
    """The attendance at `now` of every approved participant of the stage's programme (or of the
    given registrations, e.g. a filtered list), in the given order (default: organisation, name)."""
    if registrations is None:
        registrations = approved_registrations(session, stage.program)
    ids = [registration.id for registration in registrations]
    wanted = set(ids)

    check_ins: dict[int, list[CheckIn]] = {}
    for row in session.scalars(
        select(CheckIn)
        .where(CheckIn.stage_id == stage.id, CheckIn.undone_at.is_(None))
        .order_by(CheckIn.scanned_at)
    ):
        if row.registration_id in wanted:
            check_ins.setdefault(row.registration_id, []).append(row)
    overrides = {
        row.registration_id: row
        for row in session.scalars(select(AttendanceOverride).where(AttendanceOverride.stage_id == stage.id))
        if row.registration_id in wanted
    }
    intervals = online_intervals(session, ids, stage) if ids else {}

    window = stage_window(stage)
    rules = attendance_rules(stage.program)
    rows = []
    for registration in registrations:
        hall = check_ins.get(registration.id, [])
        spans = tuple(intervals.get(registration.id, ()))
        override = overrides.get(registration.id)
        registered_mode = registration.mode_for(stage)
        result = attendance.compute(
            window,
            rules,
            attendance.Evidence(
                check_ins=tuple(row.scanned_at for row in hall),
                online=spans,
                override=override.status if override is not None else None,
                registered_mode=registered_mode,
            ),
            now,
        )
        rows.append(
            Row(
                registration=registration,
                person=registration.person,
                org=registration.person.organization,
                registered_mode=registered_mode,
                status=result.status,
                mode=result.mode,
                minutes_present=result.minutes_present,
                first_seen=result.first_seen,
                checked_in_at=hall[0].scanned_at if hall else None,
                desk=hall[0].desk if hall else "",
                first_online=min((start for start, _ in spans), default=None),
                override=override,
                check_ins=tuple((row.scanned_at, row.desk) for row in hall),
                online=tuple(sorted(spans)),
            )
        )
    return rows


def status_counts(rows: Iterable[Row]) -> dict[AttendanceStatus, int]:
    """How many have each status, in STATUS_ORDER, then those for whom the stage has not started."""
    counted = Counter(row.status for row in rows)
    return {status: counted.get(status, 0) for status in SUMMARY_ORDER}


# Overrides


def set_override(
    session: Session,
    registration: Registration,
    stage: Stage,
    status: AttendanceStatus,
    reason: str,
    actor: User | None,
) -> AttendanceOverride:
    """Set izin, or correct the computed status; the reason is required and audit-logged."""
    if status not in STATUS_ORDER:
        raise ReportError("not_an_override")
    reason = " ".join((reason or "").split())
    if not reason:
        raise ReportError("reason_required")
    if registration.program_id != stage.program_id:
        raise ReportError("not_registered")
    override = session.scalar(
        select(AttendanceOverride).where(
            AttendanceOverride.registration_id == registration.id, AttendanceOverride.stage_id == stage.id
        )
    )
    if override is None:
        override = AttendanceOverride(registration_id=registration.id, stage_id=stage.id)
        session.add(override)
    previous = override.status
    override.status = status
    override.reason = reason
    override.actor_id = actor.id if actor is not None else None
    override.created_at = utcnow()
    session.flush()
    change = f"{previous.value} -> {status.value}" if previous is not None else status.value
    audit.record(
        session,
        actor,
        "attendance.override",
        f"registration:{registration.id}",
        f"stage:{stage.id} {change}: {reason}",
    )
    return override


def clear_override(session: Session, registration: Registration, stage: Stage, actor: User | None) -> bool:
    """Go back to the status computed from the evidence. Says whether there was an override."""
    override = session.scalar(
        select(AttendanceOverride).where(
            AttendanceOverride.registration_id == registration.id, AttendanceOverride.stage_id == stage.id
        )
    )
    if override is None:
        return False
    status = override.status
    session.delete(override)
    session.flush()
    audit.record(
        session,
        actor,
        "attendance.override_cleared",
        f"registration:{registration.id}",
        f"stage:{stage.id} {status.value}",
    )
    return True


# The dashboard


class DashboardPhase(enum.StrEnum):
    """What the dashboard shows: before the stage's first check-in opens and after its end there is
    nobody to count "now" or "today"; the figures after the end are the final ones."""

    UPCOMING = "upcoming"
    LIVE = "live"
    ENDED = "ended"


def dashboard_phase(stage: Stage, now: datetime) -> DashboardPhase:
    state = stage_window(stage).check_in_state(now)
    if state == CheckInState.BEFORE:
        return DashboardPhase.UPCOMING
    if state == CheckInState.AFTER or now > stage.ends_at:
        return DashboardPhase.ENDED
    return DashboardPhase.LIVE


@dataclass(frozen=True)
class Summary:
    stage_id: int
    phase: DashboardPhase
    registered_luring: int
    registered_daring: int
    checked_in_today: int  # in the hall now: checked in for the stage day of now (StageWindow.hall_date)
    checked_in_total: int  # participants checked in on any day of the stage
    online_now: int  # online now and not in the hall (see workshop.attendance.present)
    by_status: dict[AttendanceStatus, int] = field(default_factory=dict)  # with NOT_STARTED last
    generated_at: datetime = field(default_factory=utcnow)

    @property
    def registered(self) -> int:
        return self.registered_luring + self.registered_daring

    @property
    def participants(self) -> int:
        return sum(self.by_status.values())

    @property
    def present_now(self) -> int:
        return self.checked_in_today + self.online_now

    def as_json(self) -> dict[str, Any]:
        return {
            "stage_id": self.stage_id,
            "phase": self.phase.value,
            "registered": {
                "luring": self.registered_luring,
                "daring": self.registered_daring,
                "total": self.registered,
            },
            "checked_in_today": self.checked_in_today,
            "checked_in_total": self.checked_in_total,
            "online_now": self.online_now,
            "present_now": self.present_now,
            "participants": self.participants,
            "by_status": {status.value: count for status, count in self.by_status.items()},
            # Clients keep the newest answer: the version grows with time (milliseconds).
            "version": int(self.generated_at.timestamp() * 1000),
            "generated_at": self.generated_at.isoformat(),
        }


def stage_summary(session: Session, stage: Stage, now: datetime) -> Summary:
    approved = select(Registration.id).where(
        Registration.program_id == stage.program_id, Registration.status == Status.APPROVED
    )
    modes = dict(
        session.execute(
            select(RegistrationStage.mode, func.count())
            .where(RegistrationStage.stage_id == stage.id, RegistrationStage.registration_id.in_(approved))
            .group_by(RegistrationStage.mode)
        )
        .tuples()
        .all()
    )
    active = (
        select(func.count(func.distinct(CheckIn.registration_id)))
        .where(CheckIn.stage_id == stage.id, CheckIn.undone_at.is_(None))
        .where(CheckIn.registration_id.in_(approved))
    )
    present = present_now(session, stage, now)
    return Summary(
        stage_id=stage.id,
        phase=dashboard_phase(stage, now),
        registered_luring=modes.get(Mode.LURING, 0),
        registered_daring=modes.get(Mode.DARING, 0),
        checked_in_today=len(present.hall),
        checked_in_total=session.scalar(active) or 0,
        online_now=len(present.online),
        by_status=status_counts(stage_attendance(session, stage, now=now)),
        generated_at=now,
    )


# The programme's matrix


@dataclass(frozen=True)
class Matrix:
    stages: list[Stage]
    registrations: list[Registration]
    cells: dict[tuple[int, int], Row]  # (registration id, stage id) -> row
    summaries: dict[int, dict[AttendanceStatus, int]]  # stage id -> counts per status (see status_counts)

    def cell(self, registration: Registration, stage: Stage) -> Row:
        return self.cells[(registration.id, stage.id)]


def program_matrix(
    session: Session, program: Program, registrations: Sequence[Registration], *, now: datetime
) -> Matrix:
    """Participants x stages at `now` for the given (approved, possibly filtered) registrations."""
    registrations = sorted(registrations, key=sort_key)
    cells: dict[tuple[int, int], Row] = {}
    summaries = {}
    for stage in program.stages:
        rows = stage_attendance(session, stage, registrations, now=now)
        summaries[stage.id] = status_counts(rows)
        for row in rows:
            cells[(row.registration.id, stage.id)] = row
    return Matrix(stages=list(program.stages), registrations=registrations, cells=cells, summaries=summaries)
