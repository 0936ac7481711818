"""A participant fills in a stage's evaluation on a 390 px phone: a plain form (no socket, no
script needed), a missing answer shown in Indonesian with what was typed kept, then saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import factories
from workshop.evaluation import services as evaluation
from workshop.evaluation.models import EvaluationResponse
from workshop.registration import links, services
from workshop.registration.models import Status

pytestmark = pytest.mark.browser


def _ended_an_hour_ago(session):
    """A programme whose first stage (two days) ended an hour ago: its evaluation is open."""
    now = datetime.now(UTC).replace(microsecond=0)
    program = factories.program(session, stages=2)
    stage = program.stages[0]
    stage.starts_at, stage.ends_at = now - timedelta(days=1, hours=8), now - timedelta(hours=1)
    evaluation.create_default(session, program, actor=None, now=now - timedelta(days=2))
    return program


def test_a_participant_fills_in_the_evaluation_on_a_phone(live_server, new_context, browser_problems):
    secret_key = live_server.app.config["SECRET_KEY"]
    with live_server.session() as session:
        program = _ended_an_hour_ago(session)
        registration = factories.registration(session, program, name="Marulam Simanjuntak")
        services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=secret_key)
        token = links.token_for(registration, secret_key)
        slug, registration_id, stage_id = program.slug, registration.id, program.stages[0].id
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()

    phone.goto(f"/p/{token}")
    phone.get_by_test_id("confirm-link").click()
    expect(phone).to_have_url(f"{live_server.url}/saya/{slug}")
    invitation = phone.get_by_test_id("evaluation-1")
    expect(invitation).to_contain_text("Evaluasi Tahap I")
    invitation.get_by_role("button", name="Isi evaluasi").click()
    expect(phone).to_have_url(f"{live_server.url}/saya/{slug}/evaluasi/{stage_id}")

    fieldsets = phone.locator("fieldset.scale")
    expect(fieldsets).to_have_count(4)
    for index, rating in ((0, "5 (sangat baik)"), (1, "4"), (2, "4")):  # the fourth left out
        fieldsets.nth(index).get_by_label(rating, exact=True).check()
    phone.get_by_label("Sudah sesuai").check()
    phone.locator("textarea").fill("Jaringan di kantor desa lambat; mohon materi dikirim lebih awal.")
    phone.get_by_test_id("evaluation-submit").click()

    expect(phone.locator(".flash-danger")).to_contain_text("Beberapa jawaban perlu diperbaiki")
    expect(fieldsets.nth(3).locator(".field-error")).to_have_text("Mohon jawab pertanyaan ini.")
    expect(phone.locator("textarea")).to_have_value(
        "Jaringan di kantor desa lambat; mohon materi dikirim lebih awal."
    )
    expect(fieldsets.nth(0).get_by_label("5 (sangat baik)", exact=True)).to_be_checked()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    fieldsets.nth(3).get_by_label("5 (sangat baik)", exact=True).check()
    phone.get_by_test_id("evaluation-submit").click()
    expect(phone.locator(".flash-success")).to_have_text("Terima kasih: evaluasi Anda tersimpan.")
    expect(phone.get_by_test_id("evaluation-saved")).to_contain_text("Disimpan pada")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.get_by_role("link", name="Kembali ke halaman saya").click()
    expect(phone.get_by_test_id("evaluation-1")).to_contain_text(
        "Terima kasih, evaluasi Anda sudah tersimpan."
    )
    with live_server.session() as session:
        [response] = session.scalars(select(EvaluationResponse)).all()
        assert (response.registration_id, response.stage_id) == (registration_id, stage_id)
        assert sorted(answer.rating for answer in response.answers if answer.rating) == [4, 4, 5, 5]
    assert browser_problems.seen == []
