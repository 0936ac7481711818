"""Email over SMTP: STARTTLS and login when configured; connections kept and shared by threads."""

from __future__ import annotations

import secrets
import smtplib
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from workshop.reminders import failures
from workshop.reminders.channels.base import OutgoingMessage, PermanentFailure, TemporaryFailure, shorten

SMTP_TIMEOUT = 30.0
# A kept SMTP connection idle for longer than this is checked with NOOP before it is reused.
SMTP_IDLE_CHECK = 30.0


class _MailPolicy(Compat32):
    """The email package's compat32 rules with CRLF line ends (SMTP), except that a header that
    already fits on one line in plain ASCII is written as it is: compat32 passes every header
    through `email.header.Header` to fold it, about a third of the time to write a mail."""

    def _fold(self, name, value, sanitize):
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) + 2 <= self.max_line_length
            and "\r" not in value
            and "\n" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


MAIL_POLICY = _MailPolicy(linesep="\r\n")
# Text parts in UTF-8, quoted-printable (readable in the raw mail, safe for 7-bit relays).
# MIMEText takes a Charset as well as a name (typeshed says str only): set_payload accepts either.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


@dataclass
class _Connection:
    smtp: smtplib.SMTP
    used_at: float


class EmailChannel:
    """SMTP with STARTTLS and login when configured; kept connections, several at once.

    A scheduler sends many messages in a row: keeping a connection saves a TCP and TLS
    handshake and a login per message. Idle connections wait in a pool that every thread
    shares, so the engine's sender threads (REMINDER_SENDERS) each use their own connection
    at the same time. A kept connection that failed is dropped, never retried here: the delivery
    is retried by the engine, so a message is never sent twice by us.
    """

    concurrent = True  # send() may run in several threads at once (the engine's senders)
    _lock = threading.Lock()
    _idle: dict[tuple, list[_Connection]] = {}  # the kept connections no send is using

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
        self._key = (host, port, use_tls, username)

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

        Built with the email package's `email.mime` classes and written out under MAIL_POLICY
        (compat32 with CRLF): the default policy's header registry parses every header it is
        given, which cost more CPU than the rest of sending a reminder (docs/benchmarks.md).
        """
        address = parseaddr(message.to)[1]
        if "@" not in address or address != message.to.strip() or not address.isascii():
            raise PermanentFailure(f"not an email address: {message.to!r}", code=failures.INVALID_ADDRESS)
        message_id = make_msgid(domain=self.envelope_from.rpartition("@")[2] or None)
        mail: Message = MIMEText(message.text, "plain", _UTF8_QP)  # type: ignore[arg-type]  # see _UTF8_QP
        if message.html is not None:
            html = MIMEText(message.html, "html", _UTF8_QP)  # type: ignore[arg-type]
            mail = _multipart("alternative", [mail, html])
        if message.attachments:
            attachments = [_attachment(name, kind, content) for name, kind, content in message.attachments]
            mail = _multipart("mixed", [mail, *attachments])
        del mail["MIME-Version"]  # set again below, with the message's own headers
        mail["From"] = self.sender
        mail["To"] = address
        # typeshed types header values as str; compat32 takes a Header (RFC 2047 words) too.
        mail["Subject"] = _subject(message.subject)  # type: ignore[assignment]
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = message_id
        mail["MIME-Version"] = "1.0"
        return message_id, mail.as_bytes(policy=MAIL_POLICY)

    def send(self, message: OutgoingMessage) -> str:
        message_id, mail = self.build(message)
        kept: _Connection | None = None
        try:
            kept = self._take()
            refused = kept.smtp.sendmail(self.envelope_from, [message.to.strip()], mail)
        except smtplib.SMTPRecipientsRefused as error:
            _close(kept, quit=True)
            code, reply = next(iter(error.recipients.values()))
            raise _smtp_failure(code, reply, f" for {message.to}") from error
        except smtplib.SMTPResponseException as error:  # sender refused, data refused, login, 421
            _close(kept, quit=True)
            raise _smtp_failure(error.smtp_code, error.smtp_error) from error
        except (smtplib.SMTPException, OSError) as error:  # refused, reset, time-out, TLS
            _close(kept)
            raise TemporaryFailure(
                shorten(f"SMTP {self.host}:{self.port}: {error}"), code=failures.SMTP_UNREACHABLE
            ) from error
        if refused:  # only with several recipients; kept for completeness
            _close(kept, quit=True)
            code, reply = next(iter(refused.values()))
            raise _smtp_failure(code, reply, f" for {message.to}")
        kept.used_at = time.monotonic()
        with self._lock:
            self._idle.setdefault(self._key, []).append(kept)
        return message_id

    def _take(self) -> _Connection:
        """An idle kept connection (checked with NOOP if idle for long), or a new one."""
        while True:
            with self._lock:
                idle = self._idle.get(self._key)
                kept = idle.pop() if idle else None
            if kept is None:
                break
            if time.monotonic() - kept.used_at < SMTP_IDLE_CHECK:
                return kept
            try:
                if kept.smtp.noop()[0] == 250:
                    return kept
            except (smtplib.SMTPException, OSError):
                pass
            _close(kept)
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
        return _Connection(smtp, time.monotonic())

    @classmethod
    def close_all(cls) -> None:
        """Close the kept connections (end of a run, tests)."""
        with cls._lock:
            kept = [connection for idle in cls._idle.values() for connection in idle]
            cls._idle.clear()
        for connection in kept:
            _close(connection, quit=True)


def _close(kept: _Connection | None, *, quit: bool = False) -> None:
    if kept is None:  # the connection itself failed (smtplib closed it)
        return
    try:
        if quit:
            kept.smtp.quit()
        else:
            kept.smtp.close()
    except (smtplib.SMTPException, OSError):
        kept.smtp.close()


def _multipart(subtype: str, parts: list[Message]) -> MIMEMultipart:
    # Quoted-printable and base64 bodies never contain "=_", so this boundary cannot occur in
    # them; given here, the generator need not search the parts for a free one.
    container = MIMEMultipart(subtype, boundary=f"=_{secrets.token_hex(12)}", _subparts=parts)
    for part in parts:
        del part["MIME-Version"]  # once, with the message's own headers
    return container


def _attachment(filename: str, mimetype: str, content: bytes) -> Message:
    if mimetype == "text/calendar":
        part: Message = MIMEText(content.decode(), "calendar", _UTF8_QP)  # type: ignore[arg-type]
        # iMIP (RFC 6047): the METHOD of the calendar object repeated as a parameter.
        part.set_param("method", "PUBLISH")
    else:
        maintype, _, subtype = mimetype.partition("/")
        part = MIMEBase(maintype, subtype)
        part.set_payload(content)
        encoders.encode_base64(part)
    if filename.isascii():
        part.add_header("Content-Disposition", "attachment", filename=filename)
    else:  # RFC 2231
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    return part


def _subject(value: str) -> str | Header:
    """The subject on one line: short ASCII as it is, anything else as RFC 2047 encoded words."""
    value = " ".join(value.split())
    if value.isascii() and len(value) < 900:
        return value
    return Header(value, "utf-8", header_name="Subject")


def _smtp_failure(code: int, reply: bytes | str, recipient: str = "") -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    reason = shorten(f"SMTP {code}{recipient}: {text}")
    if 500 <= code < 600:
        return PermanentFailure(reason, code=failures.SMTP_REFUSED)
    return TemporaryFailure(reason, code=failures.SMTP_DEFERRED)
