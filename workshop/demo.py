"""Demo data: the four-stage Smart City Bimtek of Kabupaten Tapanuli Utara.

All people are made up. Tahap I runs now; the others follow in the coming weeks.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workshop.auth.models import Role, User
from workshop.auth.services import create_staff_user
from workshop.db import utcnow
from workshop.live import services as live_services
from workshop.live.models import PollKind
from workshop.programs.models import AgendaItem, Organization, OrgKind, Program, Stage
from workshop.programs.services import import_regions
from workshop.registration import links
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status
from workshop.registration.services import ensure_participant_user

TIMEZONE = "Asia/Jakarta"
HALL_CAPACITY = 40
DEMO_QUESTIONS = [
    "Bagaimana desa dengan sinyal lemah bisa ikut program smart city?",
    "Apakah ada anggaran dari kabupaten untuk operator data desa?",
    "Kapan masterplan ini mulai berlaku untuk kecamatan?",
    "Siapa yang akan melatih perangkat desa mengelola aplikasi?",
    "Bagaimana keamanan data penduduk di aplikasi ini?",
    "Apakah aplikasi SIPD bisa dihubungkan dengan dashboard smart city?",
]

AGENCIES = [
    "Sekretariat Daerah",
    "Inspektorat",
    "Dinas Komunikasi dan Informatika",
    "Bappelitbangda",
    "Dinas PUPR",
    "Dinas Perumahan dan Kawasan Permukiman",
    "Dinas Kesehatan",
    "Dinas Sosial",
    "Dinas Pertanian",
    "Dinas Pariwisata",
    "Dinas Perhubungan",
    "Dinas Lingkungan Hidup",
    "Satpol PP",
    "BPBD",
    "Badan Pendapatan Daerah",
    "Badan Keuangan dan Aset Daerah",
    "Dinas Pendidikan",
    "Dinas Kependudukan dan Pencatatan Sipil",
    "Dinas Penanaman Modal dan PTSP",
    "Dinas Koperasi, UKM, Perindustrian dan Perdagangan",
    "Dinas Ketahanan Pangan",
    "Dinas Perikanan",
    "Badan Kepegawaian dan Pengembangan SDM",
]
COMPANIES = ["Perumda Air Minum Mual Na Tio", "PD Pasar Tapanuli Utara"]
MINISTRY = "Direktorat Jenderal Aplikasi Informatika, Kementerian Kominfo"

STAGES = [
    ("Penyusunan Analisis Strategis dan Quick Win", 0),
    ("Penyusunan Masterplan Smart Governance dan Smart Branding", 21),
    ("Penyusunan Masterplan Smart Economy, Smart Living dan Smart Society", 42),
    ("Penyusunan Masterplan Smart Environment dan Finalisasi", 63),
]
AGENDA = [
    (time(8, 30), "Registrasi peserta", ""),
    (time(9, 0), "Pembukaan oleh Bupati Tapanuli Utara", ""),
    (time(9, 30), "Paparan Gerakan Menuju Smart City", "Tenaga Ahli Kementerian"),
    (time(13, 0), "Diskusi kelompok per dimensi Smart City", "Narasumber"),
    (time(15, 30), "Presentasi hasil dan rencana tindak lanjut", ""),
]

GIVEN_NAMES = [
    "Andreas",
    "Bonar",
    "Daniel",
    "Elisabeth",
    "Fernando",
    "Gabriel",
    "Hotman",
    "Imelda",
    "Jhonson",
    "Kristina",
    "Lamhot",
    "Maruli",
    "Nelson",
    "Orlando",
    "Parulian",
    "Rosmawati",
    "Samuel",
    "Tiurma",
    "Ulysses",
    "Veronika",
    "Wilson",
    "Yohana",
    "Agustina",
    "Benny",
    "Citra",
    "Darwin",
    "Erwin",
    "Friska",
    "Hendrik",
    "Juniar",
    "Lestari",
    "Marlina",
    "Nurhayati",
    "Pangihutan",
    "Rudolf",
    "Sondang",
]
FAMILY_NAMES = [
    "Hutabarat",
    "Simanjuntak",
    "Sihombing",
    "Situmorang",
    "Lumbantobing",
    "Nababan",
    "Siregar",
    "Panggabean",
    "Pardede",
    "Simatupang",
    "Hutagalung",
    "Sitompul",
    "Aritonang",
    "Manalu",
    "Silitonga",
    "Sianturi",
    "Tambunan",
    "Pakpahan",
    "Simamora",
    "Hutauruk",
]
AGENCY_POSITIONS = ["Kepala Dinas", "Sekretaris", "Kepala Bidang", "Kepala Sub Bagian Program"]


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


def seed(session: Session, *, passwords: dict[str, str], secret_key: str, now: datetime | None = None) -> str:
    rng = random.Random(1205)
    now = now or utcnow()
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
        for position in AGENCY_POSITIONS[: rng.choice([1, 2, 2, 3])]:
            people.append((agency, position, Mode.LURING))
    for district in kecamatan:
        people.append((district, "Camat", Mode.DARING))
    for village in desa:
        people.append(
            (village, "Kepala Desa" if not village.name.startswith("Kel") else "Lurah", Mode.DARING)
        )

    counts = {status: 0 for status in Status}
    luring_approved = 0
    for index, (organization, position, mode) in enumerate(people):
        name = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
        person = Person(
            name=name,
            position=position,
            organization=organization,
            phone=f"+62812{6000_0000 + index:08d}",
            email=f"peserta{index + 1:03d}@contoh.go.id" if mode == Mode.LURING or index % 3 == 0 else "",
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
    _live_demo(
        session, program.stages[0], actor=session.scalar(select(User).where(User.username == "narasumber"))
    )
    return (
        f"Demo programme '{program.title}' with {len(program.stages)} stages; "
        f"{len(agencies)} OPD/Perusda, {len(kecamatan)} kecamatan, {len(desa)} desa/kelurahan; "
        f"{len(people)} participants: {counts[Status.APPROVED]} approved, "
        f"{counts[Status.PENDING]} pending, {counts[Status.WAITLISTED]} waitlisted."
    )


def _live_demo(session: Session, stage: Stage, *, actor: User) -> None:
    """Tahap I runs now: two polls prepared as drafts, and approved questions to moderate."""
    live_services.create_poll(
        session,
        stage,
        live_services.PollDraft(
            kind=PollKind.SINGLE,
            question="Apakah kantor Anda sudah terhubung internet yang stabil?",
            options=["Ya, stabil", "Ada, tetapi sering putus", "Belum ada"],
        ),
        actor=actor,
    )
    live_services.create_poll(
        session,
        stage,
        live_services.PollDraft(
            kind=PollKind.WORDCLOUD,
            question="Satu kata: apa yang paling dibutuhkan desa Anda dari smart city?",
        ),
        actor=actor,
    )
    askers = session.scalars(
        select(Registration).where(
            Registration.program_id == stage.program_id, Registration.status == Status.APPROVED
        )
    ).all()
    for registration, text in zip(askers[::40], DEMO_QUESTIONS, strict=False):
        live_services.ask(session, stage, registration, text, anonymous=False, now=utcnow(), per_minute=3)
