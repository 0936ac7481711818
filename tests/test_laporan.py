"""The laporan kegiatan: the DOCX read back with python-docx and the PDF's text (pdftotext) say
the factory's exact figures in every part, the whole programme's report against one stage's, in
Indonesian and in English; the organiser's texts; photo uploads judged by their content, bad ones
refused with a clear error and nothing stored; downloads audited."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import timedelta

import pytest
from docx import Document
from sqlalchemy import func, select

from tests import laporan_world
from tests.laporan_world import AFTER_ALL, png
from workshop.auth.models import AuditEntry
from workshop.laporan.models import ReportPhoto, ReportText
from workshop.live.models import Question

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def world(session, set_now, login):
    set_now(AFTER_ALL)
    built = laporan_world.build(session)
    login(built["organiser"])
    return built


def _download(client, program, kind, **args):
    response = client.get(f"/admin/programs/{program.id}/laporan.{kind}", query_string=args)
    assert response.status_code == 200, response.status_code
    return response


def _docx(client, program, **args):
    response = _download(client, program, "docx", **args)
    assert response.mimetype == DOCX
    return Document(io.BytesIO(response.data)), response


def _tables(document) -> list[list[list[str]]]:
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]


def _headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def _pdf_text(content: bytes) -> str:
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed"
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())  # words separated by one space, lines joined


STAGE_I_BY_MODE = [
    ["Moda", "Hadir", "Terlambat", "Izin", "Tidak hadir", "Jumlah"],
    ["Luring", "2", "0", "1", "0", "3"],
    ["Daring", "0", "1", "0", "1", "2"],
    ["Jumlah", "2", "1", "1", "1", "5"],
]
STAGE_I_BY_KIND = [
    ["Jenis instansi", "Hadir", "Terlambat", "Izin", "Tidak hadir", "Jumlah"],
    ["Perangkat daerah (OPD)", "1", "1", "0", "0", "2"],
    ["Kecamatan", "0", "0", "1", "0", "1"],
    ["Desa/Kelurahan", "1", "0", "0", "1", "2"],
    ["Jumlah", "2", "1", "1", "1", "5"],
]
# 4 votes online and 15 hands counted in the hall: 19 answers
POLL_I = [
    ["Jawaban", "Daring", "Di aula", "Jumlah", "%"],
    ["Sudah", "3", "10", "13", "68%"],
    ["Belum", "1", "5", "6", "32%"],
]
QUESTIONS_I = [
    ["No", "Pertanyaan", "Penanya", "Dukungan", "Status"],
    [
        "1",
        "Bagaimana pendanaan smart city di desa?",
        "Maria Sihombing, Hutatoruan I, Kec. Tarutung",
        "7",
        "Dijawab narasumber",
    ],
    ["2", "Apakah ada pendampingan lanjutan?", "Anonim", "3", "Disetujui, belum dijawab"],
    ["3", "Kapan data desa dikumpulkan?", "Sari Lumbantobing, Tarutung", "2", "Dibawa ke tahap berikutnya"],
]
QUESTIONS_II = [
    ["No", "Pertanyaan", "Penanya", "Dukungan", "Status"],
    [
        "1",
        "Kapan data desa dikumpulkan?",
        "Sari Lumbantobing, Tarutung",
        "2",
        "Dijawab narasumber (dibawa dari tahap sebelumnya)",
    ],
]
CERTIFICATES = [
    ["No", "Nomor", "Nama", "Instansi"],
    ["1", "800/1/Kominfo/2021", "Rina Siregar", "Bappeda"],
    ["2", "800/2/Kominfo/2021", "Maria Sihombing", "Hutatoruan I, Kec. Tarutung"],
]


def test_a_question_carried_at_the_stages_end_without_the_moderators_mark_shows_as_carried(
    client, session, world
):
    carried = session.scalar(
        select(Question).where(Question.text == "Kapan data desa dikumpulkan?", Question.carry_over)
    )
    carried.carry_over = False  # carried because it was approved and not answered when the stage ended
    session.commit()

    document, _response = _docx(client, world["program"])

    assert QUESTIONS_I in _tables(document)


def test_the_whole_programme_docx_has_every_part_with_the_exact_figures(client, session, world):
    program = world["program"]
    document, response = _docx(client, program)
    assert response.headers["Content-Disposition"] == f"attachment; filename=laporan-{program.slug}.docx"
    assert _headings(document) == [
        "LAPORAN PELAKSANAAN KEGIATAN",
        "1. Pendahuluan",
        "Dasar Pelaksanaan",
        "Maksud dan Tujuan",
        "2. Jadwal Pelaksanaan",
        *(f"Tahap {n}: Tahap ke-{i}" for i, n in enumerate(["I", "II", "III", "IV"], start=1)),
        "3. Rekapitulasi Kehadiran",
        *(f"Tahap {n}: Tahap ke-{i}" for i, n in enumerate(["I", "II", "III", "IV"], start=1)),
        "4. Hasil Jajak Pendapat",
        "Tahap I: Tahap ke-1",
        "1. Apakah daerah Anda sudah punya masterplan?",
        "Tahap II: Tahap ke-2",
        "1. Seberapa siap daerah Anda?",
        "Tahap III: Tahap ke-3",
        "Tahap IV: Tahap ke-4",
        "5. Pertanyaan Peserta",
        *(f"Tahap {n}: Tahap ke-{i}" for i, n in enumerate(["I", "II", "III", "IV"], start=1)),
        "6. Evaluasi",
        "Apakah durasi tahap ini sudah sesuai?",
        "Saran dan masukan untuk tahap berikutnya",
        "7. Sertifikat yang Diterbitkan",
        "8. Dokumentasi",
        *(f"Tahap {n}: Tahap ke-{i}" for i, n in enumerate(["I", "II", "III", "IV"], start=1)),
        "9. Penutup",
    ]
    texts = [p.text for p in document.paragraphs]
    for line in [
        "Bimtek Penyusunan Masterplan Smart City",
        "Dinas Komunikasi dan Informatika Kabupaten Tapanuli Utara",
        "Kamis, 24 Juni 2021 s.d. Jumat, 27 Agustus 2021",
        "Peraturan Bupati Tapanuli Utara Nomor 12 Tahun 2021",
        "DPA Dinas Kominfo Tahun Anggaran 2021",
        "Meningkatkan kapasitas aparatur dalam menyusun masterplan smart city.",
        "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB",
        "Rata-rata: 4,50",
        "19 jawaban: 4 daring, 15 dihitung di aula",
        "Dijawab narasumber: 1; Disetujui, belum dijawab: 1; Dibawa ke tahap berikutnya: 1",
        "2 sertifikat diterbitkan.",
        "Pembukaan oleh Bupati",
        "Demikian laporan ini disampaikan.",
    ]:
        assert line in texts, line
    tables = _tables(document)
    assert tables[0] == [
        ["Waktu", "Materi", "Narasumber"],
        ["09.30 WIB", "Kebijakan Smart City Nasional", "Dr. Ir. Sutan Harahap"],
    ]
    assert tables[1] == STAGE_I_BY_MODE
    assert tables[2] == STAGE_I_BY_KIND
    assert tables[3][1:] == [
        ["Luring", "3", "0", "0", "0", "3"],
        ["Daring", "2", "0", "0", "0", "2"],
        ["Jumlah", "5", "0", "0", "0", "5"],
    ]
    assert tables[5][-1] == ["Jumlah", "0", "0", "0", "5", "5"]  # stage III: no evidence
    assert POLL_I in tables
    assert [
        ["Jawaban", "Jumlah", "%"],
        ["1", "0", "0%"],
        ["2", "0", "0%"],
        ["3", "0", "0%"],
        ["4", "1", "50%"],
        ["5", "1", "50%"],
    ] in tables
    assert QUESTIONS_I in tables  # the dismissed question is left out; answered first
    assert QUESTIONS_II in tables
    assert [
        ["Tahap", "Tanggapan", "Peserta", "%"],
        ["Tahap I", "2", "5", "40%"],
        ["Tahap II", "0", "5", "0%"],
        ["Tahap III", "0", "5", "0%"],
        ["Tahap IV", "0", "5", "0%"],
    ] in tables
    assert ["Materi: isi dan kegunaan materi yang disampaikan", "2", "4,50"] in next(
        table for table in tables if table[0] == ["Aspek", "Jawaban", "Rata-rata (1 s.d. 5)"]
    )
    assert [
        ["Jawaban", "Jumlah", "%"],
        ["Terlalu singkat", "1", "50%"],
        ["Sudah sesuai", "1", "50%"],
        ["Terlalu panjang", "0", "0%"],
    ] in tables
    assert [["Tahap", "Jawaban"], ["Tahap I", "Tambah waktu praktik"]] in tables
    assert tables[-1] == CERTIFICATES
    assert len(document.inline_shapes) == 3  # two poll charts and the photo
    assert document.core_properties.title == "Laporan kegiatan: Bimtek Penyusunan Masterplan Smart City"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "laporan.docx")).one()
    assert (entry.actor_id, entry.subject, entry.detail) == (
        world["organiser"].id,
        f"program:{program.id}",
        f"laporan-{program.slug}.docx",
    )


def test_the_pdf_says_the_same_figures(client, session, world):
    program = world["program"]
    response = _download(client, program, "pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"attachment; filename=laporan-{program.slug}.pdf"
    text = _pdf_text(response.data)
    for table in [STAGE_I_BY_MODE, STAGE_I_BY_KIND, POLL_I, CERTIFICATES]:
        for row in table:
            assert " ".join(row) in text, row
    for words in [
        "LAPORAN PELAKSANAAN KEGIATAN Bimtek Penyusunan Masterplan Smart City",
        "Kamis, 24 Juni 2021 s.d. Jumat, 27 Agustus 2021",
        "1. Pendahuluan Dasar Pelaksanaan Peraturan Bupati Tapanuli Utara Nomor 12 Tahun 2021",
        "09.30 WIB Kebijakan Smart City Nasional Dr. Ir. Sutan Harahap",
        "Rata-rata: 4,50",
        "Apakah ada pendampingan lanjutan? Anonim 3 Disetujui, belum dijawab",
        "Tahap I 2 5 40%",
        "2 sertifikat diterbitkan.",
        "Pembukaan oleh Bupati",
    ]:
        assert words in text, words
    assert "Pesan iklan yang ditolak" not in text
    assert session.scalar(select(func.count()).where(AuditEntry.action == "laporan.pdf")) == 1


def test_a_stage_report_says_that_stage_only(client, world):
    program = world["program"]
    second = program.stages[1]
    document, response = _docx(client, program, tahap=second.id)
    assert (
        response.headers["Content-Disposition"]
        == f"attachment; filename=laporan-{program.slug}-tahap-II.docx"
    )
    headings = _headings(document)
    assert "Tahap I: Tahap ke-1" not in headings
    assert "7. Sertifikat yang Diterbitkan" not in headings  # certificates belong to the programme
    assert [h for h in headings if h[0].isdigit() and h[1] == "."] == [
        "1. Pendahuluan",
        "2. Jadwal Pelaksanaan",
        "3. Rekapitulasi Kehadiran",
        "4. Hasil Jajak Pendapat",
        "1. Seberapa siap daerah Anda?",
        "5. Pertanyaan Peserta",
        "6. Evaluasi",
        "7. Dokumentasi",
        "8. Penutup",
    ]
    texts = [p.text for p in document.paragraphs]
    assert "Tahap II: Tahap ke-2" in texts  # on the cover
    assert "Kamis, 15 Juli 2021, pukul 09.00 WIB s.d. Jumat, 16 Juli 2021, pukul 16.00 WIB" in texts
    assert "Belum ada foto." in texts
    assert QUESTIONS_II in _tables(document) and QUESTIONS_I not in _tables(document)
    tables = _tables(document)
    assert tables[0][1:] == [
        ["Luring", "3", "0", "0", "0", "3"],
        ["Daring", "2", "0", "0", "0", "2"],
        ["Jumlah", "5", "0", "0", "0", "5"],
    ]
    assert [["Tahap", "Tanggapan", "Peserta", "%"], ["Tahap II", "0", "5", "0%"]] in tables
    assert len(document.inline_shapes) == 1  # the rating poll's chart; the photo is stage I's
    text = _pdf_text(_download(client, program, "pdf", tahap=second.id).data)
    assert "Luring 3 0 0 0 3" in text and "Sudah 3 75%" not in text and "800/1/Kominfo/2021" not in text


def test_in_english_when_the_organiser_reads_english(client, world):
    client.post("/language/en")
    document, _response = _docx(client, world["program"])
    headings = _headings(document)
    assert headings[:4] == ["ACTIVITY REPORT", "1. Introduction", "Legal basis", "Purpose"]
    assert "Thursday, 24 June 2021 to Friday, 27 August 2021" in [p.text for p in document.paragraphs]
    assert _tables(document)[1][0] == ["Mode", "Present", "Late", "Excused", "Absent", "Total"]


def test_an_unknown_stage_or_format_is_not_found(client, world):
    program = world["program"]
    assert client.get(f"/admin/programs/{program.id}/laporan.docx?tahap=999999").status_code == 404
    assert client.get(f"/admin/programs/{program.id}/laporan.docx?tahap=abc").status_code == 404
    assert client.get(f"/admin/programs/{program.id}/laporan.odt").status_code == 404


def test_the_organiser_saves_the_texts_and_a_text_too_long_is_refused(client, session, world):
    program = world["program"]
    page = client.get(f"/admin/programs/{program.id}/laporan")
    assert page.status_code == 200 and "Peraturan Bupati Tapanuli Utara Nomor 12 Tahun 2021" in page.get_data(
        as_text=True
    )
    form = {
        "basis": "Surat Tugas Nomor 1\r\nDPA 2021",
        "purpose": "Tujuan baru",
        "summary": "Lancar",
        "closing": "",
    }
    assert client.post(f"/admin/programs/{program.id}/laporan/texts", data=form).status_code == 302
    texts = session.get(ReportText, program.id)
    session.refresh(texts)
    assert (texts.basis, texts.purpose, texts.summary, texts.closing) == (
        "Surat Tugas Nomor 1\nDPA 2021",
        "Tujuan baru",
        "Lancar",
        "",
    )
    refused = client.post(
        f"/admin/programs/{program.id}/laporan/texts", data=form | {"purpose": "x" * 10_001}
    )
    assert refused.status_code == 200
    assert "10000" in refused.get_data(as_text=True)
    session.refresh(texts)
    assert texts.purpose == "Tujuan baru"


def _upload(client, stage, content, filename="foto.png", caption="Sesi diskusi"):
    return client.post(
        f"/admin/stages/{stage.id}/laporan/photos",
        data={f"stage{stage.id}-photo": (io.BytesIO(content), filename), f"stage{stage.id}-caption": caption},
        content_type="multipart/form-data",
    )


def _photo_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(ReportPhoto))


def test_a_photo_is_stored_reencoded_shown_and_deleted(client, session, world):
    stage = world["program"].stages[2]
    big = png((3200, 1600))
    response = _upload(client, stage, big)
    assert response.status_code == 303
    photo = session.scalars(select(ReportPhoto).where(ReportPhoto.stage_id == stage.id)).one()
    assert (photo.caption, photo.content_type, photo.width, photo.height) == (
        "Sesi diskusi",
        "image/png",
        1600,
        800,
    )
    shown = client.get(f"/admin/laporan/photos/{photo.id}")
    assert (shown.status_code, shown.mimetype, shown.data) == (200, "image/png", photo.content)
    assert client.post(f"/admin/laporan/photos/{photo.id}/delete").status_code == 302
    assert _photo_count(session) == 1  # the world's own photo stays


@pytest.mark.parametrize(
    ("content", "filename", "status", "message"),
    [
        (
            b"%PDF-1.4 not a picture",
            "foto.png",
            200,
            "Berkas ini bukan gambar PNG atau JPEG (atau rusak). Tidak ada yang disimpan.",
        ),
        (
            png()[:200],
            "foto.png",
            200,
            "Berkas ini bukan gambar PNG atau JPEG (atau rusak). Tidak ada yang disimpan.",
        ),
        (png(), "foto.gif", 200, "Foto harus berkas PNG atau JPEG."),
        (b"", "", 200, "Pilih foto yang akan diunggah."),
        (
            b"\x89PNG\r\n\x1a\n" + b"0" * (8 * 1024 * 1024),
            "foto.png",
            200,
            "Foto terlalu besar: paling besar 8 MB.",
        ),
        (
            b"\x89PNG\r\n\x1a\n" + b"0" * (9 * 1024 * 1024),
            "foto.png",
            413,
            "Berkas terlalu besar: paling besar 8 MB.",
        ),
    ],
    ids=["not-an-image", "truncated", "wrong-extension", "no-file", "over-the-size", "far-over-the-size"],
)
def test_a_bad_photo_is_refused_with_a_clear_error_and_nothing_stored(
    client, session, world, content, filename, status, message
):
    before = _photo_count(session)
    response = _upload(client, world["program"].stages[0], content, filename)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert _photo_count(session) == before


def test_a_photo_with_too_many_pixels_is_refused(client, session, world):
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 4_001)).save(out, "PNG")  # 40,010,000 pixels, a small file
    before = _photo_count(session)
    response = _upload(client, world["program"].stages[0], out.getvalue())
    assert response.status_code == 200
    assert (
        "Gambar ini terlalu banyak pikselnya: paling banyak 40 megapiksel. Tidak ada yang disimpan."
        in response.get_data(as_text=True)
    )
    assert _photo_count(session) == before


def test_a_stage_takes_twelve_photos_at_most(client, session, world):
    stage = world["program"].stages[3]
    for _ in range(12):
        assert _upload(client, stage, png((20, 20))).status_code == 303
    refused = _upload(client, stage, png((20, 20)))
    assert refused.status_code == 200
    assert "Satu tahap paling banyak 12 foto: hapus satu dulu." in refused.get_data(as_text=True)


def test_a_stage_not_started_yet_is_counted_apart(client, world, set_now):
    program = world["program"]
    fourth = program.stages[3]
    set_now(fourth.starts_at - timedelta(days=1))
    document, _response = _docx(client, program, tahap=fourth.id)
    assert _tables(document)[0] == [
        ["Moda", "Hadir", "Terlambat", "Izin", "Tidak hadir", "Belum dimulai", "Jumlah"],
        ["Luring", "0", "0", "0", "0", "3", "3"],
        ["Daring", "0", "0", "0", "0", "2", "2"],
        ["Jumlah", "0", "0", "0", "0", "5", "5"],
    ]
