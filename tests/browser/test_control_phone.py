"""The control panel on a narasumber's phone in the hall (issue 11): the current poll comes first,
with a big button that closes it; the poll list below opens the next one with another big button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from workshop.auth.models import Role
from workshop.live import services as live_services
from workshop.live.models import Poll, PollKind, PollStatus

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
THUMB = 44  # CSS pixels: the smallest comfortable touch target


def test_on_a_phone_the_current_poll_leads_and_big_buttons_close_and_open_polls(
    live_server, new_context, browser_problems
):
    now = datetime.now(UTC)
    with live_server.session() as session:
        stage = factories.program(session, stages=1).stages[0]
        stage.starts_at, stage.ends_at = now - timedelta(hours=1), now + timedelta(hours=6)
        narasumber = factories.staff(session, Role.NARASUMBER)
        current, following = (
            live_services.create_poll(
                session,
                stage,
                live_services.PollDraft(kind=PollKind.SINGLE, question=question, options=["Ya", "Belum"]),
                actor=narasumber,
            )
            for question in ("Sudah ada Wi-Fi publik di desa Anda?", "Sudah ada operator data desa?")
        )
        live_services.open_poll(session, current, actor=narasumber, now=now)
        stage_id, username, current_id, following_id = stage.id, narasumber.username, current.id, following.id

    page = new_context(**PHONE).new_page()
    log_in(page, username)
    page.goto(f"/live/{stage_id}/control")
    card = page.locator("[data-current-poll]")
    expect(card).to_have_attribute("data-poll-id", str(current_id))
    expect(page.locator("[data-live-status]")).to_have_attribute("data-status", "live")

    close = page.get_by_test_id("current-close")
    expect(close).to_be_visible()
    expect(page.get_by_test_id("current-reopen")).to_be_hidden()
    poll_list = page.locator(f"[data-poll-row='{following_id}']")
    assert card.bounding_box()["y"] < poll_list.bounding_box()["y"]  # the current poll first
    assert card.bounding_box()["y"] < page.get_by_test_id("count-present").bounding_box()["y"]
    assert close.bounding_box()["height"] >= THUMB

    close.click()
    expect(card).to_have_attribute("data-status", "closed")
    expect(page.get_by_test_id("current-reopen")).to_be_visible()
    with live_server.session() as session:
        assert session.get(Poll, current_id).status == PollStatus.CLOSED

    open_next = poll_list.locator("[data-poll-action=open]")
    assert open_next.bounding_box()["height"] >= THUMB
    open_next.click()
    expect(card).to_have_attribute("data-poll-id", str(following_id))
    expect(card).to_have_attribute("data-status", "open")
    with live_server.session() as session:
        assert session.get(Poll, following_id).status == PollStatus.OPEN
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert browser_problems.seen == []
