"""WhatsApp replies: the inbound message taken once, its sender found, the reply queued.

A sender is matched by their number (E.164) to an approved registration of a programme; the
stage they act on is the one with an open poll, else the one running now. Votes and questions
go through live's own services (the caller runs them); replies go out as Delivery rows of the
reminder engine (`reminders.outreach.send_texts`, kind WHATSAPP_REPLY), never inline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from workshop.auth.models import User
from workshop.db import Session
from workshop.live.models import Poll, PollStatus, PollVote
from workshop.programs.models import Program, Stage
from workshop.registration.models import Person, Registration, Status
from workshop.registration.services import ensure_participant_user
from workshop.reminders import outreach
from workshop.reminders.models import Kind
from workshop.whatsapp.inbound import Incoming
from workshop.whatsapp.models import InboundMessage

# A poll closed this recently is "closed" to a late reply; before that, there is "no poll".
RECENTLY_CLOSED = timedelta(hours=2)
# A reply is no use a few hours later (and Meta's free-form window is a day).
REPLY_WINDOW = timedelta(hours=6)
# A number nobody registered is answered once a day at most, and so many numbers an hour at most
# (the caller's setting): a flood of spoofed numbers cannot spend the gateway's quota.
STRANGER_EVERY = timedelta(hours=24)
STRANGERS_WITHIN = timedelta(hours=1)


@dataclass
class Sender:
    registration: Registration
    user: User | None  # None for a registration not approved: it may not vote or ask
    stage: Stage | None  # where they act: the stage with an open poll, else the running one
    poll: Poll | None  # its open poll
    closed_poll: Poll | None  # else the poll that closed recently

    @property
    def approved(self) -> bool:
        return self.user is not None


def claim(session: Session, incoming: Incoming, now: datetime) -> InboundMessage | None:
    """Record the message once: None when its id was seen before (a repeated webhook)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(InboundMessage)
        .values(
            provider=incoming.provider,
            message_id=incoming.message_id,
            sender=incoming.sender,
            outcome="received",
            received_at=now,
        )
        .on_conflict_do_nothing()
        .returning(InboundMessage.id)
    ).scalar()
    return session.get(InboundMessage, inserted) if inserted is not None else None


def find_sender(session: Session, phone: str, now: datetime) -> Sender | None:
    """The approved registration behind a number, and where it acts now; else the latest
    registration of the number, not approved (no user: it is only answered); None for a number
    nobody registered. A number approved in several programmes acts where a poll is open (the
    latest opened)."""
    if not phone:
        return None
    registrations = list(
        session.scalars(
            select(Registration)
            .join(Person, Person.id == Registration.person_id)
            .where(Person.phone == phone)
            .options(selectinload(Registration.person))
            .order_by(Registration.id)
        )
    )
    if not registrations:
        return None
    if not any(registration.status == Status.APPROVED for registration in registrations):
        return Sender(registrations[-1], None, None, None, None)
    registrations = [registration for registration in registrations if registration.status == Status.APPROVED]
    programs = {registration.program_id: registration for registration in registrations}
    polls = list(
        session.scalars(
            select(Poll)
            .join(Stage, Stage.id == Poll.stage_id)
            .where(Stage.program_id.in_(programs), Poll.opened_at.is_not(None))
            .options(selectinload(Poll.options))
            .order_by(Poll.opened_at.desc(), Poll.id.desc())
        )
    )
    open_poll = next((poll for poll in polls if poll.is_open(now)), None)
    closed = next(
        (poll for poll in polls if poll.shown_status(now) == PollStatus.CLOSED and _closed_since(poll, now)),
        None,
    )
    stage = session.get(Stage, open_poll.stage_id) if open_poll else _running_stage(session, programs, now)
    registration = programs[stage.program_id] if stage else registrations[0]
    if stage is None and closed is not None:
        registration = programs[session.get_one(Stage, closed.stage_id).program_id]
    user = ensure_participant_user(session, registration.person)
    session.flush()
    return Sender(registration, user, stage, open_poll, None if open_poll else closed)


def _closed_since(poll: Poll, now: datetime) -> bool:
    closed_at = poll.closed_at or poll.closes_at
    return closed_at is not None and now - closed_at <= RECENTLY_CLOSED


def _running_stage(session: Session, program_ids: Iterable[int], now: datetime) -> Stage | None:
    return session.scalar(
        select(Stage)
        .where(Stage.program_id.in_(program_ids), Stage.starts_at <= now, Stage.ends_at > now)
        .order_by(Stage.starts_at)
        .limit(1)
    )


def has_voted(session: Session, poll: Poll, registration: Registration) -> bool:
    return (
        session.scalar(
            select(PollVote.poll_id).where(
                PollVote.poll_id == poll.id, PollVote.registration_id == registration.id
            )
        )
        is not None
    )


def finish(
    session: Session,
    inbound: InboundMessage,
    outcome: str,
    *,
    sender: Sender | None,
    reply: dict[str, str] | None,
    now: datetime,
) -> int:
    """Keep what came of the message and queue the reply (language -> text) to a known sender;
    returns how many deliveries were queued. The caller commits."""
    inbound.outcome = outcome[:30]
    if sender is None:
        return 0
    inbound.registration_id = sender.registration.id
    poll = sender.poll or sender.closed_poll
    inbound.poll_id = poll.id if poll else None
    stage = sender.stage or (session.get(Stage, poll.stage_id) if poll else None)
    if stage is None:  # not approved, or nothing running: logged under the programme's next stage
        program = session.get_one(Program, sender.registration.program_id)
        stage = outreach.next_stage(program, now)
    if reply is None or stage is None:
        return 0
    return queue_texts(
        session, stage, [sender.registration], Kind.WHATSAPP_REPLY, reply, now, now + REPLY_WINDOW
    ).deliveries


def stranger_stage(session: Session, now: datetime) -> Stage | None:
    """Where the answer to an unknown number is logged (and whose registration page it points
    to): the running or next stage of any programme, else the last one that ended."""
    upcoming = session.scalar(select(Stage).where(Stage.ends_at > now).order_by(Stage.starts_at).limit(1))
    return upcoming or session.scalar(select(Stage).order_by(Stage.ends_at.desc()).limit(1))


def answer_stranger(
    session: Session,
    inbound: InboundMessage,
    stage: Stage,
    texts: dict[str, str],
    now: datetime,
    *,
    per_hour: int,
) -> bool:
    """Queue the answer to an unknown number unless it got one in the last 24 hours, or `per_hour`
    unknown numbers were answered in the last hour; the message is recorded either way
    ("unknown_number" answered, "unknown_repeat" or "unknown_capped" not). The caller commits."""
    if session.get_bind().dialect.name == "postgresql":  # webhooks at once: counted one after another
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": "wa:strangers"})
    answered = session.scalar(
        select(InboundMessage.id)
        .where(
            InboundMessage.sender == inbound.sender,
            InboundMessage.outcome == "unknown_number",
            InboundMessage.received_at > now - STRANGER_EVERY,
            InboundMessage.id != inbound.id,
        )
        .limit(1)
    )
    if answered is not None or not inbound.sender:
        inbound.outcome = "unknown_repeat"
        return False
    if answered_within(session, STRANGERS_WITHIN, now) >= per_hour:
        inbound.outcome = "unknown_capped"
        return False
    inbound.outcome = "unknown_number"
    outreach.send_to_number(session, stage, inbound.sender, texts=texts, now=now, late_at=now + REPLY_WINDOW)
    return True


def queue_texts(
    session: Session,
    stage: Stage | None,
    registrations: list[Registration],
    kind: Kind,
    texts: dict[str, str],
    now: datetime,
    late_at: datetime,
) -> outreach.Queued:
    """WhatsApp messages through the reminder engine, logged under the stage."""
    program = session.get_one(Program, registrations[0].program_id)
    return outreach.send_texts(
        session,
        program,
        registrations,
        kind,
        texts=texts,
        channels=["whatsapp"],
        actor=None,
        base_url="",
        now=now,
        stage=stage,
        late_at=late_at,
    )


def answered_within(session: Session, window: timedelta, now: datetime) -> int:
    """How many unknown numbers were answered within `window` before `now`."""
    return (
        session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.outcome == "unknown_number", InboundMessage.received_at > now - window)
        )
        or 0
    )


def prune_inbound(session: Session, before: datetime) -> int:
    """Forget the inbound messages received before `before`; returns how many. A forgotten
    message's id no longer makes its repeat count once: keep them longer than a gateway retries."""
    result = session.execute(delete(InboundMessage).where(InboundMessage.received_at < before))
    assert isinstance(result, CursorResult)  # what a DELETE gives
    return result.rowcount
