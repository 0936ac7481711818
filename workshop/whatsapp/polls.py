"""WhatsApp polls: the stage's switch, each participant's choice, the question sent when a poll
opens, and what the organiser's control page shows of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from workshop.db import Session
from workshop.groups.queries import group_members
from workshop.live.models import Poll
from workshop.programs.models import Stage
from workshop.programs.schedule import Phase, stage_phase
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status
from workshop.reminders.models import Delivery, Kind
from workshop.whatsapp.models import WhatsAppParticipant, WhatsAppPoll, WhatsAppStage
from workshop.whatsapp.services import REPLY_WINDOW, queue_texts


def polls_enabled(session: Session, stage: Stage) -> bool:
    row = session.get(WhatsAppStage, stage.id)
    return bool(row and row.polls_enabled)


def set_polls_enabled(session: Session, stage: Stage, enabled: bool, now: datetime) -> None:
    row = session.get(WhatsAppStage, stage.id)
    if row is None:
        row = WhatsAppStage(stage_id=stage.id)
        session.add(row)
    row.polls_enabled, row.updated_at = enabled, now
    session.flush()


def _chose_polls(stage: Stage) -> Select[tuple[Registration]]:
    """The stage's approved participants with a number who chose polls by WhatsApp
    (`WhatsAppParticipant`, on their live page), in the hall or online."""
    return (
        select(Registration)
        .join(
            RegistrationStage,
            (RegistrationStage.registration_id == Registration.id) & (RegistrationStage.stage_id == stage.id),
        )
        .join(Person, Person.id == Registration.person_id)
        .join(WhatsAppParticipant, WhatsAppParticipant.registration_id == Registration.id)
        .where(
            Registration.program_id == stage.program_id,
            Registration.status == Status.APPROVED,
            WhatsAppParticipant.polls.is_(True),
            Person.phone != "",
        )
    )


def poll_recipients(session: Session, stage: Stage) -> list[Registration]:
    """Who gets a poll's question by WhatsApp: those who chose it and join this stage online."""
    return list(
        session.scalars(
            _chose_polls(stage)
            .where(RegistrationStage.mode == Mode.DARING)
            .options(selectinload(Registration.person))
            .order_by(Registration.id)
        )
    )


def poll_choosers(session: Session, stage: Stage) -> int:
    """How many of the stage's participants chose polls by WhatsApp, those in the hall too (they
    answer on the page in this stage)."""
    return session.scalar(select(func.count()).select_from(_chose_polls(stage).subquery())) or 0


def participant_polls_refusal(
    registration: Registration, stage: Stage | None = None, now: datetime | None = None
) -> str | None:
    """Why a registration may not choose WhatsApp polls ("not_approved", "no_phone"; "stage_ended"
    when chosen on the live page of a stage of its programme that had ended at `now`, for which no
    poll goes out any more), or None."""
    if registration.status != Status.APPROVED:
        return "not_approved"
    if not registration.person.phone:
        return "no_phone"
    if (
        stage is not None
        and now is not None
        and stage.program_id == registration.program_id
        and stage_phase(stage, now) == Phase.ENDED
    ):
        return "stage_ended"
    return None


def participant_polls(session: Session, registration: Registration) -> bool:
    """Whether the participant chose to get polls by WhatsApp."""
    choice = session.get(WhatsAppParticipant, registration.id)
    return bool(choice and choice.polls)


def set_participant_polls(
    session: Session, registration: Registration, enabled: bool, now: datetime, *, stage: Stage | None = None
) -> str | None:
    """The participant's own choice to get polls by WhatsApp, made on the live page of `stage` (if
    known); returns the refusal (nothing changed) or None. The caller commits."""
    refusal = participant_polls_refusal(registration, stage, now)
    if refusal is None:
        choice = session.get(WhatsAppParticipant, registration.id)
        if choice is None:
            choice = WhatsAppParticipant(registration_id=registration.id)
            session.add(choice)
        choice.polls, choice.updated_at = enabled, now
        session.flush()
    return refusal


def stop_polls(session: Session, phone: str, now: datetime) -> int:
    """A "STOP" by WhatsApp: every registration of the number stops getting polls; how many did."""
    choices = session.scalars(
        select(WhatsAppParticipant)
        .join(Registration, Registration.id == WhatsAppParticipant.registration_id)
        .join(Person, Person.id == Registration.person_id)
        .where(Person.phone == phone, WhatsAppParticipant.polls.is_(True))
    ).all()
    for choice in choices:
        choice.polls, choice.updated_at = False, now
    session.flush()
    return len(choices)


def send_poll(session: Session, poll: Poll, texts: dict[str, str], now: datetime) -> WhatsAppPoll | None:
    """Queue the poll's question to the stage's online participants, once per poll (None when the
    stage's WhatsApp polls are off or it went out before). The caller commits."""
    stage = session.get_one(Stage, poll.stage_id)
    if not polls_enabled(session, stage) or session.get(WhatsAppPoll, poll.id) is not None:
        return None
    recipients = poll_recipients(session, stage)
    if poll.group_id is not None:  # a group's poll (workshop/groups): to its members only
        members = group_members(session, {poll.group_id}, {registration.id for registration in recipients})
        recipients = [
            registration for registration in recipients if (poll.group_id, registration.id) in members
        ]
    sent = WhatsAppPoll(poll_id=poll.id, recipients=0, created_at=now)
    if recipients:
        late_at = poll.closes_at or now + REPLY_WINDOW
        queued = queue_texts(session, stage, recipients, Kind.POLL_QUESTION, texts, now, late_at)
        sent.recipients = queued.deliveries
        sent.participant_message_id = queued.message_id
    session.add(sent)
    session.flush()
    return sent


@dataclass
class StageSummary:
    enabled: bool
    polls: int  # polls whose question went out
    recipients: int  # messages queued for the latest one
    sent: int  # of those, sent


def summary(session: Session, stage: Stage) -> StageSummary:
    rows = list(
        session.scalars(
            select(WhatsAppPoll)
            .join(Poll, Poll.id == WhatsAppPoll.poll_id)
            .where(Poll.stage_id == stage.id)
            .order_by(WhatsAppPoll.created_at.desc())
        )
    )
    latest = rows[0] if rows else None
    sent = 0
    if latest is not None and latest.participant_message_id is not None:
        sent = len(
            session.scalars(
                select(Delivery.id).where(
                    Delivery.participant_message_id == latest.participant_message_id,
                    Delivery.sent_at.is_not(None),
                )
            ).all()
        )
    return StageSummary(
        enabled=polls_enabled(session, stage),
        polls=len(rows),
        recipients=latest.recipients if latest else 0,
        sent=sent,
    )
