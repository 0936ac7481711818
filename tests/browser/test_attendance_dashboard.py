"""The organiser's attendance dashboard updates live in Chromium when a desk checks someone in."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from workshop.auth.models import Role
from workshop.registration.models import Mode, Status

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir())


def seed_today(live_server):
    """A one-hour stage that began a few minutes ago (today in WIB), three approved participants
    and a panitia: a check-in now is on time and covers more than 75% of the stage."""
    zone = ZoneInfo("Asia/Jakarta")
    now = datetime.now(zone)
    midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=zone)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Smart City Hari Ini")
        stage = program.stages[0]
        stage.starts_at = max(midnight, now - timedelta(minutes=5)).astimezone(UTC)
        stage.ends_at = stage.starts_at + timedelta(hours=1)
        office = factories.organization(session, name="Dinas Kominfo")
        people = [
            factories.registration(session, program, status=Status.APPROVED, name=name, org=office, mode=mode)
            for name, mode in [
                ("Ani Siregar", Mode.LURING),
                ("Budi Hutabarat", Mode.LURING),
                ("Camat Tarutung", Mode.DARING),
            ]
        ]
        organiser = factories.staff(session, Role.PANITIA)
        session.flush()
        return program.id, stage.id, [person.ticket_code for person in people], organiser.username


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(factories.PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_dashboard_counts_a_hall_check_in_live_without_a_reload(live_server, page, browser_problems):
    program_id, stage_id, codes, organiser = seed_today(live_server)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, organiser)
    page.goto(f"/admin/stages/{stage_id}/dashboard")
    expect(page.get_by_test_id("checked-in-today")).to_have_text("0")
    expect(page.get_by_test_id("registered")).to_have_text("3")
    expect(page.locator("[data-live-badge]")).to_have_text("Live")  # socket connected, stage joined

    token = page.locator("input[name=csrf_token]").first.input_value()
    answer = page.request.post(
        f"/api/stages/{stage_id}/checkin",
        data={"code": codes[0], "desk": "Meja 1", "nonce": "browser-dash-0001", "method": "typed"},
        headers={"X-CSRFToken": token},
    )
    assert answer.ok, answer.text()
    assert answer.json()["colour"] == "green"

    # Faster than the 10-second poll: the socket event made the page fetch the numbers.
    expect(page.get_by_test_id("checked-in-today")).to_have_text("1", timeout=5000)
    expect(page.get_by_test_id("count-hadir")).to_have_text("1")
    expect(page.get_by_test_id("count-tidak_hadir")).to_have_text("2")
    assert page.locator("[data-bar=hadir]").get_attribute("width") == "33.33"
    # The time of the numbers, in the programme's zone as the page's language writes it, with "WIB".
    updated = page.locator("[data-updated]")
    generated = datetime.fromisoformat(updated.get_attribute("datetime")).astimezone(ZoneInfo("Asia/Jakarta"))
    expect(updated).to_have_text(f"{generated:%H.%M.%S} WIB")
    page.screenshot(path=str(SCREENSHOTS / "bimtek-dashboard.png"), full_page=True)

    page.goto(f"/admin/programs/{program_id}/attendance")
    expect(page.locator("h1")).to_have_text("Laporan kehadiran")
    expect(page.locator(".attendance-matrix tbody tr")).to_have_count(3)
    page.screenshot(path=str(SCREENSHOTS / "bimtek-attendance-report.png"), full_page=True)

    # The organiser excuses Budi: from his cell to the evidence page and its form, back to the report.
    page.locator(".attendance-matrix tbody tr", has_text="Budi Hutabarat").locator("a.att").click()
    expect(page.get_by_test_id("status")).to_have_text("Tidak hadir")
    page.locator("#status").select_option("izin")
    page.locator("#reason").fill("Surat izin dinas luar")
    page.screenshot(path=str(SCREENSHOTS / "bimtek-attendance-detail.png"), full_page=True)
    page.get_by_role("button", name="Simpan").click()
    expect(page.locator(".flash")).to_have_text("Kehadiran Budi Hutabarat diperbarui.")
    budi = page.locator(".attendance-matrix tbody tr", has_text="Budi Hutabarat").locator("a.att")
    expect(budi).to_have_text("Izin*")
    assert browser_problems.seen == []
