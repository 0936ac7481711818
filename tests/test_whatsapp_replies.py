"""Voting and asking by WhatsApp reply: the poll's question goes out through the reminder engine
when the poll opens, the gateways' webhooks (Fonnte, Meta's Cloud API) bring the replies, the vote
goes through live's vote service (one vote per person, whichever channel) and every reply gets
its answer through the outbox, once per provider message id."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories, fakes, test_live
from tests.test_live import NOW, client_id, make_poll, open_now, participant_client, staff_client, votes_of
from tests.whatsapp_world import (
    FONNTE_HOOK,
    META_HOOK,
    META_VERIFY_TOKEN,
    configure,
    fonnte_sent,
    meta_payload,
    meta_statuses,
    post_fonnte,
    post_meta,
    send_queued,
)
from workshop.auth.models import Role
from workshop.live import services as live_services
from workshop.live.models import PollKind, Question, QuestionStatus
from workshop.registration.models import Status
from workshop.reminders.models import Delivery, DeliveryStatus, Kind
from workshop.whatsapp.models import InboundMessage

world = test_live.world
fixed_clock = test_live.fixed_clock


@pytest.fixture
def gateway(app):
    with fakes.whatsapp_gateway() as server:
        configure(app, server)
        yield server


def phone(registration) -> str:
    return registration.person.phone


def inbound(session):
    session.expire_all()
    return session.execute(
        select(InboundMessage.provider, InboundMessage.message_id, InboundMessage.outcome).order_by(
            InboundMessage.id
        )
    ).all()


def replies(session, app, gateway) -> list[tuple[str, str]]:
    """Send what is queued and return (number, text) of what the gateway got since the last call."""
    before = len(gateway.requests)
    send_queued(session, app, NOW)
    return fonnte_sent(gateway)[before:]


@pytest.fixture
def poll(session, world):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    return poll


# --- The question goes out when the poll opens ---------------------------------------------------


def test_an_opened_poll_goes_by_whatsapp_to_the_online_participants_once(app, session, world, gateway):
    stage = world["stage"]
    poll = make_poll(session, stage, world["moderator"], options=("Sudah", "Belum", "Sebagian"))
    moderator = staff_client(app, world["moderator"])
    assert (
        moderator.post(f"/whatsapp/stages/{stage.id}/polls", data={"whatsapp-enabled": "y"}).status_code
        == 302
    )
    # The online participant chose polls by WhatsApp on their live page.
    participant = participant_client(app, session, world["daring"])
    choice = {"wa-me-enabled": "y"}
    assert (
        participant.post(f"/whatsapp/registrations/{world['daring'].id}/polls", data=choice).status_code
        == 302
    )

    assert moderator.post(f"/live/{stage.id}/polls/{poll.id}/open").status_code == 302
    sent = replies(session, app, gateway)

    assert sent == [
        (
            phone(world["daring"]).removeprefix("+"),
            "*Polling, Tahap I*\nApakah desa Anda sudah punya akses internet?\n\n"
            "1. Sudah (A)\n2. Belum (B)\n3. Sebagian (C)\n\n"
            'Balas dengan nomor satu pilihan (mis. "2"), atau hurufnya atau teksnya.\n'
            'Untuk bertanya, tulis "T: pertanyaan Anda".',
        )
    ]
    # Closing and reopening does not send it again; the control page says who got it.
    assert moderator.post(f"/live/{stage.id}/polls/{poll.id}/close").status_code == 302
    assert moderator.post(f"/live/{stage.id}/polls/{poll.id}/reopen").status_code == 302
    assert replies(session, app, gateway) == []
    page = moderator.get(f"/live/{stage.id}/control").get_data(as_text=True)
    assert "Polling terakhir dikirim ke 1 peserta lewat WhatsApp (1 sudah terkirim)." in page
    log = session.scalars(select(Delivery).where(Delivery.kind == Kind.POLL_QUESTION)).all()
    assert [(row.registration_id, row.status) for row in log] == [(world["daring"].id, DeliveryStatus.SENT)]
    # The stage's delivery log lists the poll's question, and the answer to the reply, as the others.
    post_fonnte(app.test_client(), phone(world["daring"]), "A", "LOG-1")
    replies(session, app, gateway)
    organiser = staff_client(app, factories.staff(session, Role.PANITIA))
    session.commit()
    log_page = organiser.get(f"/admin/stages/{stage.id}/reminders").get_data(as_text=True)
    assert "Pertanyaan polling lewat WhatsApp" in log_page
    assert "Jawaban atas balasan WhatsApp" in log_page


def test_with_whatsapp_polls_off_an_opened_poll_sends_nothing(app, session, world, gateway):
    stage = world["stage"]
    poll = make_poll(session, stage, world["moderator"])
    moderator = staff_client(app, world["moderator"])

    assert moderator.post(f"/live/{stage.id}/polls/{poll.id}/open").status_code == 302

    assert replies(session, app, gateway) == []
    page = moderator.get(f"/live/{stage.id}/control").get_data(as_text=True)
    assert "polling dijawab di halaman peserta saja." in page


# --- Votes by reply ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2", "B", "  tidak ", "TIDAK"])
def test_a_reply_with_the_number_letter_or_text_of_an_option_is_the_vote(
    app, session, world, gateway, poll, text
):
    response = post_fonnte(app.test_client(), phone(world["daring"]), text, "ABC123")

    assert response.status_code == 200
    assert votes_of(session, poll) == [(world["daring"].id, {"option_ids": [poll.options[1].id]})]
    assert inbound(session) == [("fonnte", "ABC123", "vote_counted")]
    assert replies(session, app, gateway) == [
        (
            phone(world["daring"]).removeprefix("+"),
            'Terima kasih, jawaban Anda untuk "Apakah desa Anda sudah punya akses internet?" tercatat: 2. Tidak.',
        )
    ]


def test_fonnte_may_post_its_webhook_as_a_form(app, session, world, gateway, poll):
    response = post_fonnte(app.test_client(), phone(world["daring"]), "3", "F-1", as_form=True)

    assert response.status_code == 200
    assert votes_of(session, poll) == [(world["daring"].id, {"option_ids": [poll.options[2].id]})]


def test_a_repeated_webhook_counts_once_and_answers_once(app, session, world, gateway, poll):
    client = app.test_client()
    for _ in range(3):
        assert post_fonnte(client, phone(world["daring"]), "1", "SAME-ID").status_code == 200

    assert votes_of(session, poll) == [(world["daring"].id, {"option_ids": [poll.options[0].id]})]
    assert inbound(session) == [("fonnte", "SAME-ID", "vote_counted")]
    assert len(replies(session, app, gateway)) == 1


def test_a_second_vote_is_refused_or_changes_the_vote_as_the_poll_says(app, session, world, gateway):
    keeps = make_poll(session, world["stage"], world["moderator"])
    open_now(session, keeps, world["moderator"])
    client = app.test_client()
    post_fonnte(client, phone(world["daring"]), "1", "K-1")
    post_fonnte(client, phone(world["daring"]), "2", "K-2")

    assert votes_of(session, keeps) == [(world["daring"].id, {"option_ids": [keeps.options[0].id]})]
    assert [text for _to, text in replies(session, app, gateway)][1] == (
        'Anda sudah menjawab "Apakah desa Anda sudah punya akses internet?"; polling ini menyimpan jawaban pertama.'
    )

    changes = make_poll(session, world["stage"], world["moderator"], allow_change=True)
    open_now(session, changes, world["moderator"])
    post_fonnte(client, phone(world["daring"]), "1", "C-1")
    post_fonnte(client, phone(world["daring"]), "ragu", "C-2")

    assert votes_of(session, changes) == [(world["daring"].id, {"option_ids": [changes.options[2].id]})]
    assert [text for _to, text in replies(session, app, gateway)][1] == (
        'Jawaban Anda untuk "Apakah desa Anda sudah punya akses internet?" diubah menjadi: 3. Ragu.'
    )


def test_a_vote_by_whatsapp_after_one_on_the_page_is_the_same_persons_one_vote(
    app, session, world, gateway, poll
):
    page = participant_client(app, session, world["daring"])
    body = {"client_id": client_id("page"), "answer": {"option_ids": [poll.options[0].id]}}
    assert page.post(f"/live/{world['stage'].id}/polls/{poll.id}/vote", json=body).status_code == 200

    post_fonnte(app.test_client(), phone(world["daring"]), "2", "AFTER-PAGE")

    assert votes_of(session, poll) == [(world["daring"].id, {"option_ids": [poll.options[0].id]})]
    assert inbound(session) == [("fonnte", "AFTER-PAGE", "already_voted")]


@pytest.mark.parametrize(
    ("options", "kind", "text", "outcome", "answer"),
    [
        (
            ("Ya", "Tidak", "Ragu"),
            PollKind.SINGLE,
            "1 2",
            "ambiguous",
            'Jawaban "1 2" bisa berarti lebih dari satu pilihan.',
        ),
        (
            ("Ya", "ya ", "Tidak"),
            PollKind.SINGLE,
            "Ya",
            "ambiguous",
            'Jawaban "Ya" bisa berarti lebih dari satu pilihan.',
        ),
        (
            ("2", "1", "3"),
            PollKind.SINGLE,
            "1",
            "ambiguous",
            'Jawaban "1" bisa berarti lebih dari satu pilihan.',
        ),
        (
            ("Ya", "Tidak", "Ragu"),
            PollKind.SINGLE,
            "9",
            "not_understood",
            'Kami tidak dapat membaca "9" sebagai jawaban.',
        ),
        (
            ("Ya", "Tidak", "Ragu"),
            PollKind.SINGLE,
            "mungkin",
            "not_understood",
            'Kami tidak dapat membaca "mungkin" sebagai jawaban.',
        ),
    ],
)
def test_an_ambiguous_or_unreadable_reply_counts_nothing_and_says_how_to_answer(
    app, session, world, gateway, options, kind, text, outcome, answer
):
    poll = make_poll(session, world["stage"], world["moderator"], kind, options=options)
    open_now(session, poll, world["moderator"])

    post_fonnte(app.test_client(), phone(world["daring"]), text, "AMB-1")

    assert votes_of(session, poll) == []
    assert inbound(session) == [("fonnte", "AMB-1", outcome)]
    [(_to, reply)] = replies(session, app, gateway)
    assert reply == f'{answer} Balas dengan nomor satu pilihan (mis. "2"), atau hurufnya atau teksnya.'


def test_several_options_on_a_multiple_choice_poll_and_a_rating(app, session, world, gateway):
    multiple = make_poll(session, world["stage"], world["moderator"], PollKind.MULTIPLE)
    open_now(session, multiple, world["moderator"])
    post_fonnte(app.test_client(), phone(world["daring"]), "a, c", "M-1")
    assert votes_of(session, multiple) == [
        (world["daring"].id, {"option_ids": [multiple.options[0].id, multiple.options[2].id]})
    ]

    rating = make_poll(session, world["stage"], world["moderator"], PollKind.RATING, scale=5)
    open_now(session, rating, world["moderator"])
    post_fonnte(app.test_client(), phone(world["daring"]), "7", "R-1")
    post_fonnte(app.test_client(), phone(world["daring"]), "4", "R-2")
    assert votes_of(session, rating) == [(world["daring"].id, {"rating": 4})]
    assert [row[2] for row in inbound(session)] == ["vote_counted", "invalid", "vote_counted"]


def test_unknown_numbers_no_poll_and_closed_polls_each_get_their_answer(app, session, world, gateway):
    client = app.test_client()
    post_fonnte(client, "+6281399999999", "1", "U-1")
    post_fonnte(client, phone(world["daring"]), "1", "N-1")
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    live_services.close_poll(session, poll, actor=world["moderator"], now=NOW)
    session.commit()
    post_fonnte(client, phone(world["daring"]), "1", "C-1")

    assert votes_of(session, poll) == []
    assert [row[2] for row in inbound(session)] == ["unknown_number", "no_poll", "poll_closed"]
    assert [text for _to, text in replies(session, app, gateway)] == [
        "Nomor ini belum terdaftar sebagai peserta Bimtek. Silakan hubungi panitia.",
        'Saat ini tidak ada polling yang dibuka. Untuk bertanya, tulis "T: pertanyaan Anda".',
        'Polling "Apakah desa Anda sudah punya akses internet?" sudah ditutup; jawaban tidak diterima lagi.',
    ]


def test_a_registration_not_approved_is_told_and_counts_nothing(app, session, world, gateway, poll):
    pending = factories.registration(session, world["program"], status=Status.PENDING)
    session.commit()

    post_fonnte(app.test_client(), phone(pending), "1", "P-1")
    post_fonnte(app.test_client(), phone(pending), "T: Boleh ikut?", "P-2")

    assert votes_of(session, poll) == []
    assert session.scalars(select(Question)).all() == []
    assert inbound(session) == [("fonnte", "P-1", "not_approved"), ("fonnte", "P-2", "not_approved")]
    not_approved = (
        "Nomor ini tidak termasuk peserta yang disetujui, sehingga belum dapat memilih atau bertanya. "
        "Silakan hubungi panitia."
    )
    assert replies(session, app, gateway) == [(phone(pending).removeprefix("+"), not_approved)] * 2


def test_a_participant_who_chose_english_is_answered_in_english(app, session, world, gateway, poll):
    world["daring"].person.locale = "en"
    session.commit()

    post_fonnte(app.test_client(), phone(world["daring"]), "c", "EN-1")

    assert [text for _to, text in replies(session, app, gateway)] == [
        'Thank you, your answer to "Apakah desa Anda sudah punya akses internet?" is counted: 3. Ragu.'
    ]


# --- Questions by reply --------------------------------------------------------------------------


def test_t_colon_asks_a_question_through_the_moderation_of_the_stage(app, session, world, gateway):
    client = app.test_client()
    post_fonnte(client, phone(world["daring"]), "t:  Kapan  jaringan desa dibangun?", "Q-1")
    live_services.update_settings(
        session, world["stage"], questions_moderated=False, anonymous_allowed=False, actor=world["moderator"]
    )
    session.commit()
    post_fonnte(client, phone(world["daring"]), "Tanya: Siapa yang melatih operator desa?", "Q-2")
    post_fonnte(client, phone(world["daring"]), "Q: " + "x" * 281, "Q-3")

    questions = session.execute(
        select(Question.registration_id, Question.text, Question.status).order_by(Question.id)
    ).all()
    assert questions == [
        (world["daring"].id, "Kapan jaringan desa dibangun?", QuestionStatus.PENDING),
        (world["daring"].id, "Siapa yang melatih operator desa?", QuestionStatus.APPROVED),
    ]
    assert [row[2] for row in inbound(session)] == ["question", "question", "too_long"]
    assert [text for _to, text in replies(session, app, gateway)] == [
        "Terima kasih, pertanyaan Anda diterima; pertanyaan tampil di layar setelah disetujui fasilitator.",
        "Terima kasih, pertanyaan Anda diterima dan tampil di layar.",
        "Terlalu panjang. Silakan persingkat lalu kirim lagi.",
    ]


# --- The webhooks' checks ------------------------------------------------------------------------


def test_fonnte_with_a_wrong_token_is_refused_and_nothing_is_recorded(app, session, world, gateway, poll):
    client = app.test_client()
    response = client.post(
        FONNTE_HOOK + "x", json={"sender": phone(world["daring"])[1:], "message": "1", "inboxid": "W-1"}
    )

    assert response.status_code == 403
    assert inbound(session) == [] and votes_of(session, poll) == []


def test_meta_handshake_echoes_the_challenge_for_the_right_token_only(app, gateway):
    client = app.test_client()
    good = client.get(
        META_HOOK,
        query_string={
            "hub.mode": "subscribe",
            "hub.verify_token": META_VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    wrong = client.get(
        META_HOOK,
        query_string={"hub.mode": "subscribe", "hub.verify_token": "salah", "hub.challenge": "1158201444"},
    )

    assert (good.status_code, good.get_data(as_text=True)) == (200, "1158201444")
    assert wrong.status_code == 403


def test_a_meta_reply_votes_and_is_answered_as_free_text(app, session, world, poll):
    with fakes.whatsapp_gateway() as server:
        configure(app, server, "meta")
        client = app.test_client()
        assert post_meta(client, meta_payload(phone(world["daring"]), "b", "wamid.HBgM1")).status_code == 200
        assert post_meta(client, meta_statuses("wamid.OUT1")).status_code == 200
        send_queued(session, app, NOW)

        assert votes_of(session, poll) == [(world["daring"].id, {"option_ids": [poll.options[1].id]})]
        assert inbound(session) == [("meta", "wamid.HBgM1", "vote_counted")]
        [request] = server.requests
        import json

        assert json.loads(request["body"]) == {
            "messaging_product": "whatsapp",
            "to": phone(world["daring"]).removeprefix("+"),
            "type": "text",
            "text": {
                "body": 'Terima kasih, jawaban Anda untuk "Apakah desa Anda sudah punya akses internet?" tercatat: 2. Tidak.'
            },
        }


def test_a_meta_post_with_a_bad_signature_is_refused_and_nothing_is_recorded(
    app, session, world, gateway, poll
):
    client = app.test_client()
    payload = meta_payload(phone(world["daring"]), "1", "wamid.BAD")

    forged = post_meta(client, payload, signature="sha256=" + "0" * 64)
    unsigned = client.post(META_HOOK, json=payload, send_csrf_token=False)

    assert forged.status_code == unsigned.status_code == 403
    assert inbound(session) == [] and votes_of(session, poll) == []


STRANGER = "+6281399999999"


def stranger_answer(app, world) -> str:
    url = f"https://bimtek.example/daftar/{world['program'].slug}"
    return f"Nomor ini belum terdaftar sebagai peserta Bimtek. Daftar di {url} atau hubungi panitia."


def stranger_deliveries(session) -> list[tuple[str | None, str, str]]:
    session.expire_all()
    return [
        (str(d.registration_id), d.recipient, d.status.value)
        for d in session.scalars(
            select(Delivery).where(Delivery.kind == Kind.WHATSAPP_REPLY).order_by(Delivery.id)
        )
    ]


def test_an_unknown_number_is_answered_once_a_day_and_a_repeated_webhook_sends_nothing(
    app, session, world, gateway, set_now
):
    app.config["PUBLIC_BASE_URL"] = "https://bimtek.example"
    client = app.test_client()
    post_fonnte(client, STRANGER, "1", "S-1")
    post_fonnte(client, STRANGER, "1", "S-1")  # the same webhook again
    assert replies(session, app, gateway) == [(STRANGER.removeprefix("+"), stranger_answer(app, world))]
    assert stranger_deliveries(session) == [("None", STRANGER, "sent")]

    set_now(NOW + timedelta(hours=23, minutes=59))
    for index in range(20):  # a flood within the day: recorded, not answered
        post_fonnte(client, STRANGER, "halo", f"S-flood-{index}")
    assert replies(session, app, gateway) == []

    later = NOW + timedelta(hours=24, minutes=1)
    set_now(later)
    post_fonnte(client, STRANGER, "halo lagi", "S-2")
    post_fonnte(client, STRANGER, "halo lagi", "S-2")
    before = len(gateway.requests)
    send_queued(session, app, later)
    assert fonnte_sent(gateway)[before:] == [(STRANGER.removeprefix("+"), stranger_answer(app, world))]
    assert [row[2] for row in inbound(session)] == [
        "unknown_number",
        *["unknown_repeat"] * 20,
        "unknown_number",
    ]
    assert len(stranger_deliveries(session)) == 2


def test_an_unknown_number_writing_through_the_cloud_api_is_answered_once(app, session, world):
    app.config["PUBLIC_BASE_URL"] = "https://bimtek.example"
    with fakes.whatsapp_gateway() as server:
        configure(app, server, "meta")
        client = app.test_client()
        assert post_meta(client, meta_payload(STRANGER, "1", "wamid.S1")).status_code == 200
        assert post_meta(client, meta_payload(STRANGER, "1", "wamid.S1")).status_code == 200
        assert post_meta(client, meta_payload(STRANGER, "2", "wamid.S2")).status_code == 200
        send_queued(session, app, NOW)

        assert inbound(session) == [
            ("meta", "wamid.S1", "unknown_number"),
            ("meta", "wamid.S2", "unknown_repeat"),
        ]
        [request] = server.requests
        assert json.loads(request["body"]) == {
            "messaging_product": "whatsapp",
            "to": STRANGER.removeprefix("+"),
            "type": "text",
            "text": {"body": stranger_answer(app, world)},
        }
