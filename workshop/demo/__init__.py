"""Demo data: the four-stage Smart City Bimtek of Kabupaten Tapanuli Utara.

All people are made up. Tahap I runs now and looks like a day in progress: most of the hall has
checked in, village heads follow online, a poll has been answered and closed, questions have been
answered, and the reminders before the stage went out (to the dev outbox, never to a real server).
The others follow in the coming weeks.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from workshop import web
from workshop.auth.models import Role
from workshop.auth.services import create_staff_user
from workshop.db import Session, utcnow
from workshop.demo.day import day_in_progress, reminders_sent
from workshop.demo.names import (
    AGENCIES,
    AGENCY_POSITIONS,
    AGENDA,
    COMPANIES,
    FAMILY_NAMES,
    GIVEN_NAMES,
    HALL_CAPACITY,
    MINISTRY,
    STAGES,
    TIMEZONE,
)
from workshop.programs.models import AgendaItem, Organization, OrgKind, Program, Stage
from workshop.programs.services import import_regions
from workshop.registration import links
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status
from workshop.registration.services import ensure_participant_user


def _stage_start(today_local: datetime, offset_days: int) -> datetime:
    """Tahap I began at 08.00 on the day that keeps it running now; others weeks later."""
    zone = ZoneInfo(TIMEZONE)
    first_day = (
        today_local.date() if today_local.time() >= time(8, 0) else today_local.date() - timedelta(days=1)
    )
    return datetime.combine(first_day + timedelta(days=offset_days), time(8, 0), tzinfo=zone)


def _organisations(session: Session) -> tuple[list[Organization], list[Organization], list[Organization]]:
    import_regions(session)
    agencies = []
    for name in AGENCIES:
        agencies.append(Organization(kind=OrgKind.OPD, name=name))
    for name in COMPANIES:
        agencies.append(Organization(kind=OrgKind.PERUSDA, name=name))
    session.add_all(agencies)
    session.add(Organization(kind=OrgKind.KEMENTERIAN, name=MINISTRY))
    session.flush()
    kecamatan = session.scalars(
        select(Organization).where(Organization.kind == OrgKind.KECAMATAN).order_by(Organization.code)
    ).all()
    desa = session.scalars(
        select(Organization).where(Organization.kind == OrgKind.DESA).order_by(Organization.code)
    ).all()
    return agencies, list(kecamatan), list(desa)


def seed(session: Session, *, passwords: dict[str, str], config: Mapping, now: datetime | None = None) -> str:
    rng = random.Random(1205)
    now = now or utcnow()
    secret_key = config["SECRET_KEY"]
    for role in (Role.ADMIN, Role.PANITIA, Role.NARASUMBER, Role.PETUGAS):
        create_staff_user(
            session,
            username=role.value,
            name=f"Demo {role.value.title()}",
            role=role,
            password=passwords[role.value],
        )

    agencies, kecamatan, desa = _organisations(session)
    program = Program(
        slug="smart-city-taput",
        title="Bimtek Penyusunan Masterplan Smart City Kabupaten Tapanuli Utara",
        organiser="Dinas Komunikasi dan Informatika Kabupaten Tapanuli Utara",
        description="Bimbingan teknis empat tahap bersama Tenaga Ahli Gerakan Menuju Smart City.",
        timezone=TIMEZONE,
    )
    session.add(program)
    today_local = now.astimezone(ZoneInfo(TIMEZONE))
    for position, (title, offset) in enumerate(STAGES, start=1):
        starts = _stage_start(today_local, offset)
        stage = Stage(
            program=program,
            position=position,
            title=title,
            starts_at=starts,
            ends_at=starts + timedelta(days=1, hours=8),
            venue_name="Balai Data, Aula Martua",
            venue_address="Kantor Bupati Tapanuli Utara, Jl. Letjend. Suprapto No. 1, Tarutung",
            capacity=HALL_CAPACITY,
            meeting_provider="Zoom",
            meeting_url=f"https://zoom.us/j/81200012{position:02d}",
            meeting_id=f"812 0001 2{position:02d}",
            meeting_passcode=f"taput{position}",
        )
        stage.agenda = [
            AgendaItem(
                starts_at=datetime.combine(starts.date(), at, tzinfo=starts.tzinfo),
                title=item,
                speaker=speaker,
            )
            for at, item, speaker in AGENDA
        ]
        session.add(stage)
    session.flush()

    people = []
    for agency in agencies:
        for job_title in AGENCY_POSITIONS[: rng.choice([1, 2, 2, 3])]:
            people.append((agency, job_title, Mode.LURING))
    for district in kecamatan:
        people.append((district, "Camat", Mode.DARING))
    for village in desa:
        people.append(
            (village, "Kepala Desa" if not village.name.startswith("Kel") else "Lurah", Mode.DARING)
        )

    counts = {status: 0 for status in Status}
    luring_approved = 0
    for index, (organization, job_title, mode) in enumerate(people):
        name = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
        person = Person(
            name=name,
            position=job_title,
            organization=organization,
            phone=f"+62812{6000_0000 + index:08d}",
            email="" if index % 40 == 9 else f"peserta{index + 1:03d}@contoh.go.id",  # a few have none
        )
        registration = Registration(program=program, person=person, source="demo")
        registration.stage_modes = [RegistrationStage(stage=stage, mode=mode) for stage in program.stages]
        if mode == Mode.LURING and luring_approved >= HALL_CAPACITY:
            registration.status = Status.WAITLISTED
            registration.waitlisted_at = now + timedelta(seconds=index)
        elif index % 23 == 7:
            registration.status = Status.PENDING
        else:
            registration.status = Status.APPROVED
            luring_approved += mode == Mode.LURING
        counts[registration.status] += 1
        session.add(registration)
        session.flush()
        if registration.status == Status.APPROVED:
            ensure_participant_user(session, person)
            links.issue(registration, secret_key)
    session.flush()
    tahap_i = program.stages[0]
    day_in_progress(session, tahap_i, now=now, rng=rng, secret_key=secret_key)
    summary = (
        f"Demo programme '{program.title}' with {len(program.stages)} stages; "
        f"{len(agencies)} OPD/Perusda, {len(kecamatan)} kecamatan, {len(desa)} desa/kelurahan; "
        f"{len(people)} participants: {counts[Status.APPROVED]} approved, "
        f"{counts[Status.PENDING]} pending, {counts[Status.WAITLISTED]} waitlisted."
    )
    # The engine commits after every send, which expires every row a session holds: start afresh.
    program_id, starts_at = program.id, tahap_i.starts_at
    session.commit()
    session.expunge_all()
    reminders_sent(session, session.get_one(Program, program_id), config, starts_at)
    return summary


def welcome(session: Session, *, accounts: str, secret_key: str, base_url: str) -> str:
    """What `scripts/run.sh` prints once at start-up: the staff accounts and the personal link of
    one demo participant (a village head who follows Tahap I online)."""
    registration = session.scalar(
        select(Registration)
        .join(Registration.person)
        .join(RegistrationStage, RegistrationStage.registration_id == Registration.id)
        .where(
            Registration.source == "demo",
            Registration.status == Status.APPROVED,
            Registration.link_nonce.is_not(None),
            Person.position == "Kepala Desa",
            RegistrationStage.mode == Mode.DARING,
        )
        .order_by(Registration.id)
        .limit(1)
    )
    lines = [accounts.rstrip("\n")] if accounts else []
    if registration is not None:
        person = registration.person
        url = web.public_url(
            {"PUBLIC_BASE_URL": base_url},
            "auth.personal_link",
            token=links.token_for(registration, secret_key),
        )
        lines += [
            "",
            f"Participant view: {url}",
            f"  (the personal link of {person.name}, {person.position} {person.organization.name}, online)",
        ]
    return "\n".join(lines)
