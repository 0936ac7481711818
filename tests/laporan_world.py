"""A programme whose laporan has something to say in every part, with figures known in advance;
shared by tests/test_laporan.py and the browser test."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy.orm import Session

from tests import factories
from workshop.attendance.models import AttendanceOverride, AttendanceStatus
from workshop.auth.models import Role
from workshop.certificates.models import Certificate
from workshop.evaluation import services as evaluation_services
from workshop.evaluation.models import EvaluationAnswer, EvaluationResponse, ItemKind
from workshop.laporan import services
from workshop.live.models import (
    Poll,
    PollHallCount,
    PollKind,
    PollOption,
    PollStatus,
    PollVote,
    Question,
    QuestionStatus,
)
from workshop.programs.models import AgendaItem, OrgKind
from workshop.registration.models import Mode, Status

AFTER_ALL = datetime(2021, 9, 1, 3, 0, tzinfo=UTC)  # the four stages of the factory have ended
HADIR, TERLAMBAT, IZIN, TIDAK = (
    AttendanceStatus.HADIR,
    AttendanceStatus.TERLAMBAT,
    AttendanceStatus.IZIN,
    AttendanceStatus.TIDAK_HADIR,
)


def png(size=(400, 300), color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def build(session: Session) -> dict:
    """Five approved participants (and one pending, never counted). Stage I: Rina hadir, Budi
    terlambat, Sari izin, Dedi tidak hadir, Maria hadir; stage II: all hadir; stages III and IV:
    no evidence (tidak hadir)."""
    program = factories.program(session, title="Bimtek Penyusunan Masterplan Smart City")
    program.organiser = "Dinas Komunikasi dan Informatika Kabupaten Tapanuli Utara"
    first, second = program.stages[0], program.stages[1]
    session.add(
        AgendaItem(
            stage=first,
            starts_at=first.starts_at + timedelta(minutes=30),
            title="Kebijakan Smart City Nasional",
            speaker="Dr. Ir. Sutan Harahap",
        )
    )
    bappeda = factories.organization(session, name="Bappeda")
    kecamatan = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    desa = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=kecamatan)

    def approved(name, org, mode):
        return factories.registration(session, program, status=Status.APPROVED, name=name, org=org, mode=mode)

    rina = approved("Rina Siregar", bappeda, Mode.LURING)
    budi = approved("Budi Hutabarat", bappeda, Mode.DARING)
    sari = approved("Sari Lumbantobing", kecamatan, Mode.LURING)
    dedi = approved("Dedi Simanjuntak", desa, Mode.DARING)
    maria = approved("Maria Sihombing", desa, Mode.LURING)
    factories.registration(session, program, status=Status.PENDING, name="Tono Pending", org=bappeda)
    people = [rina, budi, sari, dedi, maria]
    for registration, status in zip(people, [HADIR, TERLAMBAT, IZIN, TIDAK, HADIR], strict=True):
        session.add(
            AttendanceOverride(
                registration_id=registration.id, stage_id=first.id, status=status, reason="daftar hadir"
            )
        )
        session.add(
            AttendanceOverride(
                registration_id=registration.id, stage_id=second.id, status=HADIR, reason="daftar hadir"
            )
        )

    poll = Poll(
        stage_id=first.id,
        kind=PollKind.SINGLE,
        question="Apakah daerah Anda sudah punya masterplan?",
        status=PollStatus.CLOSED,
        opened_at=first.starts_at,
        closed_at=first.starts_at + timedelta(minutes=5),
    )
    poll.options = [PollOption(position=1, label="Sudah"), PollOption(position=2, label="Belum")]
    rating = Poll(
        stage_id=second.id,
        kind=PollKind.RATING,
        scale=5,
        question="Seberapa siap daerah Anda?",
        status=PollStatus.CLOSED,
        opened_at=second.starts_at,
        closed_at=second.starts_at + timedelta(minutes=5),
    )
    draft = Poll(
        stage_id=first.id, kind=PollKind.TEXT, question="Draf yang tidak dibuka", status=PollStatus.DRAFT
    )
    session.add_all([poll, rating, draft])
    session.flush()
    sudah, belum = poll.options
    for registration, option in [(rina, sudah), (budi, sudah), (maria, sudah), (dedi, belum)]:
        session.add(
            PollVote(poll_id=poll.id, registration_id=registration.id, answer={"option_ids": [option.id]})
        )
    for registration, value in [(rina, 4), (sari, 5)]:
        session.add(PollVote(poll_id=rating.id, registration_id=registration.id, answer={"rating": value}))

    session.add_all(
        [
            PollHallCount(option_id=sudah.id, poll_id=poll.id, count=10),
            PollHallCount(option_id=belum.id, poll_id=poll.id, count=5),
        ]
    )

    def question(stage, registration, text, status, upvotes, anonymous=False, **more):
        asked = Question(
            stage_id=stage.id,
            registration_id=registration.id,
            text=text,
            status=status,
            upvotes=upvotes,
            anonymous=anonymous,
            **more,
        )
        session.add(asked)
        session.flush()
        return asked

    question(first, maria, "Bagaimana pendanaan smart city di desa?", QuestionStatus.ANSWERED, 7)
    question(first, budi, "Apakah ada pendampingan lanjutan?", QuestionStatus.APPROVED, 3, anonymous=True)
    question(first, dedi, "Pesan iklan yang ditolak", QuestionStatus.DISMISSED, 0)
    carried = question(
        first, sari, "Kapan data desa dikumpulkan?", QuestionStatus.APPROVED, 2, carry_over=True
    )
    question(second, sari, carried.text, QuestionStatus.ANSWERED, 2, carried_from_id=carried.id)

    questionnaire = evaluation_services.create_default(session, program, actor=None, now=AFTER_ALL)
    scale_items = [item for item in questionnaire.items if item.kind == ItemKind.SCALE]
    choice = next(item for item in questionnaire.items if item.kind == ItemKind.CHOICE)
    text_item = next(item for item in questionnaire.items if item.kind == ItemKind.TEXT)
    for registration, rating_value, duration, advice in [
        (rina, 5, "Sudah sesuai", "Tambah waktu praktik"),
        (budi, 4, "Terlalu singkat", ""),
    ]:
        response = EvaluationResponse(
            registration_id=registration.id, stage_id=first.id, submitted_at=AFTER_ALL, updated_at=AFTER_ALL
        )
        response.answers = [EvaluationAnswer(item_id=item.id, rating=rating_value) for item in scale_items]
        response.answers.append(EvaluationAnswer(item_id=choice.id, text=duration))
        if advice:
            response.answers.append(EvaluationAnswer(item_id=text_item.id, text=advice))
        session.add(response)

    for number, registration in [(1, rina), (2, maria)]:
        session.add(
            Certificate(
                program_id=program.id,
                registration_id=registration.id,
                number=number,
                number_text=f"800/{number}/Kominfo/2021",
                code=f"LAPORANTEST{program.id}X{number}",
                name=registration.person.name,
                organization=registration.person.organization.label,
                program_title=program.title,
                stage_numbers="I,II",
                stages_total=4,
                jp=16,
                dated=AFTER_ALL.date(),
            )
        )
    services.save_texts(
        session,
        program,
        basis="Peraturan Bupati Tapanuli Utara Nomor 12 Tahun 2021\nDPA Dinas Kominfo Tahun Anggaran 2021",
        purpose="Meningkatkan kapasitas aparatur dalam menyusun masterplan smart city.",
        summary="",
        closing="Demikian laporan ini disampaikan.",
        actor=None,
        now=AFTER_ALL,
    )
    photo = services.add_photo(session, first, png(), "Pembukaan oleh Bupati", actor=None, now=AFTER_ALL)
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    return {"program": program, "organiser": organiser, "photo": photo, "people": people}
