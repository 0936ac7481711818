"""What the WhatsApp reply tests share: the gateways' secrets, their real webhook payloads, and
the engine's tick that sends the queued replies to the fake gateway."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse

from workshop.reminders import services as reminders

FONNTE_TOKEN = "rahasia-webhook-fonnte-0123456789"
META_VERIFY_TOKEN = "verifikasi-meta-0123456789"
META_APP_SECRET = "app-secret-meta-0123456789"
FONNTE_HOOK = f"/whatsapp/webhook/fonnte/{FONNTE_TOKEN}"
META_HOOK = "/whatsapp/webhook/meta"


ACCEPTED = {
    "fonnte": b'{"detail": "success! message in queue", "id": ["80367170"], "process": "pending", "status": true}',
    "meta": b'{"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": "wamid.OUT"}]}',
}


def configure(app, gateway, provider: str = "fonnte") -> None:
    """The app sends to the fake gateway (which accepts every message) and takes its webhooks."""
    gateway.replies = [(200, ACCEPTED[provider], 0)] * 200
    app.config.update(
        WHATSAPP_PROVIDER=provider,
        WHATSAPP_API_URL=f"{gateway.url}/send"
        if provider == "fonnte"
        else f"{gateway.url}/v20.0/1234/messages",
        WHATSAPP_TOKEN="token-gateway",
        WHATSAPP_META_TEMPLATE="polling_bimtek",
        WHATSAPP_TIMEOUT=2,
        WHATSAPP_WEBHOOK_TOKEN=FONNTE_TOKEN,
        WHATSAPP_META_VERIFY_TOKEN=META_VERIFY_TOKEN,
        WHATSAPP_META_APP_SECRET=META_APP_SECRET,
    )


def fonnte_payload(phone: str, text: str, message_id: str) -> dict:
    """What Fonnte posts for a message to the device (its webhook's fields)."""
    return {
        "device": "6281100000000",
        "sender": phone.removeprefix("+"),
        "message": text,
        "text": "",
        "member": "",
        "name": "Budi",
        "location": "",
        "pollname": "",
        "choices": "",
        "timestamp": 1624503600,
        "inboxid": message_id,
        "url": "",
        "filename": "",
        "extension": "",
    }


def _notification(value: dict) -> dict:
    """A Cloud API webhook notification around one change's value."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


METADATA = {"display_phone_number": "6281100000000", "phone_number_id": "1234"}


def meta_payload(phone: str, text: str, message_id: str) -> dict:
    """A Cloud API notification of one text message (entry[].changes[].value.messages[])."""
    number = phone.removeprefix("+")
    return _notification(
        {
            "messaging_product": "whatsapp",
            "metadata": METADATA,
            "contacts": [{"profile": {"name": "Budi"}, "wa_id": number}],
            "messages": [
                {
                    "from": number,
                    "id": message_id,
                    "timestamp": "1624503600",
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        }
    )


def meta_statuses(message_id: str) -> dict:
    """A Cloud API notification of a sent message's status: not a message, nothing to do."""
    status = {
        "id": message_id,
        "status": "delivered",
        "timestamp": "1624503601",
        "recipient_id": "6281200000001",
    }
    return _notification({"messaging_product": "whatsapp", "metadata": METADATA, "statuses": [status]})


def sign(body: bytes, secret: str = META_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_fonnte(client, phone: str, text: str, message_id: str, *, as_form: bool = False):
    payload = fonnte_payload(phone, text, message_id)
    if as_form:
        return client.post(FONNTE_HOOK, data=payload, send_csrf_token=False)
    return client.post(FONNTE_HOOK, json=payload, send_csrf_token=False)


def post_meta(client, payload: dict | bytes, *, signature: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        META_HOOK,
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature or sign(body)},
        send_csrf_token=False,
    )


def send_queued(session, app, now) -> None:
    """The reminder engine's tick: the queued messages go to the (fake) gateway."""
    reminders.tick(session, app.config, clock=lambda: now)


def fonnte_sent(gateway) -> list[tuple[str, str]]:
    """(target, message) of each message the fake Fonnte received."""
    sent = []
    for request in gateway.requests:
        form = urllib.parse.parse_qs(request["body"].decode())
        sent.append((form["target"][0], form["message"][0]))
    return sent
