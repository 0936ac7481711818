"""Test data builders: each takes the session and only the fields a test cares about."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from workshop.auth.models import Role, User
from workshop.checkin.services import ScanOutcome, check_in
from workshop.programs.models import Organization, OrgKind, Program, Stage
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status

_numbers = itertools.count(1)
TAHAP_I_START = datetime(2021, 6, 24, 2, 0, tzinfo=UTC)  # Kamis, 24 Juni 2021, pukul 09.00 WIB
PASSWORD = "correct horse battery"


def organization(
    session: Session, *, kind: OrgKind = OrgKind.OPD, name: str | None = None, parent=None
) -> Organization:
    org = Organization(kind=kind, name=name or f"Dinas {next(_numbers)}", parent=parent)
    session.add(org)
    session.flush()
    return org


def running_now(now: datetime, after: timedelta = timedelta(hours=1)) -> tuple[datetime, datetime]:
    """(start, end) of a stage running at `now`, at any hour: one span from an hour before `now` to
    `after` it. Near midnight it crosses it, as an evening session may, so a module's seeded stage
    keeps running while its tests run past midnight."""
    return now - timedelta(hours=1), now + after


def program(
    session: Session,
    *,
    stages: int = 4,
    capacity: int | None = 40,
    slug: str | None = None,
    title: str | None = None,
) -> Program:
    number = next(_numbers)
    prog = Program(
        slug=slug or f"bimtek-{number}",
        title=title or f"Bimtek Smart City {number}",
        organiser="Dinas Kominfo",
        timezone="Asia/Jakarta",
    )
    for position in range(1, stages + 1):
        start = TAHAP_I_START + timedelta(weeks=3 * (position - 1))
        prog.stages.append(
            Stage(
                position=position,
                title=f"Tahap ke-{position}",
                starts_at=start,
                ends_at=start + timedelta(days=1, hours=7),
                venue_name="Aula Martua",
                venue_address="Kantor Bupati, Tarutung",
                capacity=capacity,
                meeting_provider="Zoom",
                meeting_url=f"https://zoom.us/j/8120000{position}",
                meeting_id=f"812 000 {position}",
                meeting_passcode=f"pass{position}",
            )
        )
    session.add(prog)
    session.flush()
    return prog


def registration(
    session: Session,
    prog: Program,
    *,
    status: Status = Status.PENDING,
    mode: Mode = Mode.LURING,
    name: str | None = None,
    org: Organization | None = None,
    waitlisted_at: datetime | None = None,
) -> Registration:
    number = next(_numbers)
    person = Person(
        name=name or f"Peserta {number}",
        position="Kepala Bidang",
        organization=org or organization(session),
        phone=f"+62812{number:08d}",
        email=f"peserta{number}@contoh.go.id",
    )
    reg = Registration(program=prog, person=person, status=status, waitlisted_at=waitlisted_at)
    reg.stage_modes = [RegistrationStage(stage=stage, mode=mode) for stage in prog.stages]
    session.add(reg)
    session.flush()
    return reg


def hall_scan(
    session: Session, stage: Stage, registration: Registration, at: datetime, desk: str = "Meja 1"
) -> ScanOutcome:
    """The registration's ticket scanned at the hall desk at `at` (the server's moment too)."""
    return check_in(
        session,
        stage=stage,
        code=registration.ticket_code,
        desk=desk,
        actor=None,
        client_nonce=None,
        secret_key=current_app.config["SECRET_KEY"],
        scanned_at=at,
        now=at,
    )


def staff(session: Session, role: Role, username: str | None = None) -> User:
    user = User(role=role, name=f"Staf {role.value}", username=username or f"{role.value}{next(_numbers)}")
    user.set_password(PASSWORD)
    session.add(user)
    session.flush()
    return user
