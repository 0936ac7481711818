"""The scanner never drops a scan made before its desk has a name (issue 11): it asks for the name,
keeps the code, and checks it in once the name is saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import factories
from tests.browser.test_scanner import seed_stage_today
from workshop.checkin.models import CheckIn

pytestmark = pytest.mark.browser


def test_the_scanner_keeps_a_code_typed_before_the_desk_is_named(live_server, phone_page, browser_problems):
    stage_id, petugas, [(registration_id, _, code)] = seed_stage_today(
        live_server, [("Lamhot Panggabean", "Dinas Kominfo")]
    )
    page = phone_page
    page.goto(f"/login?next=/checkin/stages/{stage_id}")
    page.locator("#username").fill(petugas)
    page.locator("#password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.locator("[data-scanner]")).to_have_attribute("data-state", "ready")
    expect(page.locator("#desk-form")).to_be_visible()  # a new device: no desk name saved yet

    typed = f"{code[:4]}-{code[4:]}"
    page.locator("#code-input").fill(typed)
    page.get_by_role("button", name="Check-in", exact=True).click()

    expect(page.get_by_test_id("desk-waiting")).to_have_text(
        f"Isi nama meja dulu: {typed} langsung di-check-in begitu nama meja disimpan."
    )
    with live_server.session() as session:
        assert session.scalars(select(CheckIn).where(CheckIn.stage_id == stage_id)).all() == []

    page.locator("#desk-input").fill("Meja Depan")
    page.get_by_test_id("desk-save").click()

    expect(page.get_by_test_id("result-name")).to_have_text("Lamhot Panggabean")
    expect(page.get_by_test_id("result")).to_have_attribute("data-colour", "green")
    expect(page.get_by_test_id("desk-waiting")).to_be_hidden()
    with live_server.session() as session:
        check_ins = session.execute(
            select(CheckIn.registration_id, CheckIn.desk).where(CheckIn.stage_id == stage_id)
        ).all()
    assert [tuple(row) for row in check_ins] == [(registration_id, "Meja Depan")]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert browser_problems.seen == []
