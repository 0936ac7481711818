"""Certificates in Chromium: the organiser generates them with the run's progress and downloads the
ZIP; the participant downloads their own from their phone; the verification page. Every page fits
a 360 px phone and a 1366 px laptop without sideways scrolling (screenshots in
/tmp/bimtek-certificates)."""

from __future__ import annotations

import tempfile
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from workshop.attendance.models import AttendanceOverride, AttendanceStatus
from workshop.auth.models import Role
from workshop.certificates import issuing, services
from workshop.registration import links
from workshop.registration import services as registration_services
from workshop.registration.models import Status

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir()) / "bimtek-certificates"
WIDTHS = (360, 1366)


def _screenshots(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} at {width} px"


def _seed(live_server):
    secret_key = live_server.app.config["SECRET_KEY"]
    with live_server.session() as session:
        program = factories.program(
            session, title="Bimtek Penyusunan Masterplan Smart City Kabupaten Tapanuli Utara"
        )
        for stage in program.stages:  # all four ended
            stage.starts_at -= timedelta(days=800)
            stage.ends_at -= timedelta(days=800)
        org = factories.organization(session, name="Badan Perencanaan Pembangunan Daerah")
        people = {}
        for name, present in [
            ("Rosmawati Sihombing", 4),
            ("Johannes Lumbantobing", 3),
            ("Budi Hutabarat", 2),
        ]:
            registration = factories.registration(session, program, name=name, org=org)
            registration_services.change_status(
                session, registration, Status.APPROVED, actor=None, secret_key=secret_key
            )
            for stage in program.stages[:present]:
                session.add(
                    AttendanceOverride(
                        registration_id=registration.id,
                        stage_id=stage.id,
                        status=AttendanceStatus.HADIR,
                        reason="daftar hadir",
                    )
                )
            people[name] = registration
        services.save_settings(
            session,
            program,
            min_stages=3,
            min_jp=None,
            require_evaluation=False,
            signatory_name="Drs. Nikson Sitompul, M.Si",
            signatory_nip="196805121993031004",
            signatory_title="Kepala Dinas Komunikasi dan Informatika",
            place="Tarutung",
            signed_on=date(2021, 9, 1),
            number_format="800/{n}/Kominfo/{year}",
            jp={stage.id: 8 for stage in program.stages},
            actor=None,
            now=datetime.now(UTC),
        )
        organiser = factories.staff(session, Role.PANITIA)
        token = links.token_for(people["Rosmawati Sihombing"], secret_key)
        return program.id, program.slug, organiser.username, token


def test_generate_download_and_verify(live_server, page, new_context, browser_problems, tmp_path):
    program_id, slug, organiser, token = _seed(live_server)
    page.set_viewport_size({"width": 1366, "height": 800})
    log_in(page, organiser)
    page.goto(f"/admin/programs/{program_id}")
    page.get_by_test_id("certificates").click()
    expect(page.get_by_test_id("eligible")).to_contain_text("2 peserta")
    page.get_by_test_id("generate").click()
    expect(page.get_by_test_id("zip")).to_be_visible(timeout=60_000)  # the page reloads when done
    expect(page.get_by_test_id("certificate-2")).to_contain_text("800/2/Kominfo/")
    _screenshots(page, "organiser")
    with page.expect_download() as download:
        page.get_by_test_id("zip").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"sertifikat-{slug}.zip"
    with zipfile.ZipFile(saved) as archive:
        assert archive.namelist() == ["0001-Johannes-Lumbantobing.pdf", "0002-Rosmawati-Sihombing.pdf"]

    phone = new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"/p/{token}")
    phone.get_by_test_id("confirm-link").click()
    expect(phone.get_by_test_id("participant-certificate")).to_contain_text("800/2/Kominfo/")
    with phone.expect_download() as download:
        phone.get_by_test_id("certificate-download").click()
    assert download.value.suggested_filename == "0002-Rosmawati-Sihombing.pdf"
    phone.get_by_test_id("participant-certificate").scroll_into_view_if_needed()
    _screenshots(phone, "participant")

    with live_server.session() as session:
        code = issuing.valid_certificates(session, program_id)[1].code
    phone.goto(f"/verifikasi/{code}")
    expect(phone.get_by_test_id("verify-status")).to_have_text("Sertifikat ini asli dan berlaku.")
    _screenshots(phone, "verify")
    assert browser_problems.seen == []
    phone.goto("/verifikasi/tidak-ada")  # a 404 (Chromium logs it as a console error)
    expect(phone.get_by_test_id("verify-status")).to_contain_text("Tidak ada sertifikat dengan kode")
