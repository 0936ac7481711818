"""The laporan kegiatan includes the assignments of the stages it reports: per assignment who had
to hand it in, who did (late), accepted, missing; then organisations x assignments, late first."""

from __future__ import annotations

import io
from datetime import timedelta

from docx import Document

from tests import test_assignments
from tests.test_assignments import (
    AFTER_MIDNIGHT,
    BEFORE_MIDNIGHT,
    handed_in_by_kominfo,
)
from tests.test_laporan import _pdf_text, _tables
from tests.test_live import staff_client
from workshop.assignments import services
from workshop.assignments.models import Submission, SubmissionStatus

world = test_assignments.world
files_dir = test_assignments.files_dir


def test_the_laporan_has_the_assignments_chapter_with_the_exact_figures(app, session, world, set_now):
    set_now(BEFORE_MIDNIGHT - timedelta(days=1))
    handed_in_by_kominfo(app, session, world)
    services.review(
        session,
        session.query(Submission).one(),
        status=SubmissionStatus.ACCEPTED,
        comment="",
        reviewer=world["organiser"],
        now=BEFORE_MIDNIGHT,
    )
    session.commit()
    set_now(AFTER_MIDNIGHT)
    organiser = staff_client(app, world["organiser"])
    response = organiser.get(f"/admin/programs/{world['program'].id}/laporan.docx")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert any(heading.endswith(". Tugas") for heading in headings)
    tables = _tables(document)
    assert [
        [
            "Tugas",
            "Batas waktu",
            "Wajib mengumpulkan",
            "Sudah mengumpulkan",
            "Terlambat",
            "Disetujui",
            "Belum mengumpulkan",
        ],
        ["Analisis kondisi saat ini", "Sabtu, 10 Juli 2021, pukul 23.59 WIB", "2", "1", "0", "1", "1"],
    ] in tables
    assert [
        ["Instansi", "Jenis instansi", "Analisis kondisi saat ini"],
        ["Bappeda", "Perangkat daerah (OPD)", "Belum mengumpulkan · terlambat"],
        ["Dinas Kominfo", "Perangkat daerah (OPD)", "Disetujui"],
    ] in tables
    pdf = _pdf_text(organiser.get(f"/admin/programs/{world['program'].id}/laporan.pdf").data)
    assert "Bappeda Perangkat daerah (OPD) Belum mengumpulkan · terlambat" in pdf


def test_a_laporan_without_assignments_has_no_such_chapter(app, session, world, set_now):
    set_now(AFTER_MIDNIGHT)
    organiser = staff_client(app, world["organiser"])
    document = Document(io.BytesIO(organiser.get(f"/admin/programs/{world['program'].id}/laporan.docx").data))
    assert not any(p.text.endswith(". Tugas") for p in document.paragraphs)
