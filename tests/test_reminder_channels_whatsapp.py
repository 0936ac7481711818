"""The WhatsApp channels (Fonnte, Meta) against an HTTP gateway on localhost."""

from __future__ import annotations

import json
import time
import urllib.parse
from datetime import timedelta

import pytest

from tests import factories, fakes
from tests.fakes import free_port
from tests.test_reminder_channels_mail import _approved
from workshop.registration.models import Mode
from workshop.reminders import channels, messages
from workshop.reminders.channels import (
    FonnteChannel,
    MetaCloudChannel,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    channel_for,
)

BASE_URL = "https://bimtek.tapanuliutarakab.go.id"


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
            to="+6281234567890",
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

    with pytest.raises(TemporaryFailure, match=r"^HTTP 500: internal error$") as failure:
        channel.send(_whatsapp())
    assert failure.value.code == "whatsapp_http_5xx"


@pytest.mark.parametrize("provider", ["fonnte", "meta"])
def test_gateway_time_out_is_temporary(session, gateway, provider):
    gateway.replies = [(200, b'{"status":true,"id":["1"]}', 1.0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway, provider, WHATSAPP_TIMEOUT=0.2), session)

    started = time.monotonic()
    with pytest.raises(TemporaryFailure, match=r"^WhatsApp gateway: .*timed out") as failure:
        channel.send(_whatsapp())
    assert failure.value.code == "whatsapp_unreachable"
    assert time.monotonic() - started < 0.9


def test_gateway_refusing_connections_is_temporary(session):
    config = {"WHATSAPP_PROVIDER": "fonnte", "WHATSAPP_API_URL": f"http://127.0.0.1:{free_port()}/send"}

    with pytest.raises(TemporaryFailure, match=r"^WhatsApp gateway: .*[Rr]efused") as failure:
        channel_for("whatsapp", config, session).send(_whatsapp())
    assert failure.value.code == "whatsapp_unreachable"


def test_fonnte_400_is_permanent_with_the_gateways_reason(session, gateway):
    gateway.replies = [(400, b'{"reason":"invalid target","status":false}', 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway), session)

    with pytest.raises(PermanentFailure) as failure:
        channel.send(_whatsapp())

    assert (failure.value.code, str(failure.value)) == ("whatsapp_http_4xx", "HTTP 400: invalid target")


def test_fonnte_false_status_is_permanent_with_its_reason(session, gateway):
    gateway.replies = [(200, b'{"reason":"token invalid","status":false}', 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway), session)

    with pytest.raises(PermanentFailure) as failure:
        channel.send(_whatsapp())

    assert (failure.value.code, str(failure.value)) == ("whatsapp_refused", "Fonnte: token invalid")


def test_fonnte_disconnected_device_is_temporary(session, gateway):
    gateway.replies = [(200, b'{"reason":"request invalid on disconnected device","status":false}', 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway), session)

    with pytest.raises(
        TemporaryFailure, match=r"^Fonnte: request invalid on disconnected device$"
    ) as failure:
        channel.send(_whatsapp())
    assert failure.value.code == "whatsapp_disconnected"


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

    assert failure.value.code == "whatsapp_http_4xx"
    assert str(failure.value) == (
        "HTTP 400: (#131030) Recipient phone number not in allowed list: Add the number to the allowed list"
    )


def test_gateway_429_is_temporary(session, gateway):
    gateway.replies = [(429, b'{"error":{"message":"Rate limit hit","code":130429}}', 0)]
    channel = channel_for("whatsapp", _whatsapp_config(gateway, "meta"), session)

    with pytest.raises(TemporaryFailure, match=r"^HTTP 429: Rate limit hit \(#130429\)$") as failure:
        channel.send(_whatsapp())
    assert failure.value.code == "whatsapp_http_4xx"


@pytest.mark.parametrize(
    ("phone", "number"),
    [
        ("+6281234567890", "6281234567890"),
        ("+6281263004001", "6281263004001"),
        ("+31612345678", "31612345678"),
    ],
)
def test_whatsapp_numbers_are_the_stored_e164_without_its_plus(phone, number):
    assert channels.whatsapp_number(phone) == number


@pytest.mark.parametrize(
    "phone", ["081234567890", "0812-3456-7890", "6281234567890", "+62 812 3456 7890", ""]
)
def test_a_number_not_stored_in_e164_is_refused(phone):
    with pytest.raises(PermanentFailure) as failure:
        channels.whatsapp_number(phone)
    assert (str(failure.value), failure.value.code) == (
        f"not a WhatsApp number: {phone!r}",
        "invalid_address",
    )


def test_a_phone_that_is_no_number_is_permanent(session, gateway):
    channel = channel_for("whatsapp", _whatsapp_config(gateway), session)

    with pytest.raises(PermanentFailure, match="not a WhatsApp number: '12'") as failure:
        channel.send(_whatsapp(to="12"))
    assert failure.value.code == "invalid_address"
    assert gateway.requests == []
