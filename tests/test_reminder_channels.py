"""Channels against real servers on localhost: aiosmtpd for email, an HTTP server for WhatsApp."""

from __future__ import annotations

import json
import ssl
import time
import urllib.parse
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from icalendar import Calendar
from sqlalchemy import select

from tests import factories, fakes
from tests.fakes import MailRecorder, free_port
from workshop.config import ConfigError, from_environment, validate
from workshop.registration import calendar, links
from workshop.registration.models import Mode, Notice, Status
from workshop.reminders import channels, messages
from workshop.reminders.channels import (
    DevOutboxChannel,
    EmailChannel,
    FonnteChannel,
    InAppChannel,
    MetaCloudChannel,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    channel_for,
)
from workshop.reminders.models import OutboxMessage

DATA = Path(__file__).parent / "data"
MAIL_FROM = "Panitia Bimtek <bimtek@tapanuliutarakab.go.id>"
BASE_URL = "https://bimtek.tapanuliutarakab.go.id"


# --- A real SMTP server --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _close_kept_smtp_connections():
    yield
    EmailChannel.close_all()


@pytest.fixture
def smtp_server():
    with fakes.smtp_server() as recorder:
        yield recorder


def _email_config(port: int, **overrides) -> dict:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_USE_TLS": False,
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "MAIL_FROM": MAIL_FROM,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": BASE_URL,
        **overrides,
    }


def _parse(raw: bytes):
    return message_from_bytes(raw, policy=email_policy.default)


def _approved(session, program, mode, name):
    registration = factories.registration(session, program, status=Status.APPROVED, mode=mode, name=name)
    links.issue(registration, "test-secret-key")
    return registration


def test_reminders_reach_a_real_smtp_server_each_with_its_facts_and_ics(session, smtp_server):
    program = factories.program(session, stages=2, title="Bimtek Smart City Tapanuli Utara")
    stage = program.stages[0]
    people = [_approved(session, program, Mode.LURING, f"Peserta Luring {i}") for i in range(3)]
    people += [_approved(session, program, Mode.DARING, f"Kepala Desa {i}") for i in range(3)]
    config = _email_config(smtp_server.port)
    channel = channel_for("email", config, session)
    assert isinstance(channel, EmailChannel)

    references = []
    for registration in people:
        sent = messages.render(
            "reminder",
            registration=registration,
            stage=stage,
            rule_offset=timedelta(days=1),
            locale="id",
            personal_url=messages.personal_url_for(registration, config),
            page_url=calendar.page_url(registration, config),
        )
        references.append(channel.send(sent["email"]))

    assert len(smtp_server.received) == len(people) == 6
    assert smtp_server.sessions == 1  # one kept connection for the whole batch
    for registration, reference, (mail_from, recipients, raw) in zip(
        people, references, smtp_server.received, strict=True
    ):
        mail = _parse(raw)
        person = registration.person
        assert mail_from == "bimtek@tapanuliutarakab.go.id"
        assert recipients == [person.email]
        assert mail["To"] == person.email
        assert mail["From"] == MAIL_FROM
        assert mail["Message-ID"] == reference
        assert reference.endswith("@tapanuliutarakab.go.id>")
        assert mail["Subject"] == "Pengingat: Tahap I: Tahap ke-1, Kamis, 24 Juni 2021, pukul 09.00 WIB"
        assert mail.get_content_type() == "multipart/mixed"
        alternative, attachment = mail.iter_parts()
        assert alternative.get_content_type() == "multipart/alternative"
        text_part, html_part = alternative.iter_parts()
        assert text_part.get_content_type() == "text/plain"
        assert html_part.get_content_type() == "text/html"
        text = text_part.get_content().replace("\r\n", "\n")
        token = links.token_for(registration, "test-secret-key")
        assert text.startswith(f"Yth. Bapak/Ibu {person.name},\n")
        assert "Waktu: Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB" in text
        assert f"{BASE_URL}/p/{token}\n" in text
        assert f'<a href="{BASE_URL}/p/{token}">' in html_part.get_content()
        if registration.mode_for(stage) == Mode.DARING:
            assert "Tautan rapat (Zoom): https://zoom.us/j/81200001\n" in text
            assert "Kode sandi: pass1\n" in text
            assert "Aula Martua" not in text
        else:
            assert "Tempat: Aula Martua, Kantor Bupati, Tarutung\n" in text
            assert "zoom.us" not in text
        assert attachment.get_content_type() == "text/calendar"
        assert attachment.get_param("method") == "PUBLISH"
        assert attachment.get_filename() == "tahap-I.ics"
        first, second = Calendar.from_ical(attachment.get_content()).walk("VEVENT")  # Thursday and Friday
        assert first["dtstart"].to_ical() == b"20210624T020000Z"  # 09.00 WIB
        assert first.decoded("dtstart") == stage.starts_at
        assert second.decoded("dtend") == stage.ends_at
        assert str(first["summary"]) == "Tahap I: Tahap ke-1 (hari ke-1 dari 2)"
        assert f"{BASE_URL}/saya/{program.slug}" in str(first["description"])
        assert f"/p/{token}" not in attachment.get_content()


def test_due_reminders_through_the_engine_send_one_mail_per_participant(app, session, smtp_server):
    from workshop.reminders import services

    program = factories.program(session, stages=1)
    stage = program.stages[0]
    people = [_approved(session, program, Mode.DARING, f"Kepala Desa {i}") for i in range(5)]
    factories.registration(session, program, status=Status.CANCELLED, mode=Mode.DARING)
    services.ensure_default_rules(session, program, stage.starts_at - timedelta(days=4))
    session.commit()
    config = {**app.config, **_email_config(smtp_server.port), "SECRET_KEY": app.config["SECRET_KEY"]}
    for registration in people:
        links.issue(registration, config["SECRET_KEY"])
    session.commit()

    now = stage.starts_at - timedelta(days=1)  # the 1-day rule is due: 02.00 UTC the day before
    services.tick(session, config, clock=lambda: now)
    services.tick(session, config, clock=lambda: now + timedelta(minutes=1))  # nothing more to send

    assert sorted(recipients[0] for _, recipients, _ in smtp_server.received) == sorted(
        registration.person.email for registration in people
    )
    for _, recipients, raw in smtp_server.received:
        (registration,) = [r for r in people if r.person.email == recipients[0]]
        text = _parse(raw).get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert "akan dimulai 1 hari lagi." in text
        assert "Kamis, 24 Juni 2021, pukul 09.00 WIB" in text
        assert "https://zoom.us/j/81200001" in text
        assert messages.personal_url_for(registration, config) in text


def test_smtp_with_starttls_and_login(session, smtp_server, monkeypatch):
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(DATA / "smtp-localhost-cert.pem", DATA / "smtp-localhost-key.pem")
    logins = []

    def authenticator(server, session_, envelope, mechanism, auth_data):
        logins.append((mechanism, auth_data.login, session_.ssl is not None))
        ok = auth_data.login == b"panitia" and auth_data.password == b"rahasia"
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    recorder = MailRecorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_exclude_mechanism=["LOGIN"],  # smtplib would try LOGIN after a failed PLAIN
    )
    controller.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(DATA / "smtp-localhost-cert.pem"))  # trust the test certificate
    try:
        config = _email_config(
            controller.port, SMTP_USE_TLS=True, SMTP_USERNAME="panitia", SMTP_PASSWORD="rahasia"
        )
        channel_for("email", config, session).send(_plain_mail("peserta@contoh.go.id"))
        EmailChannel.close_all()
        wrong = {**config, "SMTP_PASSWORD": "salah"}
        with pytest.raises(PermanentFailure, match=r"^SMTP 535: "):
            channel_for("email", wrong, session).send(_plain_mail("peserta@contoh.go.id"))
    finally:
        controller.stop()

    assert [recipients for _, recipients, _ in recorder.received] == [["peserta@contoh.go.id"]]
    assert logins[0] == ("PLAIN", b"panitia", True)  # after STARTTLS only


def _plain_mail(to: str) -> OutgoingMessage:
    return OutgoingMessage(channel="email", to=to, subject="Uji", text="Halo")


def test_mail_with_non_ascii_subject_sender_and_attachments_reads_back_exactly(session, smtp_server):
    config = _email_config(
        smtp_server.port, MAIL_FROM="Panitia Bimtek — Dinas Kominfo <bimtek@tapanuliutarakab.go.id>"
    )
    text = "Yth. Bapak/Ibu Ségolène,\n.baris yang diawali titik\n" + "kata " * 60 + "\nakhir…"
    html = "<p>Yth. Bapak/Ibu Ségolène,</p>\n<p>" + "x" * 300 + "</p>"
    ics = b"BEGIN:VCALENDAR\r\nSUMMARY:Tahap I \xe2\x80\x94 Penyusunan\r\nEND:VCALENDAR\r\n"
    pdf = bytes(range(256)) * 3
    subject = "Pengingat: Tahap I — Penyusunan Masterplan, Kamis, 24 Juni 2021, pukul 09.00 WIB " + "ü" * 40

    channel_for("email", config, session).send(
        OutgoingMessage(
            channel="email",
            to="peserta@contoh.go.id",
            subject=subject,
            text=text,
            html=html,
            attachments=(
                ("tahap-I.ics", "text/calendar", ics),
                ("Materi Tahap I – ringkas.pdf", "application/pdf", pdf),
            ),
        )
    )

    ((_, _, raw),) = smtp_server.received
    mail = _parse(raw)
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert str(mail["Subject"]) == subject
    assert mail["From"].addresses[0].display_name == "Panitia Bimtek — Dinas Kominfo"
    assert mail["From"].addresses[0].addr_spec == "bimtek@tapanuliutarakab.go.id"
    assert mail["MIME-Version"] == "1.0"
    assert [part.get_content_type() for part in mail.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/pdf",
    ]
    _, _, plain, rich, calendar, document = mail.walk()
    assert plain.get_content().replace("\r\n", "\n") == text
    assert rich.get_content().replace("\r\n", "\n") == html
    assert calendar.get_content().encode() == ics
    assert calendar.get_filename() == "tahap-I.ics"
    assert document.get_content() == pdf
    assert document.get_filename() == "Materi Tahap I – ringkas.pdf"


def test_a_text_only_mail_is_a_single_part(session, smtp_server):
    channel_for("email", _email_config(smtp_server.port), session).send(_plain_mail("peserta@contoh.go.id"))

    ((_, _, raw),) = smtp_server.received
    mail = _parse(raw)
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content().replace("\r\n", "\n") == "Halo\n"
    assert mail["Subject"] == "Uji"


def test_smtp_refused_recipient_is_permanent_and_busy_mailbox_temporary(session, smtp_server):
    smtp_server.refuse = {
        "tidak.ada@contoh.go.id": "550 5.1.1 No such user",
        "penuh@contoh.go.id": "452 4.2.2 Mailbox full, try later",
    }
    channel = channel_for("email", _email_config(smtp_server.port), session)

    with pytest.raises(PermanentFailure) as permanent:
        channel.send(_plain_mail("tidak.ada@contoh.go.id"))
    with pytest.raises(TemporaryFailure) as temporary:
        channel.send(_plain_mail("penuh@contoh.go.id"))
    channel.send(_plain_mail("ada@contoh.go.id"))

    assert str(permanent.value) == "SMTP 550 for tidak.ada@contoh.go.id: 5.1.1 No such user"
    assert str(temporary.value) == "SMTP 452 for penuh@contoh.go.id: 4.2.2 Mailbox full, try later"
    assert [recipients for _, recipients, _ in smtp_server.received] == [["ada@contoh.go.id"]]


def test_smtp_connection_refused_is_temporary(session):
    channel = channel_for("email", _email_config(free_port()), session)

    with pytest.raises(TemporaryFailure, match=r"^SMTP 127\.0\.0\.1:\d+: .*[Rr]efused"):
        channel.send(_plain_mail("peserta@contoh.go.id"))


def test_a_kept_smtp_connection_that_died_fails_once_then_reconnects(session):
    recorder = MailRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    channel = channel_for("email", _email_config(port), session)
    channel.send(_plain_mail("satu@contoh.go.id"))
    controller.stop()  # the server restarts: the kept connection is gone
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(TemporaryFailure):
            channel.send(_plain_mail("dua@contoh.go.id"))
        channel.send(_plain_mail("dua@contoh.go.id"))  # the engine's retry
    finally:
        controller.stop()

    assert [recipients for _, recipients, _ in recorder.received] == [
        ["satu@contoh.go.id"],
        ["dua@contoh.go.id"],
    ]


def test_an_address_without_at_sign_is_refused_before_connecting(session):
    channel = channel_for("email", _email_config(free_port()), session)

    with pytest.raises(PermanentFailure, match="not an email address: 'peserta'"):
        channel.send(_plain_mail("peserta"))


# --- A WhatsApp gateway on localhost ---------------------------------------------------------------


@pytest.fixture
def gateway():
    with fakes.whatsapp_gateway() as server:
        yield server


def _whatsapp_config(gateway, provider="fonnte", **overrides):
    return {
        "WHATSAPP_PROVIDER": provider,
        "WHATSAPP_API_URL": f"{gateway.url}/send"
        if provider == "fonnte"
        else f"{gateway.url}/v20.0/1234/messages",
        "WHATSAPP_TOKEN": "token-rahasia",
        "WHATSAPP_META_TEMPLATE": "pengingat_tahap",
        "WHATSAPP_META_LANGUAGE": "id",
        "WHATSAPP_TIMEOUT": 2,
        **overrides,
    }


WA_TEXT = "Yth. Bapak/Ibu Siti,\n\nKami mengingatkan bahwa *Tahap I* akan dimulai 1 hari lagi & lainnya."


def _whatsapp(to="+6281234567890", **kwargs) -> OutgoingMessage:
    return OutgoingMessage(channel="whatsapp", to=to, subject="Pengingat", text=WA_TEXT, **kwargs)


def test_fonnte_request_is_a_form_post_with_the_token_and_a_628_number(session, gateway):
    gateway.replies = [
        (
            200,
            b'{"detail":"success! message in queue","id":["80367170"],"process":"pending","status":true}',
            0,
        )
    ]
    channel = channel_for("whatsapp", _whatsapp_config(gateway), session)
    assert isinstance(channel, FonnteChannel)

    reference = channel.send(_whatsapp())

    assert reference == "80367170"
    (request,) = gateway.requests
    assert request["method"] == "POST"
    assert request["path"] == "/send"
    assert request["headers"]["Authorization"] == "token-rahasia"
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded; charset=utf-8"
    assert urllib.parse.parse_qs(request["body"].decode(), strict_parsing=True) == {
        "target": ["6281234567890"],
        "message": [WA_TEXT],
    }


def test_meta_request_is_a_template_message_with_a_bearer_token(session, gateway):
    gateway.replies = [
        (
            200,
            b'{"messaging_product":"whatsapp","contacts":[{"input":"6281234567890","wa_id":"6281234567890"}],'
            b'"messages":[{"id":"wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ2"}]}',
            0,
        )
    ]
    channel = channel_for("whatsapp", _whatsapp_config(gateway, "meta"), session)
    assert isinstance(channel, MetaCloudChannel)
    parameters = json.dumps(
        {"parameters": ["Siti", "Tahap I dimulai 1 hari lagi.", "Kamis", "Aula", "https://x/p/1"]}
    )

    reference = channel.send(
        _whatsapp(
            to="0812-3456-7890",
            attachments=(("template.json", channels.TEMPLATE_PARAMETERS_TYPE, parameters.encode()),),
        )
    )

    assert reference == "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABEYEjQ2"
    (request,) = gateway.requests
    assert request["path"] == "/v20.0/1234/messages"
    assert request["headers"]["Authorization"] == "Bearer token-rahasia"
    assert request["headers"]["Content-Type"] == "application/json"
    assert json.loads(request["body"]) == {
        "messaging_product": "whatsapp",
        "to": "6281234567890",
        "type": "template",
        "template": {
            "name": "pengingat_tahap",
            "language": {"code": "id"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Siti"},
                        {"type": "text", "text": "Tahap I dimulai 1 hari lagi."},
                        {"type": "text", "text": "Kamis"},
                        {"type": "text", "text": "Aula"},
                        {"type": "text", "text": "https://x/p/1"},
                    ],
                }
            ],
        },
    }


def test_meta_sends_a_rendered_reminder_with_its_parameters(session, gateway):
    gateway.replies = [(200, b'{"messages":[{"id":"wamid.1"}]}', 0)]
    program = factories.program(session, stages=1)
    registration = _approved(session, program, Mode.LURING, "Siti Rahmawati")
    sent = messages.render(
        "reminder",
        registration=registration,
        stage=program.stages[0],
        rule_offset=timedelta(hours=1),
        locale="id",
        personal_url=f"{BASE_URL}/p/abc",
    )

    channel_for("whatsapp", _whatsapp_config(gateway, "meta"), session).send(sent["whatsapp"])

    body = json.loads(gateway.requests[0]["body"])
    assert body["to"] == registration.person.phone.lstrip("+")
    assert [p["text"] for p in body["template"]["components"][0]["parameters"]] == [
        "Siti Rahmawati",
        "Tahap I: Tahap ke-1 dimulai 1 jam lagi.",
        "Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB",
        "Aula Martua, Kantor Bupati, Tarutung",
        f"{BASE_URL}/p/abc",
    ]


@pytest.mark.parametrize("provider", ["fonnte", "meta"])
def test_gateway_500_is_temporary(session, gateway, provider):
    gateway.replies = [(500, b'{"reason":"internal error"}', 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway, provider), session)

    with pytest.raises(TemporaryFailure, match=r"^HTTP 500: internal error$"):
        channel.send(_whatsapp())


@pytest.mark.parametrize("provider", ["fonnte", "meta"])
def test_gateway_time_out_is_temporary(session, gateway, provider):
    gateway.replies = [(200, b'{"status":true,"id":["1"]}', 1.0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway, provider, WHATSAPP_TIMEOUT=0.2), session)

    started = time.monotonic()
    with pytest.raises(TemporaryFailure, match=r"^WhatsApp gateway: .*timed out"):
        channel.send(_whatsapp())
    assert time.monotonic() - started < 0.9


def test_gateway_refusing_connections_is_temporary(session):
    config = {"WHATSAPP_PROVIDER": "fonnte", "WHATSAPP_API_URL": f"http://127.0.0.1:{free_port()}/send"}

    with pytest.raises(TemporaryFailure, match=r"^WhatsApp gateway: .*[Rr]efused"):
        channel_for("whatsapp", config, session).send(_whatsapp())


def test_fonnte_400_is_permanent_with_the_gateways_reason(session, gateway):
    gateway.replies = [(400, b'{"reason":"invalid target","status":false}', 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway), session)

    with pytest.raises(PermanentFailure) as failure:
        channel.send(_whatsapp())

    assert str(failure.value) == "HTTP 400: invalid target"


def test_fonnte_false_status_is_permanent_with_its_reason(session, gateway):
    gateway.replies = [(200, b'{"reason":"token invalid","status":false}', 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway), session)

    with pytest.raises(PermanentFailure) as failure:
        channel.send(_whatsapp())

    assert str(failure.value) == "Fonnte: token invalid"


def test_fonnte_disconnected_device_is_temporary(session, gateway):
    gateway.replies = [(200, b'{"reason":"request invalid on disconnected device","status":false}', 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway), session)

    with pytest.raises(TemporaryFailure, match=r"^Fonnte: request invalid on disconnected device$"):
        channel.send(_whatsapp())


def test_meta_400_is_permanent_with_the_gateways_reason(session, gateway):
    error = {
        "error": {
            "message": "(#131030) Recipient phone number not in allowed list",
            "type": "OAuthException",
            "code": 131030,
            "error_data": {"messaging_product": "whatsapp", "details": "Add the number to the allowed list"},
        }
    }
    gateway.replies = [(400, json.dumps(error).encode(), 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway, "meta"), session)

    with pytest.raises(PermanentFailure) as failure:
        channel.send(_whatsapp())

    assert str(failure.value) == (
        "HTTP 400: (#131030) Recipient phone number not in allowed list: Add the number to the allowed list"
    )


def test_gateway_429_is_temporary(session, gateway):
    gateway.replies = [(429, b'{"error":{"message":"Rate limit hit","code":130429}}', 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway, "meta"), session)

    with pytest.raises(TemporaryFailure, match=r"^HTTP 429: Rate limit hit \(#130429\)$"):
        channel.send(_whatsapp())


@pytest.mark.parametrize(
    ("phone", "number"),
    [
        ("+6281234567890", "6281234567890"),
        ("081234567890", "6281234567890"),
        ("0812-3456-7890", "6281234567890"),
        ("6281234567890", "6281234567890"),
        ("81234567890", "6281234567890"),
    ],
)
def test_whatsapp_numbers_are_normalised_to_628(phone, number):
    assert channels.whatsapp_number(phone) == number


def test_a_phone_that_is_no_number_is_permanent(session, gateway):
    channel = channel_for("whatsapp", _whatsapp_config(gateway), session)

    with pytest.raises(PermanentFailure, match="not a WhatsApp number: '12'"):
        channel.send(_whatsapp(to="12"))
    assert gateway.requests == []


# --- In-app and the dev outbox ---------------------------------------------------------------------


def test_in_app_channel_adds_a_notice_for_the_registration(session):
    program = factories.program(session, stages=1)
    registration = _approved(session, program, Mode.LURING, "Siti Rahmawati")
    channel = channel_for("inapp", {}, session)
    assert isinstance(channel, InAppChannel)

    reference = channel.send(
        OutgoingMessage(channel="inapp", to=str(registration.id), subject="Pengingat: Tahap I", text="Besok.")
    )
    session.commit()

    (notice,) = session.scalars(select(Notice).where(Notice.registration_id == registration.id)).all()
    assert reference == f"notice:{notice.id}"
    assert notice.kind == "reminder"
    assert json.loads(notice.detail) == {"subject": "Pengingat: Tahap I", "text": "Besok."}


@pytest.mark.parametrize("name", ["email", "whatsapp"])
def test_without_smtp_or_gateway_messages_go_to_the_dev_outbox(session, name):
    channel = channel_for(
        name, {"SMTP_HOST": "", "WHATSAPP_API_URL": "", "WHATSAPP_PROVIDER": "fonnte"}, session
    )
    assert isinstance(channel, DevOutboxChannel)
    to = "peserta@contoh.go.id" if name == "email" else "+6281234567890"

    reference = channel.send(
        OutgoingMessage(
            channel=name, to=to, subject="Pengingat", text="Teks <b>", html="<p>Teks &lt;b&gt;</p>"
        )
    )
    session.commit()

    (row,) = session.scalars(select(OutboxMessage)).all()
    assert reference == f"outbox:{row.id}"
    assert (row.channel, row.to, row.subject, row.text, row.html) == (
        name,
        to,
        "Pengingat",
        "Teks <b>",
        "<p>Teks &lt;b&gt;</p>",
    )


def test_channel_for_picks_the_configured_provider(session):
    config = {
        "SMTP_HOST": "smtp.contoh.go.id",
        "SMTP_PORT": 587,
        "MAIL_FROM": MAIL_FROM,
        "SMTP_USE_TLS": True,
    }
    email = channel_for("email", config, session)
    assert (email.host, email.port, email.use_tls, email.sender) == (
        "smtp.contoh.go.id",
        587,
        True,
        MAIL_FROM,
    )
    assert isinstance(
        channel_for("whatsapp", {"WHATSAPP_API_URL": "https://api.fonnte.com/send"}, session), FonnteChannel
    )
    with pytest.raises(ValueError, match="unknown channel 'sms'"):
        channel_for("sms", {}, session)


# --- Configuration -----------------------------------------------------------------------------


def test_channel_settings_come_from_the_environment():
    config = from_environment(
        {
            "SMTP_HOST": "smtp.contoh.go.id",
            "SMTP_PORT": "465",
            "SMTP_USE_TLS": "false",
            "SMTP_USERNAME": "bimtek",
            "SMTP_PASSWORD": "rahasia",
            "MAIL_FROM": MAIL_FROM,
            "WHATSAPP_PROVIDER": "Meta",
            "WHATSAPP_API_URL": "https://graph.facebook.com/v20.0/1234/messages",
            "WHATSAPP_TOKEN": "abc",
            "WHATSAPP_META_TEMPLATE": "pengingat_tahap",
            "WHATSAPP_TIMEOUT": "5",
        }
    )
    validate(config)

    assert config["SMTP_PORT"] == 465
    assert config["SMTP_USE_TLS"] is False
    assert config["WHATSAPP_PROVIDER"] == "meta"
    assert config["WHATSAPP_TIMEOUT"] == 5.0
    assert config["WHATSAPP_META_LANGUAGE"] == "id"


def test_default_channel_settings_use_the_dev_outbox():
    config = from_environment({})
    validate(config)

    assert (config["SMTP_HOST"], config["WHATSAPP_API_URL"]) == ("", "")
    assert (config["SMTP_PORT"], config["SMTP_USE_TLS"], config["WHATSAPP_PROVIDER"]) == (587, True, "fonnte")


@pytest.mark.parametrize(
    ("environ", "error"),
    [
        ({"SMTP_PORT": "smtp"}, "SMTP_PORT must be a whole number, not 'smtp'"),
        ({"SMTP_PORT": "70000"}, r"SMTP_PORT must be a port number \(1-65535\), not 70000"),
        ({"SMTP_HOST": "smtp.contoh.go.id"}, "MAIL_FROM .* is needed with SMTP_HOST"),
        ({"WHATSAPP_PROVIDER": "twilio"}, "WHATSAPP_PROVIDER must be 'fonnte' or 'meta', not 'twilio'"),
        ({"WHATSAPP_API_URL": "api.fonnte.com/send"}, "WHATSAPP_API_URL must be an http"),
        (
            {"WHATSAPP_PROVIDER": "meta", "WHATSAPP_API_URL": "https://graph.facebook.com/v20.0/1/messages"},
            "WHATSAPP_META_TEMPLATE .* is needed with the meta provider",
        ),
        ({"WHATSAPP_TIMEOUT": "0"}, "WHATSAPP_TIMEOUT must be a positive number of seconds, not 0.0"),
        ({"WHATSAPP_TIMEOUT": "soon"}, "WHATSAPP_TIMEOUT must be a number of seconds, not 'soon'"),
    ],
)
def test_wrong_channel_settings_stop_the_start(environ, error):
    with pytest.raises(ConfigError, match=error):
        validate(from_environment(environ))


# --- The dev outbox pages ------------------------------------------------------------------------


def _outbox_rows(session):
    email = OutboxMessage(
        channel="email",
        to="peserta@contoh.go.id",
        subject="Pengingat: <Tahap I>",
        text="Yth. Bapak/Ibu <b>Siti</b>,\nBesok.",
        html='<p>Yth. Bapak/Ibu &lt;b&gt;Siti&lt;/b&gt;,</p><script>alert("x")</script>',
    )
    whatsapp = OutboxMessage(
        channel="whatsapp", to="+6281234567890", subject="Pengingat WA", text="*Tahap I*"
    )
    session.add_all([email, whatsapp])
    session.commit()
    return email, whatsapp


def test_organiser_lists_the_dev_outbox_newest_first_and_by_channel(session, client, login):
    from workshop.auth.models import Role

    email, _whatsapp = _outbox_rows(session)
    login(factories.staff(session, Role.PANITIA))

    page = client.get("/admin/reminders/outbox").get_data(as_text=True)
    assert page.index("Pengingat WA") < page.index("Pengingat: &lt;Tahap I&gt;")
    assert "<Tahap I>" not in page
    assert f'href="/admin/reminders/outbox/{email.id}"' in page
    assert "<td>0812-3456-7890</td>" in page

    only_email = client.get("/admin/reminders/outbox?channel=email").get_data(as_text=True)
    assert "Pengingat: &lt;Tahap I&gt;" in only_email
    assert "Pengingat WA" not in only_email


def test_outbox_message_shows_the_text_and_the_html_as_escaped_source(session, client, login):
    from workshop.auth.models import Role

    email, whatsapp = _outbox_rows(session)
    login(factories.staff(session, Role.ADMIN))

    response = client.get(f"/admin/reminders/outbox/{email.id}")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        '<pre class="outbox-text" data-testid="outbox-text">Yth. Bapak/Ibu &lt;b&gt;Siti&lt;/b&gt;,\nBesok.</pre>'
        in page
    )
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self'")
    assert f'href="/admin/reminders/outbox/{email.id}/html"' in page
    whatsapp_page = client.get(f"/admin/reminders/outbox/{whatsapp.id}").get_data(as_text=True)
    assert "outbox-html" not in whatsapp_page
    assert client.get(f"/admin/reminders/outbox/{whatsapp.id}/html").status_code == 404


def test_outbox_html_opens_as_a_sandboxed_document(session, client, login):
    from workshop.auth.models import Role

    email, _ = _outbox_rows(session)
    login(factories.staff(session, Role.PANITIA))

    response = client.get(f"/admin/reminders/outbox/{email.id}/html")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.get_data(as_text=True) == email.html
    assert response.headers["Content-Security-Policy"] == (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
    )


def test_only_organisers_open_the_dev_outbox(session, client, login):
    from workshop.auth.models import Role

    email, _ = _outbox_rows(session)
    paths = [
        "/admin/reminders/outbox",
        f"/admin/reminders/outbox/{email.id}",
        f"/admin/reminders/outbox/{email.id}/html",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    login(factories.staff(session, Role.PETUGAS))
    for path in paths:
        assert client.get(path).status_code == 403


def test_programme_page_links_the_dev_outbox_only_while_a_channel_is_unconfigured(
    app, session, client, login
):
    from workshop.auth.models import Role

    program = factories.program(session, stages=1)
    login(factories.staff(session, Role.PANITIA))

    assert 'data-testid="dev-outbox"' in client.get(f"/admin/programs/{program.id}").get_data(as_text=True)
    app.config.update(SMTP_HOST="smtp.contoh.go.id", WHATSAPP_API_URL="https://api.fonnte.com/send")
    assert 'data-testid="dev-outbox"' not in client.get(f"/admin/programs/{program.id}").get_data(
        as_text=True
    )
