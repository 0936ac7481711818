"""Rendering a claimed batch: each delivery's message for its channel (rendered once per
registration and message, shared by its channels), or the problem that stops it being sent."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workshop.auth.models import User
from workshop.db import Session
from workshop.programs.models import Stage
from workshop.registration import calendar
from workshop.registration.models import Person, Registration
from workshop.reminders import failures
from workshop.reminders.channels import (
    FREE_TEXT_TYPE,
    OutgoingMessage,
)
from workshop.reminders.messages import locale_for, message_kind, personal_url_for, render
from workshop.reminders.models import (
    Delivery,
    Kind,
)
from workshop.reminders.services.common import (
    LINK_KINDS,
    _reason,
)

log = logging.getLogger(__name__)


@dataclass
class Outgoing:
    """A claimed delivery and its rendered message, plain data (no ORM objects)."""

    delivery_id: int
    stage_id: int
    registration_id: int | None  # None: a reply to a bare number (see `_to_number`)
    kind: Kind
    channel: str
    late_at: datetime
    attempts: int
    user_id: int | None
    message: OutgoingMessage | None  # None when there is a problem
    problem: str = ""  # why it cannot be sent at all: a failure code (e.g. no email address)
    problem_detail: str = ""  # and the words of the error behind it, if any

    @property
    def recipient(self) -> str:
        assert self.message is not None  # asked only of a message that could be rendered
        return self.message.to


def render_claimed(session: Session, config: Mapping[str, Any], ids: list[int]) -> list[Outgoing]:
    deliveries = session.scalars(
        select(Delivery)
        .where(Delivery.id.in_(ids))
        .options(
            selectinload(Delivery.rule),
            selectinload(Delivery.announcement),
            selectinload(Delivery.stage_move),
            selectinload(Delivery.participant_message),
            selectinload(Delivery.stage).selectinload(Stage.program),
            selectinload(Delivery.registration).selectinload(Registration.person).selectinload(Person.user),
            selectinload(Delivery.registration).selectinload(Registration.stage_modes),
        )
        .order_by(Delivery.id)
    ).all()
    rendered: dict[tuple[Any, ...], Mapping[str, OutgoingMessage]] = {}
    result = []
    for delivery in deliveries:
        registration = delivery.registration
        if registration is None:
            result.append(_to_number(delivery))
            continue
        key = (
            registration.id,
            delivery.stage_id,
            delivery.kind,
            delivery.rule_id,
            delivery.announcement_id,
            delivery.stage_move_id,
            delivery.participant_message_id,
        )
        problem = problem_detail = ""
        message = None
        try:
            locale = locale_for(registration)
            text, link = _text_and_link(delivery, registration, locale, config)
            if key not in rendered:
                rendered[key] = render(
                    message_kind(delivery.kind.value, delivery.rule),
                    registration=registration,
                    stage=delivery.stage,
                    rule_offset=delivery.rule.offset if delivery.rule else None,
                    locale=locale,
                    personal_url=link,
                    page_url=calendar.page_url(registration, config),
                    text=text,
                    previous_start=delivery.stage_move.previous_start if delivery.stage_move else None,
                )
            message = rendered[key].get(delivery.channel)
            if delivery.kind in LINK_KINDS and link is None:
                problem = failures.NO_LINK
            elif message is None:
                problem, problem_detail = failures.NO_MESSAGE, delivery.channel
            elif not message.to:
                problem = {"email": failures.NO_EMAIL, "whatsapp": failures.NO_PHONE}.get(
                    delivery.channel, failures.NO_RECIPIENT
                )
        except Exception as error:  # a template bug must not stop the other deliveries
            log.exception("rendering delivery %s failed", delivery.id)
            problem, problem_detail = failures.RENDER_FAILED, _reason(error)
        user = registration.person.user if registration.person else None
        result.append(
            Outgoing(
                delivery_id=delivery.id,
                stage_id=delivery.stage_id,
                registration_id=registration.id,
                kind=delivery.kind,
                channel=delivery.channel,
                late_at=delivery.late_at,
                attempts=delivery.attempts,
                user_id=user.id if isinstance(user, User) else None,
                message=message,
                problem=problem,
                problem_detail=problem_detail,
            )
        )
    return result


def _to_number(delivery: Delivery) -> Outgoing:
    """A WhatsApp reply to a number nobody registered: the message's words in the default
    language, to the number kept in `recipient`; nothing else to render."""
    sent = delivery.participant_message
    message = None
    problem = failures.NO_MESSAGE
    if sent is not None and delivery.channel == "whatsapp" and delivery.recipient:
        text = sent.text_id  # Indonesian, the default: we do not know their language
        free_text = (("reply.txt", FREE_TEXT_TYPE, b""),)  # an answer to their message, not a template
        message = OutgoingMessage(
            channel="whatsapp", to=delivery.recipient, subject="", text=text, attachments=free_text
        )
        problem = ""
    return Outgoing(
        delivery_id=delivery.id,
        stage_id=delivery.stage_id,
        registration_id=None,
        kind=delivery.kind,
        channel=delivery.channel,
        late_at=delivery.late_at,
        attempts=delivery.attempts,
        user_id=None,
        message=message,
        problem=problem,
        problem_detail=delivery.channel if problem else "",
    )


def _text_and_link(
    delivery: Delivery, registration: Registration, locale: str, config: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    """The organiser's words in a delivery (an announcement, a message to chosen participants) and
    the participant's personal link, if this kind of message carries one."""
    if delivery.participant_message is not None:
        sent = delivery.participant_message
        link = personal_url_for(registration, config, base_url=sent.base_url)
        return sent.text_for(locale), link if delivery.kind in LINK_KINDS else None
    text = delivery.announcement.text if delivery.announcement else None
    return text, personal_url_for(registration, config)
