"""Messages to chosen participants, outside the reminder rules: their personal link ("Kirim
tautan", to one person or to a filtered list) and the news of a status change (approved, on the
waiting list, moved up from it), which goes out by itself when the organiser switched that on.

The words are the organiser's (MessageTemplate, Indonesian and English, standard texts until
edited). Each sending freezes them in a ParticipantMessage whose Delivery rows the reminder engine
sends like any other (WhatsApp, email; dev outbox without either), logged under the programme's
next stage. Services flush; the caller commits, then wakes the scheduler (jobs.wake).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session
from workshop.i18n import LANGUAGES
from workshop.programs.models import Program, Stage
from workshop.registration.models import Registration, Status
from workshop.registration.services import StatusChange
from workshop.reminders.models import (
    PARTICIPANT_CHANNELS,
    Delivery,
    Kind,
    MessageTemplate,
    ParticipantMessage,
)
from workshop.reminders.services import LINK_KINDS, ReminderError, insert_deliveries

# Not sent more than a day late (a gateway down overnight): old news would confuse more than help.
WINDOW = timedelta(hours=24)
STANDARD_TEXTS = {
    Kind.PERSONAL_LINK: _l(
        "Here is your personal link for %(program)s. Open it on your phone: it shows your schedule, "
        "how you take part in each stage, your ticket for the hall and the meeting link. "
        "No password is needed."
    ),
    Kind.APPROVED: _l(
        "Your registration for %(program)s is approved. Welcome! Your personal link below opens your "
        "schedule, your ticket for the hall and the meeting link."
    ),
    Kind.WAITLISTED: _l(
        "Thank you for registering for %(program)s. For now you are on the waiting list: we will "
        "message you as soon as a place is free."
    ),
    Kind.PROMOTED: _l(
        "Good news: a place has become free and your registration for %(program)s is now approved. "
        "Your personal link below opens your schedule, your ticket for the hall and the meeting link."
    ),
    Kind.CERTIFICATE: _l(
        "Your certificate (e-sertifikat) for %(program)s is ready. Open your personal link below to "
        "download it."
    ),
    Kind.QUESTION_CARRIED: _l(
        "Your question at %(program)s could not be answered in its stage: it has been carried to the "
        "next stage, where the speakers see it first. Open your personal link below to follow it."
    ),
}
STATUS_KINDS = (Kind.APPROVED, Kind.WAITLISTED, Kind.PROMOTED)


@dataclass
class MessageSettings:
    """A programme's words for one kind of message, its channels, and whether it goes by itself."""

    kind: Kind
    texts: dict[str, str]  # language -> text
    channels: list[str]
    automatic: bool


@dataclass
class Queued:
    """What a sending put on its way, and who it could not reach, and why."""

    deliveries: int = 0
    channels: list[str] = field(default_factory=list)  # those that carry at least one message
    reached: list[Registration] = field(default_factory=list)
    skipped: dict[str, list[Registration]] = field(default_factory=dict)  # reason -> registrations
    message_id: int | None = None  # the ParticipantMessage its deliveries carry

    def skip(self, reason: str, registration: Registration) -> None:
        self.skipped.setdefault(reason, []).append(registration)


def standard_text(kind: Kind, program: Program, language: str) -> str:
    with force_locale(language):
        return str(STANDARD_TEXTS[kind] % {"program": program.title})


def settings_for(session: Session, program: Program) -> dict[Kind, MessageSettings]:
    saved = {
        row.kind: row
        for row in session.scalars(select(MessageTemplate).where(MessageTemplate.program_id == program.id))
    }
    settings = {}
    for kind in STANDARD_TEXTS:
        row = saved.get(kind)
        stored = {"id": row.text_id, "en": row.text_en} if row else {}
        settings[kind] = MessageSettings(
            kind=kind,
            texts={
                language: stored.get(language) or standard_text(kind, program, language)
                for language in LANGUAGES
            },
            channels=_known_channels(row.channels.split(",")) if row else list(PARTICIPANT_CHANNELS),
            automatic=bool(row and row.automatic),
        )
    return settings


def _known_channels(names: Iterable[str]) -> list[str]:
    """The channels a message to participants can take, of `names`, in their usual order."""
    wanted = set(names)
    return [name for name in PARTICIPANT_CHANNELS if name in wanted]


def save_settings(
    session: Session,
    program: Program,
    kind: Kind,
    *,
    texts: dict[str, str],
    channels: Iterable[str],
    automatic: bool,
    actor: User | None,
    now: datetime,
) -> None:
    """Keep the organiser's words; an empty text means the standard one."""
    chosen = _known_channels(channels)
    if not chosen:
        raise ReminderError("no_channel", "channels")
    row = session.get(MessageTemplate, (program.id, kind))
    if row is None:
        row = MessageTemplate(program_id=program.id, kind=kind)
        session.add(row)
    row.text_id = texts.get("id", "").strip()
    row.text_en = texts.get("en", "").strip()
    row.channels = ",".join(chosen)
    row.automatic = automatic and kind in STATUS_KINDS
    row.updated_by_id = actor.id if actor is not None else None
    row.updated_at = now
    session.flush()
    audit.record(session, actor, "message_template.save", f"program:{program.id}", kind.value)


def next_stage(program: Program, now: datetime) -> Stage | None:
    """The stage a message about the programme points to: the running or next one, else the last."""
    for stage in program.stages:
        if stage.ends_at > now:
            return stage
    return program.stages[-1] if program.stages else None


def send(
    session: Session,
    program: Program,
    registrations: Sequence[Registration],
    kind: Kind,
    *,
    channels: Iterable[str] | None = None,
    actor: User | None,
    base_url: str,
    now: datetime,
) -> Queued:
    """Queue `kind` for each registration that it is for and that has an address on one of the
    channels (the programme's choice when None). Nothing is queued for the others: the result
    says who and why ("not_approved", "no_link", "not_waitlisted", "no_address")."""
    settings = settings_for(session, program)[kind]
    return send_texts(
        session,
        program,
        registrations,
        kind,
        texts=settings.texts,
        channels=settings.channels if channels is None else channels,
        actor=actor,
        base_url=base_url,
        now=now,
    )


def send_texts(
    session: Session,
    program: Program,
    registrations: Sequence[Registration],
    kind: Kind,
    *,
    texts: dict[str, str],
    channels: Iterable[str],
    actor: User | None,
    base_url: str,
    now: datetime,
    stage: Stage | None = None,
    late_at: datetime | None = None,
) -> Queued:
    """`send` with the words given (language -> text), about `stage` (None: the programme's next
    one), not sent after `late_at` (a day after `now` at the latest): for the messages another
    feature writes (an assignment's review, its reminder)."""
    chosen = _known_channels(channels)
    if not chosen:
        raise ReminderError("no_channel", "channels")
    stage = stage or next_stage(program, now)
    if stage is None:
        raise ReminderError("no_stage")
    queued = Queued()
    addressed: dict[str, list[int]] = {name: [] for name in chosen}
    for registration in registrations:
        reason = _why_not(registration, kind)
        on = [name for name in chosen if _address(registration, name)]
        if reason is None and not on:
            reason = "no_address"
        if reason is not None:
            queued.skip(reason, registration)
            continue
        queued.reached.append(registration)
        for name in on:
            addressed[name].append(registration.id)
    if not queued.reached:
        return queued
    message = ParticipantMessage(
        program_id=program.id,
        kind=kind,
        author_id=actor.id if actor is not None else None,
        text_id=texts["id"],
        text_en=texts["en"],
        base_url=base_url,
        created_at=now,
    )
    session.add(message)
    session.flush()
    queued.message_id = message.id
    queued.channels = [name for name, ids in addressed.items() if ids]
    for name in queued.channels:
        queued.deliveries += insert_deliveries(
            session,
            stage=stage,
            registrations=select(Registration.id).where(Registration.id.in_(addressed[name])),
            kind=kind,
            channel=name,
            due_at=now,
            late_at=min(now + WINDOW, late_at) if late_at is not None else now + WINDOW,
            now=now,
            participant_message_id=message.id,
        )
    audit.record(
        session,
        actor,
        f"message.{kind.value}",
        f"program:{program.id}",
        f"{len(queued.reached)} participants, {queued.deliveries} deliveries",
    )
    return queued


def send_to_number(
    session: Session,
    stage: Stage,
    phone: str,
    *,
    texts: dict[str, str],
    now: datetime,
    late_at: datetime,
) -> Delivery:
    """A WhatsApp reply to a number nobody registered (E.164 in `phone`), logged under `stage`:
    one delivery without a registration, sent by the engine to `recipient` in the default
    language. The caller limits how often (it answers a stranger)."""
    message = ParticipantMessage(
        program_id=stage.program_id,
        kind=Kind.WHATSAPP_REPLY,
        author_id=None,
        text_id=texts["id"],
        text_en=texts["en"],
        base_url="",
        created_at=now,
    )
    session.add(message)
    session.flush()
    delivery = Delivery(
        kind=Kind.WHATSAPP_REPLY,
        participant_message_id=message.id,
        stage_id=stage.id,
        registration_id=None,
        channel="whatsapp",
        due_at=now,
        late_at=min(now + WINDOW, late_at),
        next_attempt_at=now,
        recipient=phone,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def _why_not(registration: Registration, kind: Kind) -> str | None:
    if kind == Kind.WHATSAPP_REPLY:  # the answer to whoever wrote, approved or not
        return None
    if kind == Kind.WAITLISTED:
        return None if registration.status == Status.WAITLISTED else "not_waitlisted"
    if registration.status != Status.APPROVED:
        return "not_approved"
    if kind in LINK_KINDS and registration.link_nonce is None:
        return "no_link"
    return None


def _address(registration: Registration, channel: str) -> str:
    person = registration.person
    return person.phone if channel == "whatsapp" else person.email


def announce_status_changes(
    session: Session,
    program: Program,
    changes: Sequence[StatusChange],
    *,
    actor: User | None,
    base_url: str,
    now: datetime,
) -> int:
    """The news of each change, for the kinds the organiser set to go out by itself; returns how
    many messages were queued."""
    news: dict[Kind, list[Registration]] = {kind: [] for kind in STATUS_KINDS}
    for change in changes:
        if change.status != change.previous and change.status == Status.APPROVED:
            news[Kind.APPROVED].append(change.registration)
        elif change.status != change.previous and change.status == Status.WAITLISTED:
            news[Kind.WAITLISTED].append(change.registration)
        news[Kind.PROMOTED].extend(change.promoted)
    settings = settings_for(session, program)
    return sum(
        send(session, program, registrations, kind, actor=actor, base_url=base_url, now=now).deliveries
        for kind, registrations in news.items()
        if registrations and settings[kind].automatic
    )


def history(session: Session, registration: Registration, limit: int = 50) -> list[Delivery]:
    """Every message to one participant (reminders too), newest first: their page's delivery log."""
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.registration_id == registration.id)
            .options(selectinload(Delivery.stage), selectinload(Delivery.rule))
            .order_by(Delivery.created_at.desc(), Delivery.id.desc())
            .limit(limit)
        )
    )
