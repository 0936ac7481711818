"""Channels that write rows: the in-app notice and the dev outbox.

They only add and flush through the given session: the caller commits them with the "sent" mark.
"""

from __future__ import annotations

import json

from workshop.db import Session
from workshop.reminders import failures
from workshop.reminders.channels.base import OutgoingMessage, PermanentFailure


class InAppChannel:
    """A notice on the participant's page (the caller pushes it over Socket.IO after commit)."""

    def __init__(self, session: Session):
        self.session = session

    def send(self, message: OutgoingMessage) -> str:
        from workshop.registration.models import Notice

        if not message.to.isdigit():
            raise PermanentFailure(f"not a registration id: {message.to!r}", code=failures.INVALID_ADDRESS)
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
