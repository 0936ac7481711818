"""An announcement sent in-app appears on an open participant page without a reload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from workshop.auth.models import Role
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

pytestmark = pytest.mark.browser


def test_an_in_app_announcement_reaches_the_open_participant_page_live(live_server, browser, new_context):
    with live_server.session() as session:
        program = factories.program(session, stages=1, title="Bimtek Pengumuman Langsung")
        stage = program.stages[0]
        stage.starts_at = datetime.now(UTC) - timedelta(minutes=5)
        stage.ends_at = stage.starts_at + timedelta(hours=2)
        registration = factories.registration(
            session, program, status=Status.APPROVED, mode=Mode.DARING, name="Kades Hutatoruan"
        )
        ensure_participant_user(session, registration.person)
        token = links.issue(registration, live_server.app.config["SECRET_KEY"])
        organiser = factories.staff(session, Role.PANITIA).username
        slug, stage_id = program.slug, stage.id

    participant = new_context().new_page()
    participant.goto(f"/p/{token}")
    participant.get_by_test_id("confirm-link").click()
    participant.wait_for_url(f"**/saya/{slug}")
    expect(participant.locator("[data-live-notices]")).to_have_attribute("data-connected", "true")

    organiser_page = new_context().new_page()
    log_in(organiser_page, organiser)
    organiser_page.goto(f"/admin/stages/{stage_id}/reminders")
    csrf = organiser_page.locator("input[name=csrf_token]").first.input_value()
    sent = organiser_page.request.post(
        f"/admin/stages/{stage_id}/announcements",
        form={
            "csrf_token": csrf,
            "text": "Ruangan pindah ke Aula Martua",
            "channels": "inapp",
            "audience": "all",
        },
    )
    assert sent.ok, sent.text()

    notice = participant.locator(".notices .notice").first
    expect(notice).to_contain_text("Ruangan pindah ke Aula Martua", timeout=15_000)
