"""Messages to chosen participants (issue 11): "Kirim tautan" to one person or a filtered list, the
automatic news of approval / waiting list / moving up, the organiser's texts, all through the
reminder engine (delivery rows, the delivery log, the dev outbox, real SMTP and gateway)."""

from __future__ import annotations

import json
import re
import urllib.parse
from email import message_from_bytes
from email import policy as email_policy

import pytest
from sqlalchemy import func, select

from tests import factories, fakes
from workshop.auth.models import AuditEntry, Role
from workshop.db import utcnow
from workshop.registration import links
from workshop.registration.models import Status
from workshop.reminders import outreach, services
from workshop.reminders.channels import EmailChannel
from workshop.reminders.models import (
    Delivery,
    DeliveryStatus,
    Kind,
    MessageTemplate,
    OutboxMessage,
    ParticipantMessage,
)

SECRET = "test-secret-key"  # the app fixture's SECRET_KEY
LINK = re.compile(r"http://bimtek\.test/p/[a-z2-7]{32}")


@pytest.fixture
def organiser(session, login):
    user = login(factories.staff(session, Role.PANITIA))
    session.commit()
    return user


def _approved(session, program, name, **fields):
    registration = factories.registration(session, program, status=Status.APPROVED, name=name)
    for key, value in fields.items():
        setattr(registration.person, key, value)
    links.issue(registration, SECRET)
    return registration


def _drain(session, app, channels=None):
    return services.drain(session, app.config, clock=utcnow, channels=channels)


def _flashes(client, url) -> list[str]:
    page = client.get(url).get_data(as_text=True)
    return [
        " ".join(text.split())
        for text in re.findall(r'<p class="flash flash-\w+" role="status">([^<]*)<', page)
    ]


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_send_link_queues_one_message_logged_and_sent_to_the_dev_outbox(app, session, client, organiser):
    program = factories.program(session, stages=2)
    person = _approved(session, program, "Rosmawati Sihombing")
    session.commit()
    token = links.token_for(person, SECRET)

    response = client.post(f"/admin/registrations/{person.id}/send-link", data={"channels": ["whatsapp"]})
    flashes = _flashes(client, response.location)
    (delivery,) = session.scalars(select(Delivery)).all()
    queued = (delivery.kind, delivery.channel, delivery.status, delivery.registration_id, delivery.stage_id)
    result = _drain(session, app)
    session.refresh(delivery)

    assert response.location == f"/admin/registrations/{person.id}"
    assert flashes == ["Tautan pribadi Rosmawati Sihombing sedang dikirim melalui WhatsApp."]
    assert queued == (
        Kind.PERSONAL_LINK,
        "whatsapp",
        DeliveryStatus.PENDING,
        person.id,
        program.stages[-1].id,
    )
    assert (result.sent, delivery.status) == (1, DeliveryStatus.SENT)
    (outbox,) = session.scalars(select(OutboxMessage)).all()
    assert (outbox.channel, outbox.to, outbox.subject) == (
        "whatsapp",
        person.person.phone,
        f"Tautan pribadi Anda: {program.title}",
    )
    assert f"http://bimtek.test/p/{token}" in outbox.text  # the request's host: no PUBLIC_BASE_URL set
    assert outbox.text.startswith("Yth. Bapak/Ibu Rosmawati Sihombing,\n\nBerikut tautan pribadi Anda untuk")
    assert delivery.provider_ref == f"outbox:{outbox.id}"
    log = services.stage_log(session, program.stages[-1], utcnow())
    assert [(row.key, row.kind, row.counts["sent"], row.total) for row in log if row.message] == [
        (f"message:{delivery.participant_message_id}", Kind.PERSONAL_LINK, 1, 1)
    ]
    page = client.get(f"/admin/stages/{program.stages[-1].id}/reminders").get_data(as_text=True)
    assert re.search(r"Tautan pribadi <small>\(Staf panitia\)</small>", page)
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("message.%"))).all() == [
        "message.personal_link"
    ]


def test_public_base_url_makes_the_link_whatever_the_request(app, session, client, organiser):
    app.config["PUBLIC_BASE_URL"] = "https://bimtek.tapanuliutarakab.go.id"
    program = factories.program(session, stages=1)
    person = _approved(session, program, "Nelson Pardede")
    session.commit()

    client.post(f"/admin/registrations/{person.id}/send-link", data={"channels": ["email"]})
    _drain(session, app)

    (outbox,) = session.scalars(select(OutboxMessage)).all()
    token = links.token_for(person, SECRET)
    assert f"https://bimtek.tapanuliutarakab.go.id/p/{token}" in outbox.text
    assert f'<a href="https://bimtek.tapanuliutarakab.go.id/p/{token}">' in outbox.html


@pytest.mark.parametrize(
    ("phone", "email", "channels", "said"),
    [
        ("+6281234567890", "", ["email"], "Tidak ada yang dikirim: Marulam Simanjuntak tidak memiliki alamat email."),
        ("", "marulam@contoh.go.id", ["whatsapp"], "Tidak ada yang dikirim: Marulam Simanjuntak tidak memiliki nomor WhatsApp."),
        ("", "", ["whatsapp", "email"], "Tidak ada yang dikirim: Marulam Simanjuntak tidak memiliki nomor WhatsApp maupun alamat email."),
        ("+6281234567890", "marulam@contoh.go.id", [], "Pilih WhatsApp, email, atau keduanya."),
    ],
)  # fmt: skip
def test_a_link_to_someone_without_the_address_queues_nothing_and_says_why(
    session, client, organiser, phone, email, channels, said
):
    program = factories.program(session, stages=1)
    person = _approved(session, program, "Marulam Simanjuntak", phone=phone, email=email)
    session.commit()

    response = client.post(f"/admin/registrations/{person.id}/send-link", data={"channels": channels})

    assert _flashes(client, response.location) == [said]
    assert (_count(session, Delivery), _count(session, ParticipantMessage)) == (0, 0)


def test_only_the_channel_with_an_address_is_used_when_both_are_chosen(session, client, organiser):
    program = factories.program(session, stages=1)
    person = _approved(session, program, "Lamhot Sihombing", email="")
    session.commit()

    response = client.post(
        f"/admin/registrations/{person.id}/send-link", data={"channels": ["whatsapp", "email"]}
    )

    assert _flashes(client, response.location) == [
        "Tautan pribadi Lamhot Sihombing sedang dikirim melalui WhatsApp."
    ]
    assert [d.channel for d in session.scalars(select(Delivery))] == ["whatsapp"]


def test_no_link_goes_to_a_registration_not_approved_or_whose_link_was_revoked(session, client, organiser):
    program = factories.program(session, stages=1)
    pending = factories.registration(session, program, name="Belum Disetujui")
    revoked = _approved(session, program, "Tautan Dicabut")
    links.revoke(revoked)
    session.commit()

    not_approved = client.post(
        f"/admin/registrations/{pending.id}/send-link", data={"channels": ["whatsapp"]}
    )
    refused_unapproved = _flashes(client, not_approved.location)
    no_link = client.post(f"/admin/registrations/{revoked.id}/send-link", data={"channels": ["whatsapp"]})
    refused_revoked = _flashes(client, no_link.location)

    assert refused_unapproved == ["Hanya peserta yang telah disetujui yang memiliki tautan pribadi."]
    assert refused_revoked == [
        "Tautan pribadi sudah dicabut: buat tautan baru terlebih dahulu, lalu kirimkan."
    ]
    assert _count(session, Delivery) == 0


def test_bulk_send_reaches_the_approved_of_the_filtered_list_and_names_the_others(session, client, organiser):
    program = factories.program(session, stages=1)
    reached = [_approved(session, program, f"Kepala Desa {n}") for n in (1, 2)]
    no_email = _approved(session, program, "Kepala Desa Tanpa Email", email="")
    _approved(session, program, "Kadis Kominfo")  # not in the list: the filter is "Kepala Desa"
    revoked = _approved(session, program, "Kepala Desa Dicabut")
    links.revoke(revoked)
    factories.registration(session, program, name="Kepala Desa Menunggu")
    session.commit()
    review = f"/admin/programs/{program.id}/registrations?q=Kepala+Desa"

    page = client.get(review).get_data(as_text=True)
    response = client.post(
        f"/admin/programs/{program.id}/registrations/send-link",
        data={"scope": "filtered", "q": "Kepala Desa", "status": "", "next": review},
    )

    assert "Kirim tautan pribadi ke 4 peserta yang disetujui dalam daftar ini" in page
    assert response.location == review
    assert _flashes(client, review) == [
        "Tautan pribadi sedang dikirim kepada 3 peserta (5 pesan).",
        "Tidak dikirim kepada 1 yang tautannya sudah dicabut: Kepala Desa Dicabut",
        "Tidak dikirim kepada 1 yang belum disetujui: Kepala Desa Menunggu",
    ]
    sent = session.execute(select(Delivery.registration_id, Delivery.channel).order_by(Delivery.id)).all()
    assert sorted(sent) == sorted(
        [(r.id, channel) for r in reached for channel in ("whatsapp", "email")] + [(no_email.id, "whatsapp")]
    )
    assert _count(session, ParticipantMessage) == 1


def test_bulk_send_to_the_ticked_rows(session, client, organiser):
    program = factories.program(session, stages=1)
    first, _, third = (_approved(session, program, f"Peserta {n}") for n in (1, 2, 3))
    session.commit()

    client.post(
        f"/admin/programs/{program.id}/registrations/send-link", data={"ids": [str(first.id), str(third.id)]}
    )

    assert {d.registration_id for d in session.scalars(select(Delivery))} == {first.id, third.id}


def _automatic(session, program, *kinds):
    for kind in kinds:
        session.add(MessageTemplate(program_id=program.id, kind=kind, automatic=True, channels="whatsapp"))


def test_approval_waitlist_and_moving_up_send_their_news_when_switched_on(app, session, client, organiser):
    program = factories.program(session, stages=1, capacity=1)
    _automatic(session, program, Kind.APPROVED, Kind.WAITLISTED, Kind.PROMOTED)
    first = factories.registration(session, program, name="Pertama")
    second = factories.registration(session, program, name="Kedua")
    second.person.locale = "en"
    session.commit()
    status = f"/admin/programs/{program.id}/registrations/status"

    approved = client.post(status, data={"action": "approve", "ids": [first.id, second.id]})
    flashes = _flashes(client, approved.location)
    client.post(status, data={"action": "cancel", "ids": [first.id]})
    _drain(session, app)

    assert flashes == [
        "1 pendaftaran kini berstatus disetujui.",
        "Kedua masuk daftar tunggu: tidak ada lagi tempat luring di Tahap I.",
        "2 pesan sedang dikirim.",
    ]
    kinds = session.execute(select(Delivery.registration_id, Delivery.kind).order_by(Delivery.id)).all()
    assert kinds == [(first.id, Kind.APPROVED), (second.id, Kind.WAITLISTED), (second.id, Kind.PROMOTED)]
    # The waiting-list news was on its way when Kedua moved up: it is not sent any more.
    statuses = [d.status for d in session.scalars(select(Delivery).order_by(Delivery.id))]
    assert statuses == [DeliveryStatus.CANCELLED, DeliveryStatus.CANCELLED, DeliveryStatus.SENT]
    (outbox,) = session.scalars(select(OutboxMessage)).all()
    assert outbox.subject == f"A place for you: {program.title}"
    assert outbox.text.startswith("Dear Kedua,\n\nGood news: a place has become free")
    assert links.token_for(second, SECRET) in outbox.text


def test_news_of_a_status_change_waits_until_it_is_switched_on(session, client, organiser):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program)
    session.commit()

    client.post(
        f"/admin/programs/{program.id}/registrations/status",
        data={"action": "approve", "ids": [registration.id]},
    )

    assert session.get(type(registration), registration.id).status == Status.APPROVED
    assert _count(session, Delivery) == 0


def test_the_waitlisted_news_goes_to_those_still_waiting_and_carries_no_link(app, session, client, organiser):
    program = factories.program(session, stages=1)
    _automatic(session, program, Kind.WAITLISTED)
    registration = factories.registration(session, program, name="Menunggu Tempat")
    session.commit()

    client.post(
        f"/admin/programs/{program.id}/registrations/status",
        data={"action": "waitlist", "ids": [registration.id]},
    )
    _drain(session, app)

    (outbox,) = session.scalars(select(OutboxMessage)).all()
    assert outbox.subject == f"Dalam daftar tunggu: {program.title}"
    assert "Untuk sementara Anda berada dalam daftar tunggu" in outbox.text
    assert "/p/" not in outbox.text


def test_the_organisers_words_go_out_in_each_participants_language(app, session, client, organiser):
    program = factories.program(session, stages=1)
    indonesian = _approved(session, program, "Rosmawati")
    english = _approved(session, program, "Nelson", locale="en")
    session.commit()
    page = f"/admin/programs/{program.id}/messages"

    saved = client.post(
        page,
        data={
            "kind": "personal_link",
            "personal_link-text_id": "Tautan untuk Bimtek Smart City, simpan baik-baik.",
            "personal_link-text_en": "Your link for the Smart City Bimtek, keep it safe.",
            "personal_link-channels": ["email"],
        },
    )
    refused = client.post(page, data={"kind": "approved", "approved-text_id": "x", "approved-channels": []})
    client.post(
        f"/admin/programs/{program.id}/registrations/send-link",
        data={"ids": [str(indonesian.id), str(english.id)]},
    )
    _drain(session, app)

    assert saved.location == f"{page}#personal_link"
    assert refused.status_code == 400
    assert "Pilih WhatsApp, email, atau keduanya." in refused.get_data(as_text=True)
    row = session.get(MessageTemplate, (program.id, Kind.PERSONAL_LINK))
    assert (row.channels, row.automatic) == ("email", False)
    texts = {m.to: m.text for m in session.scalars(select(OutboxMessage))}
    assert set(texts) == {indonesian.person.email, english.person.email}
    assert (
        "Tautan untuk Bimtek Smart City, simpan baik-baik.\n\nTahap berikutnya: Tahap I"
        in texts[indonesian.person.email]
    )
    assert (
        "Your link for the Smart City Bimtek, keep it safe.\n\nThe next stage: "
        in texts[english.person.email]
    )


def test_the_texts_page_shows_the_standard_texts_until_edited(session, client, organiser):
    program = factories.program(session, stages=1, title="Bimtek Smart City Taput")
    session.commit()

    page = client.get(f"/admin/programs/{program.id}/messages").get_data(as_text=True)

    assert "Berikut tautan pribadi Anda untuk Bimtek Smart City Taput." in page
    assert "Here is your personal link for Bimtek Smart City Taput." in page
    assert page.count('name="approved-automatic"') == 1
    assert 'name="personal_link-automatic"' not in page  # the link goes out when asked, never by itself


def test_a_revoked_link_after_queueing_fails_with_the_reason_instead_of_sending(
    app, session, client, organiser
):
    program = factories.program(session, stages=1)
    person = _approved(session, program, "Dicabut Kemudian")
    session.commit()

    client.post(f"/admin/registrations/{person.id}/send-link", data={"channels": ["whatsapp"]})
    links.revoke(person)
    session.commit()
    _drain(session, app)

    (delivery,) = session.scalars(select(Delivery)).all()
    assert (delivery.status, delivery.failure_code, delivery.error) == (DeliveryStatus.FAILED, "no_link", "")
    assert _count(session, OutboxMessage) == 0


def test_send_link_reaches_a_real_smtp_server_and_the_whatsapp_gateway(app, session, client, organiser):
    program = factories.program(session, stages=1)
    person = _approved(session, program, "Rosmawati Sihombing", phone="+6281234567890")
    session.commit()
    token = links.token_for(person, SECRET)

    with fakes.smtp_server() as smtp, fakes.whatsapp_gateway() as gateway:
        gateway.replies.append((200, json.dumps({"status": True, "id": ["80367170"]}).encode(), 0))
        app.config.update(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=smtp.port,
            SMTP_USE_TLS=False,
            MAIL_FROM="Panitia Bimtek <bimtek@tapanuliutarakab.go.id>",
            WHATSAPP_PROVIDER="fonnte",
            WHATSAPP_API_URL=f"{gateway.url}/send",
            WHATSAPP_TOKEN="token-rahasia",
        )
        client.post(f"/admin/registrations/{person.id}/send-link", data={"channels": ["whatsapp", "email"]})
        result = _drain(session, app)
        EmailChannel.close_all()

    assert result.sent == 2
    ((sender, recipients, raw),) = smtp.received
    mail = message_from_bytes(raw, policy=email_policy.default)
    assert (sender, recipients, mail["Subject"]) == (
        "bimtek@tapanuliutarakab.go.id",
        [person.person.email],
        f"Tautan pribadi Anda: {program.title}",
    )
    assert f"http://bimtek.test/p/{token}" in mail.get_body(("plain",)).get_content()
    (request,) = gateway.requests
    form = urllib.parse.parse_qs(request["body"].decode())
    assert (request["path"], form["target"], request["headers"]["Authorization"]) == (
        "/send",
        ["6281234567890"],
        "token-rahasia",
    )
    assert f"http://bimtek.test/p/{token}" in form["message"][0]
    references = {d.channel: d.provider_ref for d in session.scalars(select(Delivery))}
    assert references["whatsapp"] == "80367170"
    assert references["email"].startswith("<") and references["email"].endswith("@tapanuliutarakab.go.id>")
    assert _count(session, OutboxMessage) == 0


def test_the_next_stage_is_the_running_or_coming_one_else_the_last(session):
    program = factories.program(session, stages=3)
    first, second, third = program.stages

    assert outreach.next_stage(program, first.starts_at) == first
    assert outreach.next_stage(program, first.ends_at) == second
    assert outreach.next_stage(program, third.ends_at) == third
    assert outreach.next_stage(factories.program(session, stages=0), first.starts_at) is None


def test_a_programme_without_stages_says_so(session, client, organiser):
    program = factories.program(session, stages=0)
    person = _approved(session, program, "Tanpa Tahap")
    session.commit()

    response = client.post(f"/admin/registrations/{person.id}/send-link", data={"channels": ["whatsapp"]})

    assert _flashes(client, response.location) == [
        "Kegiatan ini belum memiliki tahap: tambahkan tahap terlebih dahulu."
    ]
    assert _count(session, Delivery) == 0


def test_the_detail_page_lists_every_message_to_the_participant(app, session, client, organiser):
    program = factories.program(session, stages=1)
    person = _approved(session, program, "Rosmawati Sihombing", email="")
    session.commit()

    client.post(f"/admin/registrations/{person.id}/send-link", data={"channels": ["whatsapp"]})
    _drain(session, app)
    page = client.get(f"/admin/registrations/{person.id}").get_data(as_text=True)

    history = re.search(r'data-testid="message-history">.*?</table>', page, re.S).group(0)
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split())
        for cell in re.findall(r"<td>(.*?)</td>", history, re.S)
    ]
    assert cells[1:] == ["Tautan pribadi (Tahap I)", "WhatsApp", "Terkirim"]
    assert re.search(r'<input type="checkbox" name="channels" value="email"\s+disabled>', page)
    assert "Email <small>(tidak tercatat)</small>" in page
