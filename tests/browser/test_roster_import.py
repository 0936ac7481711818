"""The roster import in Chromium: a kecamatan's Excel file on a phone-sized screen, the choice of a
mode for a file without one, and a file over the limit answered on the upload page itself, with
and without JavaScript."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from workshop.auth.models import Role
from workshop.programs.services import import_regions
from workshop.registration.models import Registration

ROSTERS = Path(__file__).resolve().parent.parent / "data" / "rosters"
# The server reads and checks a file before it answers (or reads 6 MB to refuse it): on a loaded
# machine that takes more than the default 10 s.
SERVER_WORK_MS = 60_000


def seed(live_server) -> tuple[int, str]:
    with live_server.session() as session:
        import_regions(session)
        program = factories.program(session, stages=2)
        organiser = factories.staff(session, Role.PANITIA)
        return program.id, organiser.username


def registrations(live_server, program_id: int) -> int:
    with live_server.session() as session:
        return session.scalar(select(func.count()).where(Registration.program_id == program_id))


def no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"


def test_a_kecamatan_excel_file_is_previewed_and_imported_on_a_phone(
    live_server, phone_page, browser_problems
):
    program_id, organiser = seed(live_server)
    page = phone_page
    log_in(page, organiser)
    page.goto(f"/admin/programs/{program_id}/import")
    expect(page.get_by_test_id("upload-limit")).to_have_text(
        "Buku kerja Excel (.xlsx) atau CSV, paling besar 5 MB dan 5.000 baris."
    )
    no_horizontal_scroll(page)

    page.locator("#roster-file").set_input_files(ROSTERS / "kecamatan-garoga-kades.xlsx")
    page.get_by_test_id("upload-button").click(timeout=SERVER_WORK_MS)

    page.wait_for_url("**/admin/imports/*", timeout=SERVER_WORK_MS)
    expect(page.get_by_test_id("import-counts")).to_have_text(
        "Baris: 9 · siap diimpor: 9 · bermasalah: 0", use_inner_text=True
    )
    expect(page.get_by_test_id("left-out")).to_contain_text("baris jumlah (baris 16)")
    expect(page.get_by_test_id("row-7")).to_contain_text("Sibaganding, Kec. Garoga")
    no_horizontal_scroll(page)
    page.get_by_test_id("confirm-import").click(timeout=SERVER_WORK_MS)
    page.wait_for_url(f"**/admin/programs/{program_id}/registrations", timeout=SERVER_WORK_MS)
    assert registrations(live_server, program_id) == 9
    assert browser_problems.seen == []


def test_a_file_without_modes_imports_once_the_organiser_chooses_one(live_server, page, browser_problems):
    program_id, organiser = seed(live_server)
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, organiser)
    page.goto(f"/admin/programs/{program_id}/import")
    page.locator("#roster-file").set_input_files(ROSTERS / "desa-utf8-bom.csv")
    page.get_by_test_id("upload-button").click(timeout=SERVER_WORK_MS)
    page.wait_for_url("**/admin/imports/*", timeout=SERVER_WORK_MS)

    expect(page.get_by_test_id("columns-missing")).to_contain_text(
        "Belum ada kolom untuk: Mode kehadiran (atau pilih satu mode untuk semua baris)."
    )
    expect(page.get_by_test_id("confirm-import")).to_have_count(0)  # nothing to import yet
    page.locator("#default-mode").select_option("daring")
    page.get_by_test_id("apply-columns").click(timeout=SERVER_WORK_MS)

    expect(page.get_by_test_id("import-counts")).to_have_text(
        "Baris: 6 · siap diimpor: 6 · bermasalah: 0", use_inner_text=True, timeout=SERVER_WORK_MS
    )
    page.get_by_test_id("confirm-import").click(timeout=SERVER_WORK_MS)
    page.wait_for_url(f"**/admin/programs/{program_id}/registrations", timeout=SERVER_WORK_MS)
    assert registrations(live_server, program_id) == 6
    assert browser_problems.seen == []


def test_a_file_over_the_limit_without_javascript_gets_the_upload_page_with_the_limit(
    live_server, new_context, tmp_path
):
    program_id, organiser = seed(live_server)
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, organiser)
    page.goto(f"/admin/programs/{program_id}/import")
    too_large = tmp_path / "peserta.csv"
    too_large.write_bytes(b"nama,no_hp\r\n" + b"x" * (6 * 1024 * 1024))

    page.locator("#roster-file").set_input_files(too_large)
    page.get_by_test_id("upload-button").click(timeout=SERVER_WORK_MS)

    expect(page.get_by_test_id("upload-error")).to_have_text(
        "Berkas terlalu besar: paling besar 5 MB.", timeout=SERVER_WORK_MS
    )
    expect(page.get_by_test_id("upload-limit")).to_be_visible()
    assert registrations(live_server, program_id) == 0


def test_a_file_over_the_limit_is_refused_before_it_is_sent(live_server, page, browser_problems, tmp_path):
    program_id, organiser = seed(live_server)
    log_in(page, organiser)
    page.goto(f"/admin/programs/{program_id}/import")
    too_large = tmp_path / "peserta.xlsx"
    too_large.write_bytes(b"x" * (5 * 1024 * 1024 + 1))

    page.locator("#roster-file").set_input_files(too_large)
    page.get_by_test_id("upload-button").click(timeout=SERVER_WORK_MS)

    expect(page.get_by_test_id("upload-error")).to_have_text("Berkas terlalu besar: paling besar 5 MB.")
    assert page.url.endswith(f"/admin/programs/{program_id}/import")
    assert browser_problems.seen == []
