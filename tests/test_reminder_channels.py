"""Which channel sends what (`channel_for`), the in-app and dev outbox channels, the channel
settings, and the dev outbox pages."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests import factories
from tests.test_reminder_channels_mail import _approved
from workshop.config import ConfigError, from_environment, validate
from workshop.registration.models import Mode, Notice
from workshop.reminders.channels import (
    DevOutboxChannel,
    FonnteChannel,
    InAppChannel,
    OutgoingMessage,
    channel_for,
)
from workshop.reminders.models import OutboxMessage

MAIL_FROM = "Panitia Bimtek <bimtek@tapanuliutarakab.go.id>"


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
