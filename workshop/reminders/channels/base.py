"""What every channel shares: the message, the two failures and the `send` contract.

Every channel has `.send(OutgoingMessage) -> str`, the provider's reference for the delivery
log. A channel raises `TemporaryFailure` when trying again later may help (gateway 5xx, time-outs,
refused connections, SMTP 4xx) and `PermanentFailure` when it will not (4xx from a gateway, a
refused address); `error.code` says why in a few stable letters (workshop/reminders/failures.py,
translated where it is shown) and `str(error)` gives the provider's own words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from workshop.reminders import failures

# A WhatsApp message may carry the parameters of a Meta template as an attachment of this type:
# {"parameters": ["...", ...]}. Fonnte and the dev outbox ignore it; Meta sends only these.
TEMPLATE_PARAMETERS_TYPE = "application/x-whatsapp-template-parameters+json"
# A WhatsApp message with an (empty) attachment of this type answers the participant's own message:
# Meta sends it as free text, allowed within the day after their message. Fonnte ignores it.
FREE_TEXT_TYPE = "application/x-whatsapp-free-text"
MAX_REASON = 300


class DeliveryFailure(Exception):
    """A send that failed: `code` (failures.py) and the provider's words (str(error))."""

    def __init__(self, reason: str, *, code: str = failures.UNEXPECTED) -> None:
        super().__init__(reason)
        self.code = code


class TemporaryFailure(DeliveryFailure):
    """Retry later with backoff (5xx, time-outs, connection refused, SMTP 4xx)."""


class PermanentFailure(DeliveryFailure):
    """Give up (4xx, bad address)."""


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


def shorten(reason: str) -> str:
    """A provider's reason on one line, at most MAX_REASON characters."""
    reason = " ".join(reason.split())
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 1] + "…"
