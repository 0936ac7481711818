"""An agency's assignment on a 390 px phone: the contact person hands in a row and a file (a
program renamed .pdf refused first), the organiser asks for a revision, the contact person reads
the comment and revises; every page fits the phone, the organiser's at 360 and 1366 px too."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from workshop.assignments import services as assignments
from workshop.assignments.models import LatePolicy, Submission, SubmissionStatus
from workshop.auth.models import Role
from workshop.i18n import format_datetime_long
from workshop.programs.models import OrgKind
from workshop.registration import links, services
from workshop.registration.models import Status
from workshop.reminders.models import Delivery, Kind

pytestmark = pytest.mark.browser

JAKARTA = ZoneInfo("Asia/Jakarta")
SCREENSHOTS = Path(tempfile.gettempdir()) / "bimtek-assignments"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _screenshots(page: Page, name: str, widths=(360, 1366)) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in widths:
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} at {width} px"


def _seed(live_server):
    secret_key = live_server.app.config["SECRET_KEY"]
    with live_server.session() as session:
        program = factories.program(session, stages=2)
        dinas = factories.organization(session, kind=OrgKind.OPD, name="Dinas Komunikasi dan Informatika")
        factories.organization(session, kind=OrgKind.OPD, name="Bappelitbang")
        registration = factories.registration(session, program, name="Rina Hutabarat", org=dinas)
        services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=secret_key)
        organiser = factories.staff(session, Role.PANITIA)
        closed = assignments.save_assignment(
            session,
            program,
            None,
            stage=program.stages[0],
            title="Formulir data awal",
            instructions="",
            deadline=datetime.now(JAKARTA) - timedelta(days=1),
            late_policy=LatePolicy.REFUSE,
            wants_rows=True,
            wants_file=True,
            kinds=[OrgKind.OPD],
            picked_ids=[],
            reviewer=None,
            actor=organiser,
        )
        return {
            "closed_id": closed.id,
            "slug": program.slug,
            "program_id": program.id,
            "organization_id": dinas.id,
            "token": links.token_for(registration, secret_key),
            "organiser": organiser.username,
        }


def _set_up_by_the_organiser(desk: Page, seed: dict) -> int:
    """The organiser sets the assignment up in the form: its deadline at 23.59 WIB four days ahead (no deadline reminder falls due during the test)."""
    deadline = (datetime.now(JAKARTA) + timedelta(days=4)).replace(hour=23, minute=59)
    desk.goto(f"/admin/programs/{seed['program_id']}")
    desk.get_by_test_id("assignments").click()
    desk.get_by_test_id("new-assignment").click()
    desk.get_by_label("Judul").fill("Analisis kondisi dan ide inovasi")
    desk.get_by_label("Petunjuk").fill(
        "Isi permasalahan dan usulan inovasi per dimensi, lampirkan dokumen konsep."
    )
    desk.locator("#deadline").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    desk.get_by_label("Berkas (PDF, DOCX atau XLSX)").check()
    desk.get_by_label("Perangkat daerah (OPD)").check()
    _screenshots(desk, "organiser-new")
    desk.get_by_test_id("save-assignment").click()
    expect(desk.get_by_test_id("deadline")).to_contain_text(
        f"{format_datetime_long(deadline, 'Asia/Jakarta', 'id')}"
    )
    expect(desk.get_by_test_id("organisations")).to_contain_text("Bappelitbang")
    _screenshots(desk, "organiser-detail")
    return int(desk.url.rstrip("/").split("/")[-1])


def test_submit_review_and_revise_on_a_phone(live_server, new_context, browser_problems, tmp_path):
    seed = _seed(live_server)
    desk = new_context().new_page()
    desk.set_viewport_size({"width": 1366, "height": 800})
    log_in(desk, seed["organiser"])
    with live_server.app.app_context():
        seed["assignment_id"] = _set_up_by_the_organiser(desk, seed)
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"/p/{seed['token']}")
    phone.get_by_test_id("confirm-link").click()
    card = phone.get_by_test_id(f"assignment-{seed['assignment_id']}")
    expect(card).to_contain_text("Belum mengumpulkan")
    _screenshots(phone, "participant-page", widths=(390,))
    card.get_by_role("button", name="Kumpulkan").click()

    phone.get_by_label("Permasalahan").first.fill("Data antar-OPD tersebar di banyak aplikasi.")
    phone.get_by_label("Usulan inovasi").first.fill("Portal Satu Data Tapanuli Utara")
    phone.get_by_label("Penanggung jawab").first.fill("Diskominfo")
    phone.get_by_label("Tahun").first.fill("2022")
    phone.get_by_test_id("save-rows").click()
    expect(phone.locator(".flash-success")).to_have_text("Tersimpan: panitia dapat melihat kiriman Anda.")
    expect(phone.get_by_test_id("submission-status")).to_have_text("Terkirim")

    renamed = tmp_path / "konsep.pdf"
    renamed.write_bytes(b"MZ\x90\x00" + b"\x00" * 500)
    phone.locator("#assignment-file").set_input_files(str(renamed))
    phone.get_by_test_id("upload").click()
    expect(phone.get_by_test_id("file-error")).to_have_text(
        "Hanya berkas PDF, Word (DOCX) atau Excel (XLSX) yang diterima: berkas ini bukan salah satunya."
    )
    renamed.write_bytes(PDF)
    phone.locator("#assignment-file").set_input_files(str(renamed))
    phone.get_by_test_id("upload").click()
    expect(phone.locator(".flash-success")).to_have_text(
        "Berkas terunggah: panitia dapat melihat kiriman Anda."
    )
    expect(phone.get_by_test_id("current-file")).to_have_text("konsep.pdf")
    _screenshots(phone, "participant-submitted", widths=(390,))

    desk.set_viewport_size({"width": 1366, "height": 800})
    desk.goto(f"/admin/programs/{seed['program_id']}/tugas")
    expect(desk.get_by_test_id("matrix")).to_contain_text("Terkirim")
    _screenshots(desk, "organiser-overview")
    desk.goto(f"/admin/tugas/{seed['assignment_id']}/organisasi/{seed['organization_id']}")
    desk.get_by_label("Perlu revisi").check()
    desk.get_by_label("Komentar untuk instansi").fill(
        "Tambahkan target tahun 2024 dan penanggung jawab per kegiatan."
    )
    desk.get_by_test_id("save-review").click()
    expect(desk.locator(".flash-success")).to_have_text("Tinjauan tersimpan dan instansi sudah diberi tahu.")
    _screenshots(desk, "organiser-review")

    phone.reload()
    expect(phone.get_by_test_id("submission-status")).to_have_text("Perlu revisi")
    expect(phone.get_by_test_id("review-comment")).to_contain_text("Tambahkan target tahun 2024")
    phone.get_by_label("Tahun").first.fill("2022-2024")
    phone.get_by_test_id("save-rows").click()
    expect(phone.get_by_test_id("submission-status")).to_have_text("Terkirim")
    expect(phone.get_by_test_id("revision-3")).to_contain_text("Smart governance")
    _screenshots(phone, "participant-revised", widths=(390, 360))

    # The assignment whose deadline passed refuses late work: the form is shown, closed.
    phone.goto(f"/saya/{seed['slug']}/tugas/{seed['closed_id']}")
    expect(phone.get_by_test_id("deadline")).to_contain_text("Kiriman tidak diterima lagi.")
    expect(phone.get_by_test_id("save-rows")).to_have_count(0)
    expect(phone.get_by_test_id("upload")).to_have_count(0)
    _screenshots(phone, "participant-closed", widths=(390,))

    with live_server.session() as session:
        submission = session.scalar(select(Submission))
        assert submission.status == SubmissionStatus.SUBMITTED
        assert [revision.changes for revision in submission.revisions] == [
            ["rows:governance"],
            ["file"],
            ["rows:governance"],
        ]
        assert submission.revisions[2].file_name == "konsep.pdf"  # the file stays with the new rows
        kinds = session.scalars(select(Delivery.kind)).all()
        assert sorted(kinds) == [Kind.ASSIGNMENT, Kind.ASSIGNMENT]  # WhatsApp and email
    # The refused file's page came with its status, 400, which Chromium logs; nothing else.
    assert [problem.split(": ", 1)[1] for problem in browser_problems.seen] == [
        "Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"
    ]
    assert all(problem.split(": ")[0].endswith("/berkas") for problem in browser_problems.seen)
