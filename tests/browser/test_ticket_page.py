"""The ticket on the participant's phone: the inline SVG as Chromium draws it scans back to the ticket."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.test_tickets import decode
from workshop.registration import links, services
from workshop.registration.models import Status

pytestmark = pytest.mark.browser


def test_ticket_on_a_phone_scans_and_passes_the_csp(live_server, phone_page, browser_problems, tmp_path):
    with live_server.session() as session:
        program = factories.program(session, stages=2)
        registration = factories.registration(session, program, name="Rosmawati Sihombing")
        services.change_status(
            session,
            registration,
            Status.APPROVED,
            actor=None,
            secret_key=live_server.app.config["SECRET_KEY"],
        )
        token = links.token_for(registration, live_server.app.config["SECRET_KEY"])
        slug, secret, code = program.slug, registration.ticket_secret, registration.ticket_code

    phone_page.goto(f"/p/{token}")
    phone_page.get_by_test_id("confirm-link").click()
    expect(phone_page).to_have_url(f"{live_server.url}/saya/{slug}")
    phone_page.wait_for_load_state()  # the stylesheets too: the sizes below are measured

    ticket = phone_page.get_by_test_id("ticket")
    expect(ticket.locator("header")).to_have_text("Tiket masuk (QR)")
    expect(ticket.get_by_test_id("ticket-code")).to_have_text(f"{code[:4]}-{code[4:]}")
    qr_box = ticket.get_by_test_id("ticket-qr").bounding_box()
    assert qr_box["width"] == qr_box["height"] == 224  # 14rem: about 6 CSS pixels per module
    shot = tmp_path / "ticket-on-phone.png"
    ticket.get_by_test_id("ticket-qr").screenshot(path=str(shot))
    assert decode(shot) == [f"BH1:{secret}"]
    with phone_page.expect_download() as download:
        ticket.get_by_test_id("ticket-png").click()
    assert download.value.suggested_filename == f"tiket-{slug}.png"
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    assert browser_problems.seen == []
