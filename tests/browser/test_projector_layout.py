"""The projector view read from the back of a hall (issue 11), on the two usual projector screens:
the join QR is over a third of the screen's height and scans to the live page, its address stands
on one line without the scheme, the poll question is large, and nothing runs off the screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests import factories
from tests.browser.test_attendance_dashboard import log_in
from tests.test_tickets import decode
from workshop.auth.models import Role
from workshop.live import services as live_services
from workshop.live.models import PollKind

pytestmark = pytest.mark.browser

QUESTION = "Apakah kantor Anda sudah terhubung internet yang stabil?"


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_the_projector_shows_a_big_qr_and_a_one_line_join_address(
    live_server, new_context, browser_problems, tmp_path, width, height
):
    now = datetime.now(UTC)
    with live_server.session() as session:
        program = factories.program(
            session, stages=1, title="Bimtek Penyusunan Masterplan Smart City Kabupaten Tapanuli Utara"
        )
        stage = program.stages[0]
        stage.starts_at, stage.ends_at = now - timedelta(hours=1), now + timedelta(hours=6)
        organiser = factories.staff(session, Role.PANITIA)
        poll = live_services.create_poll(
            session,
            stage,
            live_services.PollDraft(kind=PollKind.SINGLE, question=QUESTION, options=["Ya", "Belum"]),
            actor=organiser,
        )
        live_services.open_poll(session, poll, actor=organiser, now=now)
        stage_id, username = stage.id, organiser.username

    page = new_context(viewport={"width": width, "height": height}).new_page()
    log_in(page, username)
    page.goto(f"/live/{stage_id}/projector")
    expect(page.get_by_test_id("projector-poll")).to_be_visible()
    expect(page.locator("[data-projector-poll-question]")).to_have_text(QUESTION)

    join_address = f"{live_server.url.removeprefix('http://')}/live/{stage_id}"
    url = page.get_by_test_id("join-url")
    expect(url).to_have_text(join_address)
    one_line = url.evaluate(
        "e => e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().height"
        " < 1.5 * parseFloat(getComputedStyle(e).lineHeight || getComputedStyle(e).fontSize)"
    )
    assert one_line, "the join address breaks or overflows its line"
    qr = page.get_by_test_id("join-qr")
    box = qr.bounding_box()
    assert box["y"] + box["height"] <= height and box["x"] + box["width"] <= width
    shot = tmp_path / "join-qr.png"
    qr.screenshot(path=str(shot))
    assert decode(shot) == [f"{live_server.url}/live/{stage_id}"]
    with Image.open(shot) as image:  # the symbol itself, without its white quiet zone
        _, top, _, bottom = image.convert("L").point(lambda value: 255 if value < 128 else 0).getbbox()
    assert bottom - top >= height / 3

    question_size = page.locator("[data-projector-poll-question]").evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)"
    )
    assert question_size >= height * 0.05
    assert page.evaluate("document.documentElement.scrollWidth") == width
    assert browser_problems.seen == []
