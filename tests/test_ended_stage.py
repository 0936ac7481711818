"""Once a stage has ended: its live page offers no question form and no switch for polls by
WhatsApp, and the server takes no question nor upvote (HTTP, socket, WhatsApp reply; the stage's
open questions are carried to the next stage once, with the upvotes they had then) nor a change of
that switch from it, while the group's output stays editable (groups write their results up after
the sessions)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import fakes, test_live
from tests.test_live import NOW, client_id, joined_socket, make_poll, open_now, participant_client
from tests.whatsapp_world import configure, fonnte_sent, post_fonnte, send_queued
from workshop import i18n
from workshop.auth.models import AuditEntry
from workshop.groups import services as groups
from workshop.groups.models import GroupMode, GroupOutput
from workshop.live import services as live_services
from workshop.live.models import Question, QuestionUpvote
from workshop.whatsapp import polls as whatsapp_polls
from workshop.whatsapp.models import InboundMessage, WhatsAppParticipant

world = test_live.world  # Tahap I runs at NOW; Tahap II three weeks later
fixed_clock = test_live.fixed_clock

ENDED = "Tahap ini sudah selesai: pertanyaan tidak dapat dikirim lagi."
SUPPORT_ENDED = "Tahap ini sudah selesai: pertanyaannya tidak dapat didukung lagi."
WHATSAPP_ENDED = {
    "id": (
        "Tahap ini sudah selesai: polling tidak lagi dikirim lewat WhatsApp untuk tahap ini. "
        "Tidak ada yang diubah."
    ),
    "en": "This stage has ended: no more polls will be sent by WhatsApp for it. Nothing was changed.",
}
AFTER_THE_END = {
    "id": (
        "Jadwal tahap ini sudah berakhir pada {moment}. "
        "Polling yang dibuka sekarang tetap sampai ke peserta yang masih terhubung."
    ),
    "en": (
        "This stage's scheduled time ended on {moment}. "
        "A poll opened now still reaches the participants who are connected."
    ),
}
NO_STAGE = "Saat ini tidak ada tahap yang berlangsung: pertanyaan dapat diajukan selama tahap berlangsung."


@pytest.fixture
def after_the_end(world, set_now):
    """An hour after Tahap I ended."""
    moment = world["stage"].ends_at + timedelta(hours=1)
    set_now(moment)
    return moment


def _questions(session) -> list[tuple[int, str]]:
    session.expire_all()
    return session.execute(select(Question.stage_id, Question.text).order_by(Question.id)).tuples().all()


def test_the_live_page_of_an_ended_stage_says_so_instead_of_offering_the_question_form(
    app, session, world, after_the_end
):
    client = participant_client(app, session, world["daring"])
    ended, upcoming = (client.get(f"/live/{stage.id}").text for stage in world["program"].stages)

    assert f'<p class="live-note" data-testid="ask-ended" data-phases="ended">{ENDED}</p>' in ended
    assert "data-ask-form" not in ended and "data-ask-text" not in ended
    # Before the end the note waits hidden, for the page to show if the stage ends while it is open.
    assert "data-ask-form" in upcoming
    assert f'<p class="live-note" data-testid="ask-ended" data-phases="ended" hidden>{ENDED}</p>' in upcoming


def test_the_control_page_of_an_ended_stage_still_offers_a_new_poll_and_says_who_it_reaches(
    app, session, world, after_the_end
):
    """Stages often run late: the facilitator may still open a poll once the stage's scheduled time has
    ended, and the page says what that poll reaches."""
    client = test_live.staff_client(app, world["moderator"])
    ended, upcoming = world["program"].stages
    for language, new_poll in (("id", "Polling baru"), ("en", "New poll")):
        with client.session_transaction() as browser:
            browser["lang"] = language
        ended_page, upcoming_page = (
            client.get(f"/live/{stage.id}/control").text for stage in (ended, upcoming)
        )
        moment = i18n.format_datetime_long(ended.ends_at, "Asia/Jakarta", language)
        note = AFTER_THE_END[language].format(moment=moment)
        assert (
            f'<p class="live-note" data-testid="polls-after-end" data-phases="ended">{note}</p>' in ended_page
        )
        assert ended_page.index(note) < ended_page.index(f'class="outline">{new_poll}</a>')
        assert 'data-testid="whatsapp-polls"' in ended_page
        assert f">{new_poll}</a>" in upcoming_page
        assert 'data-testid="polls-after-end" data-phases="ended" hidden>' in upcoming_page


def test_a_question_to_an_ended_stage_is_refused_over_http_and_socket_and_stores_nothing(
    app, session, world, after_the_end
):
    ended, upcoming = world["program"].stages
    client = participant_client(app, session, world["daring"])

    refused = client.post(
        f"/live/{ended.id}/questions", json={"client_id": client_id("h1"), "text": "Masih?"}
    )
    socket = joined_socket(app, client, ended)
    ack = socket.emit(
        "ask", {"stage_id": ended.id, "client_id": client_id("s1"), "text": "Masih?"}, callback=True
    )

    assert (refused.status_code, refused.get_json()) == (
        409,
        {"ok": False, "error": "stage_ended", "message": ENDED},
    )
    assert ack == {"ok": False, "error": "stage_ended", "message": ENDED}
    assert _questions(session) == []
    # The next stage still takes one, right after.
    taken = client.post(
        f"/live/{upcoming.id}/questions", json={"client_id": client_id("h2"), "text": "Kapan?"}
    )
    assert taken.status_code == 200 and taken.get_json()["ok"] is True
    assert _questions(session) == [(upcoming.id, "Kapan?")]


def test_an_upvote_on_an_ended_stage_is_refused_over_http_and_socket_and_changes_nothing(
    app, session, world, set_now
):
    stage = world["stage"]
    asked = live_services.ask(
        session,
        stage,
        world["luring"],
        "Kapan jaringan desa dibangun?",
        anonymous=False,
        now=NOW,
        per_minute=5,
    )
    live_services.moderate(session, stage, asked.id, "approve", "", actor=world["moderator"], now=NOW)
    session.commit()
    set_now(stage.ends_at + timedelta(hours=1))
    client = participant_client(app, session, world["daring"])

    refused = client.post(
        f"/live/{stage.id}/questions/{asked.id}/upvote", json={"client_id": client_id("u1")}
    )
    socket = joined_socket(app, client, stage)
    ack = socket.emit(
        "upvote", {"stage_id": stage.id, "question_id": asked.id, "client_id": client_id("u2")}, callback=True
    )

    expected = {"ok": False, "error": "support_ended", "message": SUPPORT_ENDED}
    assert (refused.status_code, refused.get_json()) == (409, expected)
    assert ack == expected
    session.expire_all()
    assert session.get(Question, asked.id).upvotes == 0
    assert session.scalars(select(QuestionUpvote)).all() == []


def test_the_whatsapp_switch_is_gone_from_an_ended_stage_s_live_page_and_a_change_from_it_is_refused(
    app, session, world, set_now
):
    daring = world["daring"]
    ended, upcoming = world["program"].stages
    whatsapp_polls.set_participant_polls(session, daring, True, NOW)
    session.commit()
    set_now(ended.ends_at + timedelta(seconds=1))
    client = participant_client(app, session, daring)

    ended_page, upcoming_page = (client.get(f"/live/{stage.id}").text for stage in (ended, upcoming))
    assert (
        'data-testid="whatsapp-me"' not in ended_page and "Kirim polling ke WhatsApp saya" not in ended_page
    )
    assert 'data-testid="whatsapp-me"' in upcoming_page  # the choice still counts for the next stage

    for language, enabled in (("id", {}), ("en", {}), ("id", {"wa-me-enabled": "y"})):
        with client.session_transaction() as browser:
            browser["lang"] = language
        response = client.post(
            f"/whatsapp/registrations/{daring.id}/polls", data={"wa-me-stage_id": str(ended.id)} | enabled
        )
        with client.session_transaction() as browser:
            flashed = browser.pop("_flashes", [])
        assert (response.status_code, response.location) == (302, f"/live/{ended.id}")
        assert flashed == [("error", WHATSAPP_ENDED[language])]

    session.expire_all()
    assert session.execute(
        select(WhatsAppParticipant.registration_id, WhatsAppParticipant.polls, WhatsAppParticipant.updated_at)
    ).tuples().all() == [(daring.id, True, NOW)]
    assert (
        session.scalars(select(AuditEntry).where(AuditEntry.action == "whatsapp.participant_polls")).all()
        == []
    )
    # From the next stage's page the same change is taken.
    response = client.post(
        f"/whatsapp/registrations/{daring.id}/polls", data={"wa-me-stage_id": str(upcoming.id)}
    )
    assert (response.status_code, response.location) == (302, f"/live/{upcoming.id}")
    session.expire_all()
    assert whatsapp_polls.participant_polls(session, daring) is False


def test_a_question_by_whatsapp_reply_to_a_poll_left_open_after_its_stage_is_refused(
    app, session, world, set_now
):
    stage = world["stage"]
    open_now(session, make_poll(session, stage, world["moderator"]), world["moderator"])  # left open
    moment = stage.ends_at + timedelta(hours=1)
    set_now(moment)
    with fakes.whatsapp_gateway() as gateway:
        configure(app, gateway)
        post_fonnte(app.test_client(), world["daring"].person.phone, "T: Masih bisa bertanya?", "END-1")
        send_queued(session, app, moment)
        sent = fonnte_sent(gateway)

    assert _questions(session) == []
    assert session.scalars(select(InboundMessage.outcome)).all() == ["stage_ended"]
    assert sent == [(world["daring"].person.phone.removeprefix("+"), NO_STAGE)]


def test_the_group_output_stays_editable_once_the_stage_has_ended(app, session, world, after_the_end):
    stage = world["stage"]
    groups.set_up(session, stage, dimensions=["governance"], mode=GroupMode.ORGANISER, cap=None, actor=None)
    group = groups.groups_of(session, stage.id)[0]
    groups.assign(session, stage, {world["daring"].id: group.id}, actor=None)
    session.commit()
    client = participant_client(app, session, world["daring"])
    url = f"/saya/{world['program'].slug}/kelompok/{stage.id}/hasil"

    saved = client.post(
        url, json={"field": "problems", "text": "Sinyal lemah di desa", "version": 0, "group_id": group.id}
    )

    assert saved.status_code == 200 and saved.get_json()["ok"] is True
    session.expire_all()
    row = session.get(GroupOutput, (group.id, "problems"))
    assert (row.text, row.version) == ("Sinyal lemah di desa", 1)
    page = client.get(f"/saya/{world['program'].slug}/kelompok/{stage.id}").text
    assert 'data-testid="phase-ended"' in page and 'name="text"' in page
