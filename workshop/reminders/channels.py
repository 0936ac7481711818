"""Where reminders go out: email over SMTP, WhatsApp through an HTTP gateway, in-app notices.

Every channel has `.send(OutgoingMessage) -> str`, the provider's reference for the delivery
log. A channel raises `TemporaryFailure` when trying again later may help (gateway 5xx, time-outs,
refused connections, SMTP 4xx) and `PermanentFailure` when it will not (4xx from a gateway, a
refused address); `str(error)` is the reason the organiser sees.

Without SMTP_HOST (email) or WHATSAPP_API_URL (WhatsApp) the message is written to the dev outbox
instead, so a demo shows what would be sent. Channels that write rows (in-app, dev outbox) only
add and flush through the given session: the caller commits them with the "sent" mark.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import smtplib
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email import quoprimime
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid, parseaddr
from typing import Protocol

from sqlalchemy.orm import Session

WHATSAPP_PROVIDERS = ("fonnte", "meta")
# A WhatsApp message may carry the parameters of a Meta template as an attachment of this type:
# {"parameters": ["...", ...]}. Fonnte and the dev outbox ignore it; Meta sends only these.
TEMPLATE_PARAMETERS_TYPE = "application/x-whatsapp-template-parameters+json"
SMTP_TIMEOUT = 30.0
# A kept SMTP connection idle for longer than this is checked with NOOP before it is reused.
SMTP_IDLE_CHECK = 30.0
MAX_REASON = 300


class TemporaryFailure(Exception):
    """Retry later with backoff (5xx, time-outs, connection refused, SMTP 4xx)."""


class PermanentFailure(Exception):
    """Give up; str(error) is the reason shown in the delivery log (4xx, bad address)."""


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str  # "email" | "whatsapp" | "inapp"
    to: str  # email address, E.164 phone (+62...), or the registration id as text for in-app
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # (filename, mimetype, content)


class Channel(Protocol):
    def send(self, message: OutgoingMessage) -> str: ...


def channel_for(name: str, config: Mapping, session: Session) -> Channel:
    """The channel that sends `name` ("email", "whatsapp", "inapp") under this configuration."""
    if name == "email":
        if not config.get("SMTP_HOST"):
            return DevOutboxChannel(session, "email")
        return EmailChannel.from_config(config)
    if name == "whatsapp":
        if not config.get("WHATSAPP_API_URL"):
            return DevOutboxChannel(session, "whatsapp")
        provider = config.get("WHATSAPP_PROVIDER") or "fonnte"
        if provider == "fonnte":
            return FonnteChannel.from_config(config)
        if provider == "meta":
            return MetaCloudChannel.from_config(config)
        raise ValueError(f"unknown WhatsApp provider {provider!r}")
    if name == "inapp":
        return InAppChannel(session)
    raise ValueError(f"unknown channel {name!r}")


def whatsapp_number(phone: str) -> str:
    """'+6281234567890', '081234567890' or '6281234567890' -> '6281234567890' (digits, country code)."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if len(digits) < 9:
        raise PermanentFailure(f"not a WhatsApp number: {phone!r}")
    return digits


def _shorten(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"


# --- Email -------------------------------------------------------------------------------------


@dataclass
class _Connection:
    smtp: smtplib.SMTP
    used_at: float


class EmailChannel:
    """SMTP with STARTTLS and login when configured; one kept connection per thread.

    A scheduler sends many messages in a row: keeping the connection saves a TCP and TLS
    handshake and a login per message. A kept connection that failed is dropped, never retried
    here: the delivery is retried by the engine, so a message is never sent twice by us.
    """

    _local = threading.local()

    def __init__(
        self,
        *,
        host: str,
        port: int,
        use_tls: bool,
        username: str,
        password: str,
        sender: str,
        timeout: float = SMTP_TIMEOUT,
    ):
        self.host, self.port, self.use_tls = host, port, use_tls
        self.username, self.password, self.timeout = username, password, timeout
        name, address = parseaddr(sender)
        self.sender = formataddr((name, address), charset="utf-8")  # encoded if the name is not ASCII
        self.envelope_from = address

    @classmethod
    def from_config(cls, config: Mapping) -> EmailChannel:
        return cls(
            host=config["SMTP_HOST"],
            port=int(config.get("SMTP_PORT") or 587),
            use_tls=bool(config.get("SMTP_USE_TLS")),
            username=config.get("SMTP_USERNAME") or "",
            password=config.get("SMTP_PASSWORD") or "",
            sender=config.get("MAIL_FROM") or "",
            timeout=float(config.get("SMTP_TIMEOUT") or SMTP_TIMEOUT),
        )

    def build(self, message: OutgoingMessage) -> tuple[str, bytes]:
        """(Message-ID, the mail as sent): multipart/mixed with a multipart/alternative (text,
        html) and the attachments, text parts in quoted-printable UTF-8, lines ending in CRLF.

        Written out directly: the email package folds every header through its Header class,
        which cost more CPU than the rest of sending a reminder. The tests read what this
        writes with the email package's parser.
        """
        address = parseaddr(message.to)[1]
        if "@" not in address or address != message.to.strip() or not address.isascii():
            raise PermanentFailure(f"not an email address: {message.to!r}")
        message_id = make_msgid(domain=self.envelope_from.rpartition("@")[2] or None)
        body = _text_part(message.text, "plain")
        if message.html is not None:
            body = _multipart("alternative", [body, _text_part(message.html, "html")])
        if message.attachments:
            body = _multipart(
                "mixed",
                [body, *(_attachment(name, kind, content) for name, kind, content in message.attachments)],
            )
        head = (
            f"From: {self.sender}\r\n"
            f"To: {address}\r\n"
            f"Subject: {_encoded_header(message.subject)}\r\n"
            f"Date: {formatdate(usegmt=True)}\r\n"
            f"Message-ID: {message_id}\r\n"
            "MIME-Version: 1.0\r\n"
        )
        return message_id, head.encode("ascii") + body

    def send(self, message: OutgoingMessage) -> str:
        message_id, mail = self.build(message)
        key = (self.host, self.port, self.use_tls, self.username)
        try:
            smtp = self._connection(key)
            refused = smtp.sendmail(self.envelope_from, [message.to.strip()], mail)
        except smtplib.SMTPRecipientsRefused as error:
            self._drop(key, quit=True)
            code, reply = next(iter(error.recipients.values()))
            raise _smtp_failure(code, reply, f" for {message.to}") from error
        except smtplib.SMTPResponseException as error:  # sender refused, data refused, login, 421
            self._drop(key, quit=True)
            raise _smtp_failure(error.smtp_code, error.smtp_error) from error
        except (smtplib.SMTPException, OSError) as error:  # refused, reset, time-out, TLS
            self._drop(key)
            raise TemporaryFailure(_shorten(f"SMTP {self.host}:{self.port}: {error}")) from error
        if refused:  # only with several recipients; kept for completeness
            code, reply = next(iter(refused.values()))
            raise _smtp_failure(code, reply, f" for {message.to}")
        self._local.connections[key].used_at = time.monotonic()
        return message_id

    def _connection(self, key) -> smtplib.SMTP:
        connections = self._connections()
        kept = connections.get(key)
        if kept is not None:
            if time.monotonic() - kept.used_at < SMTP_IDLE_CHECK:
                return kept.smtp
            try:
                if kept.smtp.noop()[0] == 250:
                    return kept.smtp
            except (smtplib.SMTPException, OSError):
                pass
            self._drop(key)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.use_tls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        connections[key] = _Connection(smtp, time.monotonic())
        return smtp

    def _connections(self) -> dict:
        if not hasattr(self._local, "connections"):
            self._local.connections = {}
        return self._local.connections

    def _drop(self, key, *, quit: bool = False) -> None:
        kept = self._connections().pop(key, None)
        if kept is None:
            return
        try:
            if quit:
                kept.smtp.quit()
            else:
                kept.smtp.close()
        except (smtplib.SMTPException, OSError):
            kept.smtp.close()

    @classmethod
    def close_all(cls) -> None:
        """Close this thread's kept connections (end of a batch, tests)."""
        for kept in getattr(cls._local, "connections", {}).values():
            try:
                kept.smtp.quit()
            except (smtplib.SMTPException, OSError):
                kept.smtp.close()
        cls._local.connections = {}


def _text_part(text: str, subtype: str, **params: str) -> bytes:
    """A text/<subtype> part (headers and body) in quoted-printable UTF-8."""
    extra = "".join(f"; {name}={value}" for name, value in params.items())
    encoded = quoprimime.body_encode(text.encode("utf-8").decode("latin-1"), eol="\r\n")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{extra}\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
        f"\r\n{encoded}\r\n"
    ).encode("ascii")


def _multipart(subtype: str, parts: list[bytes]) -> bytes:
    # Quoted-printable and base64 bodies never contain "=_", so this boundary cannot occur in them.
    boundary = f"=_{secrets.token_hex(12)}".encode()
    lines = [b'Content-Type: multipart/%s; boundary="%s"\r\n\r\n' % (subtype.encode(), boundary)]
    for part in parts:
        lines.append(b"--%s\r\n%s" % (boundary, part))
    lines.append(b"--%s--\r\n" % boundary)
    return b"".join(lines)


def _attachment(filename: str, mimetype: str, content: bytes) -> bytes:
    disposition = f"Content-Disposition: attachment; {_parameter('filename', filename)}\r\n".encode("ascii")
    if mimetype == "text/calendar":
        # iMIP (RFC 6047): the METHOD of the calendar object repeated as a parameter.
        part = _text_part(content.decode(), "calendar", method="PUBLISH")
    else:
        encoded = base64.encodebytes(content).replace(b"\n", b"\r\n")
        part = b"Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s" % (
            mimetype.encode("ascii"),
            encoded,
        )
    head, _, rest = part.partition(b"\r\n")
    return head + b"\r\n" + disposition + rest


def _parameter(name: str, value: str) -> str:
    """name="value" for plain ASCII, name*=utf-8''... (RFC 2231) otherwise."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'{name}="{value}"'
    return f"{name}*=utf-8''{urllib.parse.quote(value, safe='')}"


def _encoded_header(value: str) -> str:
    """A header value on one line: short ASCII as it is, anything else as RFC 2047 encoded words."""
    value = " ".join(value.split())
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _smtp_failure(code: int, reply: bytes | str, recipient: str = "") -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    reason = _shorten(f"SMTP {code}{recipient}: {text}")
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


# --- WhatsApp ----------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as an error, never followed: urllib would send the Authorization
    header (the gateway's token) on to wherever the redirect points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_gateway_opener = urllib.request.build_opener(_NoRedirects)


class _HttpGateway:
    """POST to a WhatsApp gateway; 5xx, 429 and time-outs are temporary, other 4xx and redirects
    permanent."""

    def __init__(self, *, url: str, token: str, timeout: float):
        self.url, self.token, self.timeout = url, token, timeout

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with _gateway_opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            if 300 <= error.code < 400:
                location = error.headers.get("Location", "")
                raise PermanentFailure(
                    _shorten(
                        f"HTTP {error.code}: the gateway redirects to {location}; set WHATSAPP_API_URL "
                        "to that address (a redirect is not followed: it would carry the token)"
                    )
                ) from error
            payload = error.read()
            reason = _shorten(f"HTTP {error.code}: {self._reason(payload) or error.reason}")
            if error.code >= 500 or error.code in (408, 429):
                raise TemporaryFailure(reason) from error
            raise PermanentFailure(reason) from error
        except (OSError, http.client.HTTPException) as error:  # refused, reset, time-out
            detail = getattr(error, "reason", None) or error
            raise TemporaryFailure(_shorten(f"WhatsApp gateway: {detail}")) from error

    @staticmethod
    def _json(payload: bytes) -> dict:
        try:
            data = json.loads(payload)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _reason(self, payload: bytes) -> str:
        """The gateway's own words: Meta's {"error": {...}}, Fonnte's "reason", or the body."""
        data = self._json(payload)
        error = data.get("error")
        if isinstance(error, dict):
            reason = str(error.get("message") or "")
            if "code" in error and f"#{error['code']}" not in reason:
                reason += f" (#{error['code']})"
            details = error.get("error_data")
            if isinstance(details, dict) and details.get("details"):
                reason += f": {details['details']}"
            return reason
        if data.get("reason") or data.get("detail"):
            return str(data.get("reason") or data.get("detail"))
        return payload.decode(errors="replace").strip()


class FonnteChannel(_HttpGateway):
    """Fonnte-style gateway: form fields `target` and `message`, the token in `Authorization`.

    Fonnte answers 200 with {"status": true, "id": ["80367170"], ...} or {"status": false,
    "reason": "..."}; a false status is permanent unless the device is disconnected.
    """

    @classmethod
    def from_config(cls, config: Mapping) -> FonnteChannel:
        return cls(
            url=config["WHATSAPP_API_URL"],
            token=config.get("WHATSAPP_TOKEN") or "",
            timeout=float(config.get("WHATSAPP_TIMEOUT") or 10),
        )

    def send(self, message: OutgoingMessage) -> str:
        body = urllib.parse.urlencode({"target": whatsapp_number(message.to), "message": message.text})
        _, payload = self._post(
            body.encode(),
            {
                "Authorization": self.token,
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
            },
        )
        data = self._json(payload)
        if data.get("status") is not True:
            reason = _shorten(f"Fonnte: {data.get('reason') or payload.decode(errors='replace')}")
            if "disconnect" in reason.lower():
                raise TemporaryFailure(reason)
            raise PermanentFailure(reason)
        ids = data.get("id")
        reference = ids[0] if isinstance(ids, list) and ids else ids
        return str(reference) if reference is not None else ""


class MetaCloudChannel(_HttpGateway):
    """Meta WhatsApp Cloud API: an approved template message, JSON with a Bearer token.

    The template's body takes text parameters; messages.render supplies them as an attachment of
    type TEMPLATE_PARAMETERS_TYPE (name, what, when, where, personal link).
    """

    def __init__(self, *, url: str, token: str, timeout: float, template: str, language: str):
        super().__init__(url=url, token=token, timeout=timeout)
        self.template, self.language = template, language

    @classmethod
    def from_config(cls, config: Mapping) -> MetaCloudChannel:
        return cls(
            url=config["WHATSAPP_API_URL"],
            token=config.get("WHATSAPP_TOKEN") or "",
            timeout=float(config.get("WHATSAPP_TIMEOUT") or 10),
            template=config.get("WHATSAPP_META_TEMPLATE") or "",
            language=config.get("WHATSAPP_META_LANGUAGE") or "id",
        )

    def body(self, message: OutgoingMessage) -> dict:
        return {
            "messaging_product": "whatsapp",
            "to": whatsapp_number(message.to),
            "type": "template",
            "template": {
                "name": self.template,
                "language": {"code": self.language},
                "components": [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": value} for value in _parameters(message)],
                    }
                ],
            },
        }

    def send(self, message: OutgoingMessage) -> str:
        body = json.dumps(self.body(message), ensure_ascii=False).encode()
        _, payload = self._post(
            body,
            {
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        messages = self._json(payload).get("messages")
        if not (isinstance(messages, list) and messages and isinstance(messages[0], dict)):
            # Accepted or not? Not retried (no double send); the organiser sees why and may retry.
            raise PermanentFailure(_shorten(f"Meta: unexpected answer {payload.decode(errors='replace')}"))
        return str(messages[0].get("id"))


def _parameters(message: OutgoingMessage) -> list[str]:
    """Template parameters: one line each (Meta refuses new lines, tabs and long runs of spaces)."""
    for _filename, mimetype, content in message.attachments:
        if mimetype == TEMPLATE_PARAMETERS_TYPE:
            values = json.loads(content)["parameters"]
            break
    else:
        values = [message.text]
    return [" ".join(str(value).split()) or "-" for value in values]


# --- In-app and dev outbox ---------------------------------------------------------------------


class InAppChannel:
    """A notice on the participant's page (the caller pushes it over Socket.IO after commit)."""

    def __init__(self, session: Session):
        self.session = session

    def send(self, message: OutgoingMessage) -> str:
        from workshop.registration.models import Notice

        if not message.to.isdigit():
            raise PermanentFailure(f"not a registration id: {message.to!r}")
        detail = json.dumps({"subject": message.subject, "text": message.text}, ensure_ascii=False)
        notice = Notice(registration_id=int(message.to), kind="reminder", detail=detail)
        self.session.add(notice)
        self.session.flush()
        return f"notice:{notice.id}"


class DevOutboxChannel:
    """Stands in for email or WhatsApp when none is configured: the organiser reads it in the browser."""

    def __init__(self, session: Session, channel: str):
        self.session, self.channel = session, channel

    def send(self, message: OutgoingMessage) -> str:
        from workshop.reminders.models import OutboxMessage

        row = OutboxMessage(
            channel=self.channel,
            to=message.to[:254],
            subject=message.subject[:300],
            text=message.text,
            html=message.html,
        )
        self.session.add(row)
        self.session.flush()
        return f"outbox:{row.id}"
