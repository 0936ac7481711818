"""Assignments between stages: the organiser sets one (deadline in WIB), the organisation's
contact persons hand in rows and files, the reviewer reviews, the organisation is told, and
nobody sees another organisation's work."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests import factories
from tests.test_live import participant_client, staff_client
from workshop.assignments import services
from workshop.assignments.models import (
    Assignment,
    LatePolicy,
    Submission,
    SubmissionRevision,
    SubmissionStatus,
)
from workshop.auth.models import Role
from workshop.programs.models import OrgKind
from workshop.registration import services as registration_services
from workshop.registration.models import Status
from workshop.reminders.models import Delivery, Kind, ParticipantMessage

SECRET = "test-secret-key"
# Sabtu, 10 Juli 2021, pukul 23.59 WIB = 16.59 UTC; 00.01 WIB on Sunday = 17.01 UTC on Saturday.
DEADLINE = datetime(2021, 7, 10, 16, 59, tzinfo=UTC)
BEFORE_MIDNIGHT = datetime(2021, 7, 10, 16, 59, tzinfo=UTC)  # 23.59 WIB, the last minute
AFTER_MIDNIGHT = datetime(2021, 7, 10, 17, 1, tzinfo=UTC)  # 00.01 WIB, Minggu 11 Juli
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def xlsx_bytes() -> bytes:
    book = Workbook()
    book.active.append(["Dimensi", "Masalah"])
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


def docx_bytes() -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return output.getvalue()


def zip_bytes() -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("catatan.txt", "bukan dokumen")
    return output.getvalue()


@pytest.fixture
def files_dir(app, tmp_path):
    folder = tmp_path / "assignment-files"
    app.config["ASSIGNMENT_FILES_DIR"] = str(folder)
    return folder


def _approved(session, program, org, name=None):
    registration = factories.registration(session, program, org=org, name=name)
    registration_services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=SECRET)
    return registration


@pytest.fixture
def world(app, session, files_dir):
    program = factories.program(session, stages=2)
    dinas = factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")
    bappeda = factories.organization(session, kind=OrgKind.OPD, name="Bappeda")
    kecamatan = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    organiser = factories.staff(session, Role.PANITIA)
    narasumber = factories.staff(session, Role.NARASUMBER)
    other_narasumber = factories.staff(session, Role.NARASUMBER)
    world = {
        "program": program,
        "dinas": dinas,
        "bappeda": bappeda,
        "kecamatan": kecamatan,
        "organiser": organiser,
        "narasumber": narasumber,
        "other_narasumber": other_narasumber,
        "kominfo_1": _approved(session, program, dinas, "Rina Kominfo"),
        "kominfo_2": _approved(session, program, dinas, "Budi Kominfo"),
        "bappeda_1": _approved(session, program, bappeda, "Sari Bappeda"),
    }
    session.commit()
    return world


def _assignment(
    session,
    world,
    *,
    title="Analisis kondisi saat ini",
    late_policy=LatePolicy.ACCEPT,
    wants_file=True,
    reviewer=None,
    kinds=(OrgKind.OPD,),
):
    assignment = services.save_assignment(
        session,
        world["program"],
        None,
        stage=world["program"].stages[0],
        title=title,
        instructions="Isi satu baris per dimensi.",
        deadline=DEADLINE,
        late_policy=late_policy,
        wants_rows=True,
        wants_file=wants_file,
        kinds=kinds,
        picked_ids=[],
        reviewer=reviewer,
        actor=world["organiser"],
    )
    session.commit()
    return assignment


def _rows_form(**rows) -> dict:
    data = {}
    for dimension, (problem, innovation, owner, year) in rows.items():
        data.update(
            {
                f"{dimension}-problem": problem,
                f"{dimension}-innovation": innovation,
                f"{dimension}-owner": owner,
                f"{dimension}-year": year,
            }
        )
    return data


def handed_in_by_kominfo(app, session, world):
    """An assignment for the OPDs that Dinas Kominfo has handed in (a row); Bappeda has not."""
    assignment = _assignment(session, world)
    kominfo = participant_client(app, session, world["kominfo_1"])
    response = kominfo.post(_page(world, assignment), data=_rows_form(governance=("A", "B", "C", "2022")))
    assert response.status_code == 302
    return assignment


def _page(world, assignment):
    return f"/saya/{world['program'].slug}/tugas/{assignment.id}"


# --- The organiser sets it up ------------------------------------------------------------------


def test_the_organiser_enters_the_deadline_in_wib_and_it_is_stored_in_utc(app, session, world):
    organiser = staff_client(app, world["organiser"])
    program = world["program"]
    response = organiser.post(
        f"/admin/programs/{program.id}/tugas/baru",
        data={
            "stage_id": program.stages[0].id,
            "title": "Ide inovasi per dimensi",
            "instructions": "Satu baris per dimensi.",
            "deadline": "2021-07-10T23:59",
            "late_policy": "refuse",
            "wants_rows": "y",
            "kinds": ["opd", "kecamatan"],
            "organizations": [],
            "reviewer_id": world["narasumber"].id,
        },
    )
    assert response.status_code == 302, response.data
    assignment = session.scalar(select(Assignment))
    assert assignment.deadline == DEADLINE
    assert assignment.late_policy == LatePolicy.REFUSE
    assert assignment.kinds == [OrgKind.OPD, OrgKind.KECAMATAN]
    assert assignment.reviewer_id == world["narasumber"].id
    page = organiser.get(response.location).get_data(as_text=True)
    assert "Sabtu, 10 Juli 2021, pukul 23.59 WIB" in page
    # Every OPD and kecamatan must submit; none has yet.
    assert page.count("Belum mengumpulkan") == 3


def test_an_assignment_must_ask_for_something_and_from_someone(app, session, world):
    organiser = staff_client(app, world["organiser"])
    program = world["program"]
    base = {
        "stage_id": program.stages[0].id,
        "title": "Tugas",
        "deadline": "2021-07-10T23:59",
        "late_policy": "accept",
        "reviewer_id": 0,
    }
    nothing = organiser.post(f"/admin/programs/{program.id}/tugas/baru", data={**base, "kinds": ["opd"]})
    assert nothing.status_code == 200
    assert "Minta baris dimensi, berkas, atau keduanya." in nothing.get_data(as_text=True)
    nobody = organiser.post(f"/admin/programs/{program.id}/tugas/baru", data={**base, "wants_rows": "y"})
    assert "Pilih jenis instansi yang wajib mengumpulkan, atau pilih instansinya." in nobody.get_data(
        as_text=True
    )
    assert session.scalar(select(func.count()).select_from(Assignment)) == 0


# --- Deadlines in WIB across midnight ----------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "moment", "outcome"),
    [
        (LatePolicy.ACCEPT, BEFORE_MIDNIGHT, "on_time"),
        (LatePolicy.ACCEPT, AFTER_MIDNIGHT, "late"),
        (LatePolicy.REFUSE, BEFORE_MIDNIGHT, "on_time"),
        (LatePolicy.REFUSE, AFTER_MIDNIGHT, "refused"),
    ],
)
def test_a_deadline_at_23_59_wib_takes_that_minute_and_not_the_next_days_first(
    app, session, world, set_now, policy, moment, outcome
):
    assignment = _assignment(session, world, late_policy=policy)
    client = participant_client(app, session, world["kominfo_1"])
    set_now(moment)
    response = client.post(
        _page(world, assignment),
        data=_rows_form(governance=("Data tersebar", "Satu Data", "Diskominfo", "2022")),
    )
    submission = session.scalar(select(Submission))
    if outcome == "refused":
        assert response.status_code == 400
        assert "Batas waktu sudah lewat" in response.get_data(as_text=True)
        assert submission is None
        return
    assert response.status_code == 302
    assert submission.late is (outcome == "late")
    assert submission.latest.late is (outcome == "late")
    assert submission.latest.rows == {
        "governance": {
            "problem": "Data tersebar",
            "innovation": "Satu Data",
            "owner": "Diskominfo",
            "year": "2022",
        }
    }
    page = client.get(_page(world, assignment)).get_data(as_text=True)
    assert ("terlambat" in page) is (outcome == "late")


def test_the_participant_page_lists_the_organisations_assignments(app, session, world, set_now):
    set_now(BEFORE_MIDNIGHT - timedelta(days=2))
    assignment = _assignment(session, world, kinds=(OrgKind.OPD,))
    kecamatan_only = _assignment(session, world, title="Data desa", kinds=(OrgKind.KECAMATAN,))
    client = participant_client(app, session, world["kominfo_1"])
    page = client.get(f"/saya/{world['program'].slug}").get_data(as_text=True)
    assert f'data-testid="assignment-{assignment.id}"' in page
    assert "Tugas Dinas Kominfo" in page
    assert "Analisis kondisi saat ini" in page
    assert f'data-testid="assignment-{kecamatan_only.id}"' not in page
    assert client.get(_page(world, kecamatan_only)).status_code == 404


# --- Files -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "stored_as"),
    [
        ("laporan.pdf", PDF, "laporan.pdf"),
        ("isian.xlsx", xlsx_bytes(), "isian.xlsx"),
        ("konsep.docx", docx_bytes(), "konsep.docx"),
        ("konsep tanpa nama", docx_bytes(), "konsep tanpa nama.docx"),
    ],
)
def test_a_pdf_docx_or_xlsx_is_kept_outside_the_web_root_and_served_only_as_a_download(
    app, session, world, files_dir, set_now, filename, data, stored_as
):
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    assignment = _assignment(session, world)
    client = participant_client(app, session, world["kominfo_1"])
    response = client.post(
        f"{_page(world, assignment)}/berkas",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.data
    revision = session.scalar(select(SubmissionRevision))
    assert revision.file_name == stored_as
    assert (files_dir / revision.file_key).read_bytes() == data
    download = client.get(f"{_page(world, assignment)}/berkas/{revision.id}")
    assert download.status_code == 200
    assert download.data == data
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    # A colleague of the same organisation sees the same file; the organiser can download it too.
    colleague = participant_client(app, session, world["kominfo_2"])
    assert colleague.get(f"{_page(world, assignment)}/berkas/{revision.id}").data == data
    organiser = staff_client(app, world["organiser"])
    assert organiser.get(f"/admin/tugas/berkas/{revision.id}").data == data


@pytest.mark.parametrize(
    ("filename", "data", "status", "message"),
    [
        (
            "laporan.pdf",
            b"MZ\x90\x00" + b"\x00" * 200,
            400,
            "Hanya berkas PDF, Word (DOCX) atau Excel (XLSX)",
        ),
        ("isian.docx", zip_bytes(), 400, "Hanya berkas PDF, Word (DOCX) atau Excel (XLSX)"),
        ("kosong.pdf", b"", 400, "Berkas kosong."),
        ("besar.pdf", PDF + b"0" * 2048, 413, "Berkas terlalu besar: paling besar 1 KB."),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_error_and_nothing_is_stored(
    app, session, world, files_dir, set_now, filename, data, status, message
):
    app.config["MAX_UPLOAD_BYTES"] = 1024
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    assignment = _assignment(session, world)
    client = participant_client(app, session, world["kominfo_1"])
    response = client.post(
        f"{_page(world, assignment)}/berkas",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Submission)) == 0
    assert not files_dir.exists() or list(files_dir.iterdir()) == []


def test_a_file_after_a_refusing_deadline_is_not_stored(app, session, world, files_dir, set_now):
    assignment = _assignment(session, world, late_policy=LatePolicy.REFUSE)
    client = participant_client(app, session, world["kominfo_1"])
    set_now(AFTER_MIDNIGHT)
    response = client.post(
        f"{_page(world, assignment)}/berkas",
        data={"file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Batas waktu sudah lewat" in response.get_data(as_text=True)
    assert not files_dir.exists() or list(files_dir.iterdir()) == []


# --- Authorisation -----------------------------------------------------------------------------


def test_an_organisation_sees_only_its_own_submission(app, session, world, set_now):
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    assignment = _assignment(session, world)
    kominfo = participant_client(app, session, world["kominfo_1"])
    kominfo.post(
        f"{_page(world, assignment)}/berkas",
        data={"file": (io.BytesIO(PDF), "rahasia.pdf")},
        content_type="multipart/form-data",
    )
    kominfo.post(
        _page(world, assignment),
        data=_rows_form(economy=("UMKM offline", "Pasar daring", "Disperindag", "2023")),
    )
    revision = session.scalars(select(SubmissionRevision).order_by(SubmissionRevision.id)).first()
    bappeda = participant_client(app, session, world["bappeda_1"])
    page = bappeda.get(_page(world, assignment)).get_data(as_text=True)
    assert "UMKM offline" not in page and "rahasia.pdf" not in page
    assert "Belum mengumpulkan" in page
    assert bappeda.get(f"{_page(world, assignment)}/berkas/{revision.id}").status_code == 404
    # Nor through its own assignment's address with another revision number.
    assert (
        bappeda.get(f"/saya/{world['program'].slug}/tugas/{assignment.id}/berkas/{revision.id}").status_code
        == 404
    )


def test_a_narasumber_reviews_only_the_assignments_they_are_named_for(app, session, world, set_now):
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    assignment = _assignment(session, world, reviewer=world["narasumber"])
    kominfo = participant_client(app, session, world["kominfo_1"])
    kominfo.post(
        _page(world, assignment), data=_rows_form(living=("Banjir", "Sensor sungai", "BPBD", "2024"))
    )
    revision = session.scalar(select(SubmissionRevision))
    named = staff_client(app, world["narasumber"])
    other = staff_client(app, world["other_narasumber"])
    org = world["dinas"].id
    assert "Analisis kondisi saat ini" in named.get("/admin/tugas").get_data(as_text=True)
    assert "Analisis kondisi saat ini" not in other.get("/admin/tugas").get_data(as_text=True)
    for url in (
        f"/admin/tugas/{assignment.id}",
        f"/admin/tugas/{assignment.id}/organisasi/{org}",
        f"/admin/tugas/berkas/{revision.id}",
    ):
        assert other.get(url).status_code == 403, url
    refused = other.post(f"/admin/tugas/{assignment.id}/organisasi/{org}", data={"status": "accepted"})
    assert refused.status_code == 403
    assert session.scalar(select(Submission)).status == SubmissionStatus.SUBMITTED
    assert named.get(f"/admin/tugas/{assignment.id}/organisasi/{org}").status_code == 200
    accepted = named.post(
        f"/admin/tugas/{assignment.id}/organisasi/{org}", data={"status": "accepted", "comment": "Bagus."}
    )
    assert accepted.status_code == 302
    session.expire_all()
    assert session.scalar(select(Submission)).status == SubmissionStatus.ACCEPTED


# --- Review and revisions ----------------------------------------------------------------------


def test_revisions_keep_who_when_and_what_changed_and_a_review_tells_the_organisation(
    app, session, world, set_now
):
    start = BEFORE_MIDNIGHT - timedelta(days=3)
    set_now(start)
    assignment = _assignment(session, world)
    rina = participant_client(app, session, world["kominfo_1"])
    budi = participant_client(app, session, world["kominfo_2"])
    assert (
        rina.post(
            _page(world, assignment),
            data=_rows_form(governance=("Data tersebar", "Satu Data", "Diskominfo", "2022")),
        ).status_code
        == 302
    )
    set_now(start + timedelta(hours=1))
    organiser = staff_client(app, world["organiser"])
    org_url = f"/admin/tugas/{assignment.id}/organisasi/{world['dinas'].id}"
    no_comment = organiser.post(org_url, data={"status": "needs_revision", "comment": ""})
    assert "Tuliskan apa yang perlu direvisi" in no_comment.get_data(as_text=True)
    assert (
        organiser.post(
            org_url, data={"status": "needs_revision", "comment": "Tambahkan tahun target."}
        ).status_code
        == 302
    )
    # The organisation is told: one message for its contact persons, on WhatsApp and email.
    message = session.scalar(select(ParticipantMessage))
    assert message.kind == Kind.ASSIGNMENT
    assert message.text_id == (
        'Dinas Kominfo: kiriman untuk "Analisis kondisi saat ini" perlu direvisi. Komentar: Tambahkan tahun target.'
    )
    assert message.text_en == (
        'Dinas Kominfo: your submission for "Analisis kondisi saat ini" needs revision. Comment: Tambahkan tahun target.'
    )
    deliveries = session.execute(
        select(Delivery.registration_id, Delivery.channel).order_by(
            Delivery.registration_id, Delivery.channel
        )
    ).all()
    ids = sorted([world["kominfo_1"].id, world["kominfo_2"].id])
    assert deliveries == [(ids[0], "email"), (ids[0], "whatsapp"), (ids[1], "email"), (ids[1], "whatsapp")]
    page = budi.get(_page(world, assignment)).get_data(as_text=True)
    assert "Perlu revisi" in page and "Tambahkan tahun target." in page
    # Budi revises the organisation's submission: a second revision, back to "submitted".
    set_now(start + timedelta(hours=2))
    unchanged = budi.post(
        _page(world, assignment),
        data=_rows_form(governance=("Data tersebar", "Satu Data", "Diskominfo", "2022")),
    )
    assert "Tidak ada yang berubah" in unchanged.get_data(as_text=True)
    revised = budi.post(
        _page(world, assignment),
        data=_rows_form(
            governance=("Data tersebar", "Satu Data", "Diskominfo", "2022-2024"),
            society=("Literasi digital", "Kelas", "Disdik", "2023"),
        ),
    )
    assert revised.status_code == 302
    session.expire_all()
    submission = session.scalar(select(Submission))
    assert submission.status == SubmissionStatus.SUBMITTED
    assert [(r.number, r.author.name, r.created_at, r.changes) for r in submission.revisions] == [
        (1, "Rina Kominfo", start, ["rows:governance"]),
        (2, "Budi Kominfo", start + timedelta(hours=2), ["rows:governance", "rows:society"]),
    ]
    assert [(r.revision_number, r.status, r.comment) for r in submission.reviews] == [
        (1, SubmissionStatus.NEEDS_REVISION, "Tambahkan tahun target.")
    ]
    history = organiser.get(org_url).get_data(as_text=True)
    assert "Versi 2" in history and "Smart governance, Smart society" in history


def test_an_accepted_submission_cannot_be_changed(app, session, world, set_now):
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    assignment = _assignment(session, world)
    rina = participant_client(app, session, world["kominfo_1"])
    rina.post(
        _page(world, assignment), data=_rows_form(branding=("Tidak dikenal", "Festival", "Disbudpar", "2022"))
    )
    submission = session.scalar(select(Submission))
    services.review(
        session,
        submission,
        status=SubmissionStatus.ACCEPTED,
        comment="",
        reviewer=world["organiser"],
        now=BEFORE_MIDNIGHT,
    )
    session.commit()
    response = rina.post(_page(world, assignment), data=_rows_form(branding=("Lain", "Lain", "Lain", "2025")))
    assert response.status_code == 400
    assert "Kiriman ini sudah disetujui" in response.get_data(as_text=True)
    assert len(session.scalar(select(Submission)).revisions) == 1


# --- The overview ------------------------------------------------------------------------------


def test_the_overview_puts_late_organisations_first_and_exports_the_same(app, session, world, set_now):
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    handed_in_by_kominfo(app, session, world)
    set_now(AFTER_MIDNIGHT)  # Bappeda has not submitted: late now
    organiser = staff_client(app, world["organiser"])
    page = organiser.get(f"/admin/programs/{world['program'].id}/tugas").get_data(as_text=True)
    assert page.index("Bappeda") < page.index("Dinas Kominfo")
    rows = list(
        csv.reader(
            io.StringIO(
                organiser.get(f"/admin/programs/{world['program'].id}/tugas/ikhtisar.csv").data.decode(
                    "utf-8-sig"
                )
            ),
            delimiter=";",
        )
    )
    assert rows == [
        ["Instansi", "Jenis instansi", "Analisis kondisi saat ini"],
        ["Bappeda", "Perangkat daerah (OPD)", "Belum mengumpulkan · terlambat"],
        ["Dinas Kominfo", "Perangkat daerah (OPD)", "Terkirim"],
    ]
    book = load_workbook(
        io.BytesIO(organiser.get(f"/admin/programs/{world['program'].id}/tugas/ikhtisar.xlsx").data)
    )
    sheet = book.active
    assert [cell.value for cell in sheet[3]] == [
        "Bappeda",
        "Perangkat daerah (OPD)",
        "Belum mengumpulkan · terlambat",
    ]
    assert sheet.cell(3, 3).fill.fgColor.rgb.endswith("FDE8E8")


def test_the_rows_a_participant_typed_are_kept_as_typed_when_refused(app, session, world, set_now):
    assignment = _assignment(session, world, late_policy=LatePolicy.REFUSE)
    client = participant_client(app, session, world["kominfo_1"])
    set_now(AFTER_MIDNIGHT)
    response = client.post(
        _page(world, assignment),
        data=_rows_form(environment=("Sampah plastik", "Bank sampah", "DLH", "2022")),
    )
    page = response.get_data(as_text=True)
    assert "Sampah plastik" in page and "Bank sampah" in page


def test_picked_organisations_must_submit_besides_the_chosen_kinds(app, session, world, set_now):
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    organiser = staff_client(app, world["organiser"])
    program = world["program"]
    response = organiser.post(
        f"/admin/programs/{program.id}/tugas/baru",
        data={
            "stage_id": program.stages[1].id,
            "title": "Data kecamatan",
            "deadline": "2021-07-11T00:01",
            "late_policy": "accept",
            "wants_file": "y",
            "organizations": [world["kecamatan"].id, world["bappeda"].id],
            "reviewer_id": 0,
        },
    )
    assert response.status_code == 302
    assignment = session.scalar(select(Assignment))
    assert (assignment.kinds, assignment.picked_ids) == ([], {world["kecamatan"].id, world["bappeda"].id})
    assert assignment.deadline == AFTER_MIDNIGHT
    detail = organiser.get(response.location).get_data(as_text=True)
    assert "Tarutung" in detail and "Bappeda" in detail and "Dinas Kominfo" not in detail
    # The form shows the deadline again as it was typed, in WIB.
    form = organiser.get(f"/admin/tugas/{assignment.id}/ubah").get_data(as_text=True)
    assert 'value="2021-07-11T00:01"' in form
    assert (
        participant_client(app, session, world["kominfo_1"]).get(_page(world, assignment)).status_code == 404
    )
    assert (
        participant_client(app, session, world["bappeda_1"]).get(_page(world, assignment)).status_code == 200
    )


def test_the_assignment_page_in_english(app, session, world, set_now):
    set_now(AFTER_MIDNIGHT)
    assignment = _assignment(session, world, late_policy=LatePolicy.REFUSE)
    client = participant_client(app, session, world["kominfo_1"])
    client.post("/language/en", data={"next": "/"})
    page = client.get(_page(world, assignment)).get_data(as_text=True)
    assert "Deadline: <strong>Saturday, 10 July 2021 at 23:59 WIB</strong>" in page
    assert "The deadline has passed. No more submissions are accepted." in page
    assert "Not submitted" in page and "late" in page
    assert 'data-testid="save-rows"' not in page and 'data-testid="upload"' not in page
