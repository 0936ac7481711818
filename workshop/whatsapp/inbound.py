"""What the gateways post to the webhook, read into plain messages; anything else is dropped.

Fonnte posts one message per request (JSON or a form: `device`, `sender`, `message`, `inboxid` or
`id`, `member` in a group...); its webhook is not signed, so its URL carries a secret token.
Meta's Cloud API posts `{"object": "whatsapp_business_account", "entry": [{"changes": [{"value":
{"messages": [{"from", "id", "type": "text", "text": {"body"}}], "statuses": [...]}}]}]}`, signed
with the app secret in X-Hub-Signature-256; statuses (sent, delivered, read) are not messages.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import phonenumbers

from workshop.text import clean_lines

MAX_ID_LENGTH = 200
MAX_TEXT = 4096  # WhatsApp's own limit for a text message


@dataclass(frozen=True)
class Incoming:
    provider: str  # "fonnte" | "meta"
    message_id: str
    sender: str  # E.164 ("+6281234567890")
    text: str


def sender_number(raw: object) -> str:
    """The sender as E.164: the gateways send the number without "+" ("6281234567890"), Fonnte
    sometimes with its WhatsApp suffix ("6281...@s.whatsapp.net"). "" for anything else (a group's
    id "1203...@g.us" included: a message in a group is not a reply to us)."""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return ""
    digits, _at, suffix = str(raw).strip().partition("@")
    digits = digits.removeprefix("+")
    if suffix not in ("", "s.whatsapp.net", "c.us"):
        return ""
    if not digits.isascii() or not digits.isdigit() or not 6 <= len(digits) <= 15:
        return ""
    try:
        number = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _message_id(raw: object) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return ""
    value = str(raw).strip()
    if not value or len(value) > MAX_ID_LENGTH or not value.isprintable():
        return ""
    return value


def _text(raw: object) -> str | None:
    """The message's text without control characters (workshop/text.py: a NUL cannot even be
    stored on PostgreSQL, and the reply may quote it), or None when it is not text."""
    return clean_lines(raw) if isinstance(raw, str) else None


def fonnte_messages(data: Mapping) -> list[Incoming]:
    """Fonnte's one message, if it is a text from a person (not a group, not our own device)."""
    message_id = _message_id(data.get("inboxid") or data.get("id"))
    text = _text(data.get("message"))
    sender = sender_number(data.get("sender"))
    if not message_id or text is None or not sender or data.get("member"):
        return []
    return [Incoming("fonnte", message_id, sender, text)]


def meta_signature_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """X-Hub-Signature-256: "sha256=" + HMAC-SHA256 of the raw body with the app secret."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.removeprefix("sha256=").strip().encode())


def meta_messages(body: bytes) -> list[Incoming]:
    """The text messages of a Cloud API notification (statuses and other kinds are skipped)."""
    try:
        data = json.loads(body)
    except ValueError:
        return []
    return list(_meta_messages(data))


def _meta_messages(data: object) -> Iterator[Incoming]:
    if not isinstance(data, dict):
        return
    for entry in _dicts(data.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if not isinstance(value, dict):
                continue
            for message in _dicts(value.get("messages")):
                body = message.get("text")
                text = _text(body.get("body")) if isinstance(body, dict) else None
                message_id = _message_id(message.get("id"))
                sender = sender_number(message.get("from"))
                if message.get("type") == "text" and message_id and sender and text is not None:
                    yield Incoming("meta", message_id, sender, text)


def _dicts(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
