"""Where reminders go out: email over SMTP (`mail`), WhatsApp through an HTTP gateway
(`whatsapp`), in-app notices and the dev outbox (`local`); what they share is in `base`.

Without SMTP_HOST (email) or WHATSAPP_API_URL (WhatsApp) the message is written to the dev outbox
instead, so a demo shows what would be sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from workshop.db import Session
from workshop.reminders.channels.base import (
    FREE_TEXT_TYPE,
    TEMPLATE_PARAMETERS_TYPE,
    Channel,
    DeliveryFailure,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
)
from workshop.reminders.channels.local import DevOutboxChannel, InAppChannel
from workshop.reminders.channels.mail import EmailChannel
from workshop.reminders.channels.whatsapp import (
    WHATSAPP_PROVIDERS,
    FonnteChannel,
    MetaCloudChannel,
    whatsapp_number,
)

__all__ = [
    "FREE_TEXT_TYPE",
    "TEMPLATE_PARAMETERS_TYPE",
    "WHATSAPP_PROVIDERS",
    "Channel",
    "DeliveryFailure",
    "DevOutboxChannel",
    "EmailChannel",
    "FonnteChannel",
    "InAppChannel",
    "MetaCloudChannel",
    "OutgoingMessage",
    "PermanentFailure",
    "TemporaryFailure",
    "channel_for",
    "whatsapp_number",
]


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
