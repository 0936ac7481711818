"""Previews of what a participant would receive, test sends, the organiser's own contact."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from workshop.auth.models import User
from workshop.db import Session
from workshop.programs.models import Stage
from workshop.registration import calendar
from workshop.registration.models import Registration
from workshop.reminders.channels import OutgoingMessage, PermanentFailure, TemporaryFailure
from workshop.reminders.messages import locale_for, message_kind, personal_url_for, render
from workshop.reminders.models import (
    ReminderRule,
)
from workshop.reminders.services.common import (
    ChannelProvider,
    ReminderError,
    _reason,
)
from workshop.reminders.services.engine import (
    default_channels,
)

# --- Preview and test sends --------------------------------------------------------------------


def preview(
    stage: Stage,
    registration: Registration,
    config: Mapping[str, Any],
    *,
    kind: str = "reminder",
    rule: ReminderRule | None = None,
    text: str | None = None,
) -> Mapping[str, OutgoingMessage]:
    """What a participant would receive on each channel (rendered as for a real delivery)."""
    return render(
        message_kind(kind, rule),
        registration=registration,
        stage=stage,
        rule_offset=rule.offset if rule is not None else None,
        locale=locale_for(registration),
        personal_url=personal_url_for(registration, config),
        page_url=calendar.page_url(registration, config),
        text=text,
        previous_start=stage.starts_at if kind == "stage_changed" else None,
    )


@dataclass(frozen=True)
class TestSend:
    channel: str
    to: str
    ok: bool
    detail: str  # the provider's reference, or the reason


def send_test(
    session: Session,
    config: Mapping[str, Any],
    stage: Stage,
    registration: Registration,
    *,
    user: User,
    rule: ReminderRule | None,
    channels: ChannelProvider | None = None,
) -> list[TestSend]:
    """Send the preview of `registration`'s reminder to the organiser's own email and WhatsApp.

    No delivery row: this is not a reminder of the participant's. The caller commits (the dev
    outbox writes a row) after this returns; no transaction is open while sending.
    """
    targets = {"email": user.email, "whatsapp": user.phone}
    if not any(targets.values()):
        raise ReminderError("no_own_contact")
    messages = preview(stage, registration, config, rule=rule)
    channels = channels or default_channels(config, session)
    session.commit()  # nothing of ours is open during the sends
    results = []
    for name, to in targets.items():
        if not to:
            continue
        message = replace(messages[name], to=to)
        try:
            reference = channels(name).send(message)
        except (PermanentFailure, TemporaryFailure) as error:
            results.append(TestSend(name, to, False, _reason(error)))
        else:
            results.append(TestSend(name, to, True, str(reference)))
    return results


def set_own_contact(session: Session, user: User, *, email: str, phone: str) -> None:
    user.email = email
    user.phone = phone
    session.flush()
