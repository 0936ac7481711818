"""The email channel against a real SMTP server on localhost (aiosmtpd)."""

from __future__ import annotations

import ssl
from datetime import timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from icalendar import Calendar

from tests import factories, fakes
from tests.fakes import MailRecorder, free_port
from workshop.registration import calendar, links
from workshop.registration.models import Mode, Status
from workshop.reminders import messages
from workshop.reminders.channels import (
    EmailChannel,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    channel_for,
)

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


def test_the_engine_sends_over_several_smtp_connections_at_once_each_mail_once(app, session, smtp_server):
    """REMINDER_SENDERS=3: three connections carry the mails at the same time (the server holds each
    DATA for a while); still one mail per participant, each delivery marked sent with its Message-ID."""
    import asyncio

    from sqlalchemy import select

    from workshop.reminders import services
    from workshop.reminders.models import Delivery, DeliveryStatus

    in_flight, most = 0, 0
    record = smtp_server.handle_DATA

    async def slow_data(server, smtp_session, envelope):
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return await record(server, smtp_session, envelope)

    smtp_server.handle_DATA = slow_data
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    people = [_approved(session, program, Mode.DARING, f"Kepala Desa {i}") for i in range(9)]
    services.ensure_default_rules(session, program, stage.starts_at - timedelta(days=4))
    session.commit()
    config = {**app.config, **_email_config(smtp_server.port), "REMINDER_SENDERS": 3}
    config["SECRET_KEY"] = app.config["SECRET_KEY"]

    now = stage.starts_at - timedelta(days=1)  # the 1-day rule is due
    services.tick(session, config, clock=lambda: now)
    services.tick(session, config, clock=lambda: now + timedelta(minutes=1))  # nothing more to send

    assert (smtp_server.sessions, most) == (3, 3)
    assert sorted(recipients[0] for _, recipients, _ in smtp_server.received) == sorted(
        registration.person.email for registration in people
    )
    sent = session.scalars(
        select(Delivery).where(Delivery.channel == "email", Delivery.status == DeliveryStatus.SENT)
    ).all()
    assert sorted(d.provider_ref for d in sent) == sorted(
        _parse(raw)["Message-ID"] for _, _, raw in smtp_server.received
    )
    assert len(sent) == 9  # the 1-day rule's (the 3-day rule's window had passed: late, never sent)


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
        with pytest.raises(PermanentFailure, match=r"^SMTP 535: ") as refused:
            channel_for("email", wrong, session).send(_plain_mail("peserta@contoh.go.id"))
    finally:
        controller.stop()

    assert refused.value.code == "smtp_refused"

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

    assert (permanent.value.code, str(permanent.value)) == (
        "smtp_refused",
        "SMTP 550 for tidak.ada@contoh.go.id: 5.1.1 No such user",
    )
    assert (temporary.value.code, str(temporary.value)) == (
        "smtp_deferred",
        "SMTP 452 for penuh@contoh.go.id: 4.2.2 Mailbox full, try later",
    )
    assert [recipients for _, recipients, _ in smtp_server.received] == [["ada@contoh.go.id"]]


def test_smtp_connection_refused_is_temporary(session):
    channel = channel_for("email", _email_config(free_port()), session)

    with pytest.raises(TemporaryFailure, match=r"^SMTP 127\.0\.0\.1:\d+: .*[Rr]efused") as failure:
        channel.send(_plain_mail("peserta@contoh.go.id"))
    assert failure.value.code == "smtp_unreachable"


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

    with pytest.raises(PermanentFailure, match="not an email address: 'peserta'") as failure:
        channel.send(_plain_mail("peserta"))
    assert failure.value.code == "invalid_address"
