"""The delivery log offers "retry all failed messages" only when some failed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from workshop.auth.models import Role

pytestmark = pytest.mark.browser


def test_retry_all_is_hidden_while_nothing_failed(live_server, page, browser_problems):
    with live_server.session() as session:
        stage = factories.program(session, stages=1).stages[0]
        organiser = factories.staff(session, Role.PANITIA)
        stage_id, username = stage.id, organiser.username

    log_in(page, username)
    page.goto(f"/admin/stages/{stage_id}/reminders")

    expect(page.locator("[data-failures-none]")).to_be_visible()
    expect(
        page.get_by_role("button", name="Kirim ulang semua pesan yang gagal pada tahap ini")
    ).to_be_hidden()
    assert browser_problems.seen == []
