"""The projector's QR code -> personal link -> live page round trip, in Chromium (issue 11).

A participant in the hall scans the QR code on the projector with a phone that has no session
yet: they land on /masuk, open the personal link the organisers sent them (from WhatsApp), and
arrive on the live page they scanned, not on their schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from tests.browser.test_live import PHONE, PROJECTOR, _expect_live
from tests.test_tickets import decode
from workshop.auth.models import Role
from workshop.registration import links
from workshop.registration.models import Mode, Status

pytestmark = pytest.mark.browser


def test_scanning_the_projector_qr_without_a_session_leads_through_the_link_to_the_live_page(
    live_server, new_context, browser_problems, tmp_path
):
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Smart City Taput")
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = now - timedelta(minutes=30), now + timedelta(hours=3)
        registration = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.LURING, name="Lamhot Sihombing"
        )
        token = links.issue(registration, live_server.app.config["SECRET_KEY"])
        organiser = factories.staff(session, Role.NARASUMBER).username
        stage_id, slug = stage.id, program.slug
    live_page = f"{live_server.url}/live/{stage_id}"

    # The facilitator's projector shows the join QR code; a phone camera reads it.
    projector = new_context(**PROJECTOR).new_page()
    log_in(projector, organiser)
    projector.goto(f"/live/{stage_id}/projector")
    qr_image = tmp_path / "projector-qr.png"
    projector.locator(".live-join-qr").screenshot(path=str(qr_image))
    assert decode(qr_image) == [live_page]

    # The participant's phone opens it without a session: the link page, which keeps the way back.
    phone = new_context(**PHONE).new_page()
    phone.goto(live_page)
    expect(phone).to_have_url(f"{live_server.url}/masuk?next=/live/{stage_id}")
    expect(phone.get_by_test_id("return-note")).to_have_text(
        "Setelah membuka tautan, Anda kembali ke halaman yang Anda minta."
    )

    # They open their personal link (sent by WhatsApp) and confirm: the live page, not /saya.
    phone.goto(f"/p/{token}")
    phone.get_by_test_id("confirm-link").click()
    expect(phone).to_have_url(live_page)
    _expect_live(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    # The way back is used once: the next time the link leads to their schedule as usual.
    phone.context.clear_cookies()
    phone.goto(f"/p/{token}")
    phone.get_by_test_id("confirm-link").click()
    expect(phone).to_have_url(f"{live_server.url}/saya/{slug}")
    assert browser_problems.seen == []
