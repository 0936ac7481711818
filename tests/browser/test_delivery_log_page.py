"""The delivery log offers "retry all failed messages" only when some failed, and shows each failure
as a card on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_attendance_dashboard import SCREENSHOTS, log_in
from workshop.auth.models import Role
from workshop.programs.models import Stage
from workshop.registration.models import Status
from workshop.reminders import failures
from workshop.reminders.models import Delivery, DeliveryStatus, Kind, ReminderRule

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


def _failure(session, stage, rule, name: str, channel: str, code: str, error: str) -> None:
    registration = factories.registration(session, stage.program, status=Status.APPROVED, name=name)
    session.add(
        Delivery(
            kind=Kind.REMINDER,
            rule_id=rule.id,
            stage_id=stage.id,
            registration_id=registration.id,
            channel=channel,
            due_at=stage.starts_at,
            late_at=stage.starts_at,
            next_attempt_at=stage.starts_at,
            status=DeliveryStatus.FAILED,
            attempts=3,
            failure_code=code,
            error=error,
        )
    )


def _labels_beside_values(page, name: str) -> list[tuple[str, str, bool]]:
    """Each cell of the failure row of `name`: (the label its ::before shows, its text, whether the
    label sits on the line of the value, left of it)."""
    return page.locator("[data-testid=failures] tbody tr", has_text=name).evaluate(
        """row => [...row.cells].map(td => {
            const label = getComputedStyle(td, "::before").content.replace(/^"|"$/g, "");
            const box = td.getBoundingClientRect(), range = document.createRange();
            range.selectNodeContents(td);
            const text = range.getClientRects()[0];
            return [label, td.textContent.trim(), text.left - box.left > 40 && text.top - box.top < 8];
        })"""
    )


def test_on_a_phone_each_failure_is_a_card_with_the_column_names(live_server, new_context, browser_problems):
    """Rendered by the page and added live by deliveries.js: on a 360 px phone every value has its
    column's name beside it, and the page does not scroll sideways."""
    with live_server.session() as session:
        stage = factories.program(session, stages=1).stages[0]
        rule = ReminderRule(
            program_id=stage.program_id, offset_minutes=60, window_minutes=None, channels="whatsapp,email"
        )
        session.add(rule)
        session.flush()
        _failure(session, stage, rule, "Rina Siregar", "email", failures.SMTP_REFUSED, "550 no such user")
        organiser = factories.staff(session, Role.PANITIA)
        stage_id, rule_id, username = stage.id, rule.id, organiser.username
    page = new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True).new_page()
    page.route("**/socket.io/**", lambda route: route.abort())  # no socket: the page polls (10 s)
    log_in(page, username)
    page.goto(f"/admin/stages/{stage_id}/reminders")
    expect(page.locator("[data-testid=failures]")).to_contain_text("Rina Siregar")

    with live_server.session() as session:  # a failure after the page loaded: deliveries.js adds it
        stage, rule = session.get(Stage, stage_id), session.get(ReminderRule, rule_id)
        _failure(session, stage, rule, "Budi Hutabarat", "whatsapp", failures.NO_PHONE, "")
    expect(page.locator("[data-testid=failures]")).to_contain_text("Budi Hutabarat", timeout=15_000)

    labels = ["Peserta", "Saluran", "Status", "Percobaan", "Alasan"]
    for name in ("Rina Siregar", "Budi Hutabarat"):
        cells = _labels_beside_values(page, name)
        assert [label for label, _text, _beside in cells] == labels, cells
        assert all(beside for _label, _text, beside in cells), cells
        assert cells[0][1] == name and cells[3][1] == "3"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("[data-testid=failures]").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "bimtek-delivery-failures-phone.png"), full_page=True)
    assert [problem for problem in browser_problems.seen if "socket.io" not in problem] == []
