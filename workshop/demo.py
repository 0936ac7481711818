"""Demo data: the four-stage Smart City Bimtek of Kabupaten Tapanuli Utara.

All people are made up. Tahap I runs now and looks like a day in progress: most of the hall has
checked in, village heads follow online, a poll has been answered and closed, questions have been
answered, and the reminders before the stage went out (to the dev outbox, never to a real server).
The others follow in the coming weeks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from workshop import web
from workshop.attendance.models import OnlineEvidence, OnlineKind
from workshop.auth.models import Role, User
from workshop.auth.services import create_staff_user
from workshop.checkin import services as checkin_services
from workshop.checkin.models import ScanMethod
from workshop.db import Session, utcnow
from workshop.live import services as live_services
from workshop.live import votes as live_votes
from workshop.live.models import PollKind
from workshop.programs.models import AgendaItem, Organization, OrgKind, Program, Stage
from workshop.programs.services import import_regions
from workshop.registration import links
from workshop.registration.models import Mode, Notice, Person, Registration, RegistrationStage, Status
from workshop.registration.services import ensure_participant_user
from workshop.reminders import services as reminders
from workshop.reminders.models import OutboxMessage
from workshop.tickets import codes

TIMEZONE = "Asia/Jakarta"
HALL_CAPACITY = 40
DEMO_MORNING = timedelta(hours=4)  # how much of Tahap I the demo has lived through, at most
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
    _day_in_progress(session, tahap_i, now=now, rng=rng, secret_key=secret_key)
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
    _reminders_sent(session, session.get_one(Program, program_id), config, starts_at)
    return summary


def _day_in_progress(
    session: Session, stage: Stage, *, now: datetime, rng: random.Random, secret_key: str
) -> None:
    """Tahap I from its first morning to now (at most the first four hours): check-ins, online
    presence, a poll answered and closed, a second poll ready, questions asked and answered."""
    staff = {user.username: user for user in session.scalars(select(User).where(User.username.is_not(None)))}
    start = stage.starts_at
    span = min(now - start, DEMO_MORNING)

    def at(fraction: float) -> datetime:
        return start + span * fraction

    approved = session.scalars(
        select(Registration)
        .where(Registration.program_id == stage.program_id, Registration.status == Status.APPROVED)
        .order_by(Registration.id)
    ).all()
    hall = [r for r in approved if r.mode_for(stage) == Mode.LURING]
    online = [r for r in approved if r.mode_for(stage) == Mode.DARING]
    arrived = _hall_check_ins(
        session,
        stage,
        hall[: len(hall) * 4 // 5],
        first=start - timedelta(minutes=30),
        last=at(0.3),
        petugas=staff["petugas"],
        secret_key=secret_key,
    )
    following = _online_presence(
        session, stage, rng.sample(online, len(online) * 3 // 5), at=at, now=now, rng=rng
    )
    narasumber = staff["narasumber"]
    _answered_poll(
        session, stage, arrived + following, opened=at(0.45), closed=at(0.6), actor=narasumber, rng=rng
    )
    live_services.create_poll(
        session,
        stage,
        live_services.PollDraft(
            kind=PollKind.WORDCLOUD,
            question="Satu kata: apa yang paling dibutuhkan desa Anda dari smart city?",
        ),
        actor=narasumber,
    )
    _questions(
        session, stage, arrived + following, asked=at(0.25), answered=at(0.7), actor=narasumber, rng=rng
    )


def _reminders_sent(session: Session, program: Program, config: Mapping, start: datetime) -> None:
    """The default reminders of Tahap I, sent at their moments (3 days, 1 day and 1 hour before)
    by the real engine, to the dev outbox and in-app notices whatever SMTP or gateway is set."""
    outbox_only = {**config, "SMTP_HOST": "", "WHATSAPP_API_URL": ""}
    reminders.ensure_default_rules(session, program, start - timedelta(days=7))
    for offset in (timedelta(days=3), timedelta(days=1), timedelta(hours=1)):
        moment = start - offset + timedelta(minutes=1)
        last_outbox = session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
        last_notice = session.scalar(select(func.coalesce(func.max(Notice.id), 0)))
        reminders.tick(session, outbox_only, clock=_stopped_at(moment))
        # The outbox and the notices stamp their rows with the wall clock: give them the send time.
        session.execute(update(OutboxMessage).where(OutboxMessage.id > last_outbox).values(created_at=moment))
        session.execute(update(Notice).where(Notice.id > last_notice).values(created_at=moment))
        session.commit()


def _hall_check_ins(
    session: Session,
    stage: Stage,
    people: list[Registration],
    *,
    first: datetime,
    last: datetime,
    petugas: User,
    secret_key: str,
) -> list[Registration]:
    """Scanned at two desks, one after the other between `first` and `last`."""
    step = (last - first) / max(1, len(people))
    for index, registration in enumerate(people):
        scanned_at = first + step * index
        checkin_services.check_in(
            session,
            stage=stage,
            code=codes.qr_payload(registration.ticket_secret_with(secret_key)),
            desk=f"Meja {index % 2 + 1}",
            actor=petugas,
            client_nonce=f"demo-{registration.id}",
            secret_key=secret_key,
            scanned_at=scanned_at,
            method=ScanMethod.CAMERA,
            now=scanned_at,
        )
    session.flush()
    return people


def _online_presence(
    session: Session, stage: Stage, people: list[Registration], *, at, now: datetime, rng: random.Random
) -> list[Registration]:
    """A join-link click, then live presence on the participant page until they left (or now)."""
    for registration in people:
        joined = at(rng.uniform(0, 0.25)) - timedelta(minutes=10)
        left = now if rng.random() < 0.7 else max(joined, at(rng.uniform(0.5, 1)))
        for kind, started, ended in (
            (OnlineKind.JOIN_CLICK, joined, joined),
            (OnlineKind.PRESENCE, joined, left),
        ):
            session.add(
                OnlineEvidence(
                    registration_id=registration.id,
                    stage_id=stage.id,
                    kind=kind,
                    started_at=started,
                    ended_at=ended,
                    source="join_link" if kind == OnlineKind.JOIN_CLICK else "presence",
                    recorded_at=ended,
                )
            )
    session.flush()
    return people


def _answered_poll(
    session: Session,
    stage: Stage,
    present: list[Registration],
    *,
    opened: datetime,
    closed: datetime,
    actor: User,
    rng: random.Random,
) -> None:
    poll = live_services.create_poll(
        session,
        stage,
        live_services.PollDraft(
            kind=PollKind.SINGLE,
            question="Apakah kantor Anda sudah terhubung internet yang stabil?",
            options=["Ya, stabil", "Ada, tetapi sering putus", "Belum ada"],
        ),
        actor=actor,
    )
    live_services.open_poll(session, poll, actor=actor, now=opened)
    session.commit()
    users = {
        user.person_id: user for user in session.scalars(select(User).where(User.person_id.is_not(None)))
    }
    options = [option.id for option in poll.options]
    voters = rng.sample(present, len(present) * 3 // 4)
    requests = [
        live_votes.VoteRequest(
            user_id=users[registration.person_id].id,
            session_epoch=users[registration.person_id].session_epoch,
            registration_id=registration.id,
            stage_id=stage.id,
            poll_id=poll.id,
            client_id=f"demo-{registration.id}",
            answer={"option_ids": rng.choices(options, weights=(35, 50, 15))},
            received_at=opened + (closed - opened) * index / max(1, len(voters)),
        )
        for index, registration in enumerate(voters)
    ]
    live_votes.record_votes(session, requests, now=closed)
    live_services.close_poll(session, poll, actor=actor, now=closed)


def _questions(
    session: Session,
    stage: Stage,
    present: list[Registration],
    *,
    asked: datetime,
    answered: datetime,
    actor: User,
    rng: random.Random,
) -> None:
    """Six questions from the hall and online: three answered, one pinned, two waiting for moderation."""
    askers = rng.sample(present, len(DEMO_QUESTIONS))
    questions = [
        live_services.ask(
            session,
            stage,
            registration,
            text,
            anonymous=False,
            now=asked + timedelta(minutes=7 * index),
            per_minute=3,
        )
        for index, (registration, text) in enumerate(zip(askers, DEMO_QUESTIONS, strict=True))
    ]
    for index, question in enumerate(questions[:4]):
        live_services.moderate(session, stage, question.id, "approve", "", actor=actor, now=answered)
        for voter in rng.sample(present, 4 + 3 * index):
            if voter.id != question.registration_id:
                live_services.upvote(session, stage, voter, question.id, now=answered)
    for question in questions[:3]:
        live_services.moderate(session, stage, question.id, "answered", "", actor=actor, now=answered)
    live_services.moderate(session, stage, questions[3].id, "pin", "", actor=actor, now=answered)
    session.flush()


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


def _stopped_at(moment: datetime) -> Callable[[], datetime]:
    """A clock that always reads `moment`."""
    return lambda: moment
