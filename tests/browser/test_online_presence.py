"""Live presence from a participant's phone: the page of a running online stage sends its heartbeat
over Socket.IO, or over HTTP when the Socket.IO client cannot be loaded."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import factories
from workshop.attendance.models import OnlineEvidence, OnlineKind
from workshop.db import utcnow
from workshop.registration import links, services
from workshop.registration.models import Mode, Status

pytestmark = pytest.mark.browser


def _running_stage_participant(live_server):
    """An approved online participant of a programme whose first stage is running now."""
    with live_server.session() as session:
        program = factories.program(session, stages=1)
        stage = program.stages[0]
        stage.starts_at = utcnow() - timedelta(hours=1)
        stage.ends_at = utcnow() + timedelta(hours=1)
        registration = factories.registration(session, program, mode=Mode.DARING, name="Marulam Sihombing")
        services.change_status(
            session,
            registration,
            Status.APPROVED,
            actor=None,
            secret_key=live_server.app.config["SECRET_KEY"],
        )
        token = links.token_for(registration, live_server.app.config["SECRET_KEY"])
        return program.slug, stage.id, registration.id, token


def _presence_rows(live_server, registration_id):
    with live_server.session() as session:
        return session.execute(
            select(OnlineEvidence.kind, OnlineEvidence.stage_id).where(
                OnlineEvidence.registration_id == registration_id
            )
        ).all()


def _open_page(live_server, phone_page, token, slug):
    phone_page.goto(f"/p/{token}")
    phone_page.get_by_test_id("confirm-link").click()
    expect(phone_page).to_have_url(f"{live_server.url}/saya/{slug}")
    join = phone_page.get_by_test_id("join-1")
    expect(join).to_have_text("Gabung ke Zoom")
    assert join.get_attribute("href") == f"/saya/{slug}/tahap/1/gabung"
    expect(phone_page.locator("[data-presence]")).to_have_attribute("data-state", "online")


def _wait_for_rows(live_server, registration_id):
    deadline = time.monotonic() + 5
    while not (rows := _presence_rows(live_server, registration_id)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return rows


def test_a_running_online_stage_sends_presence_over_socket_io(live_server, phone_page, browser_problems):
    slug, stage_id, registration_id, token = _running_stage_participant(live_server)
    posts = []
    phone_page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    _open_page(live_server, phone_page, token, slug)

    assert _wait_for_rows(live_server, registration_id) == [(OnlineKind.PRESENCE, stage_id)]
    assert phone_page.evaluate("typeof window.io") == "function"
    assert not [url for url in posts if "/presence" in url]  # the heartbeat went over the socket
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360
    assert browser_problems.seen == []


def test_without_the_socket_io_client_presence_falls_back_to_http(live_server, phone_page, browser_problems):
    slug, stage_id, registration_id, token = _running_stage_participant(live_server)
    phone_page.route("**/vendor/socket.io/**", lambda route: route.abort())
    posts = []
    phone_page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)

    _open_page(live_server, phone_page, token, slug)

    assert _wait_for_rows(live_server, registration_id) == [(OnlineKind.PRESENCE, stage_id)]
    assert [url for url in posts if "/presence" in url] == [
        f"{live_server.url}/api/stages/{stage_id}/presence"
    ]
    assert [problem for problem in browser_problems.seen if "socket.io" not in problem] == []
