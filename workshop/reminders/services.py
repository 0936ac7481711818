"""The reminder engine: rules, expansion into deliveries, claiming, sending, retries, late marking.

The database is the source of truth. A periodic job (jobs.py) calls `tick`, which

1. creates the default rules of programmes that have an upcoming stage and none yet;
2. expands every due (rule, stage) pair into Delivery rows, one per (rule, stage, registration,
   channel), with `INSERT ... SELECT ... ON CONFLICT DO NOTHING`: running it twice, or in two
   processes at once, gives the same rows;
3. gives back deliveries whose claim (lease) ran out (a crashed worker), marks late the pending
   ones whose moment passed by more than their window;
4. drains: claims a batch atomically (SQLite: a conditional UPDATE ... RETURNING inside BEGIN
   IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED), commits the claim, renders and
   sends each message outside any transaction, and marks each one in its own short transaction.

A delivery can therefore be sent twice only if its worker died between the send and the mark:
at most the deliveries in flight at that moment (one batch).

Services take the session and the time explicitly (`now`, or `clock` for the send loop, which
reads the time as it goes); tests drive them with a controllable clock.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session, selectinload

from workshop import audit
from workshop.auth.models import User
from workshop.db import sqlite_write_intent
from workshop.errors import ServiceError
from workshop.extensions import socketio
from workshop.programs.models import Program, Stage
from workshop.realtime import staff_room, user_room
from workshop.registration import calendar
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status
from workshop.reminders.channels import PermanentFailure, TemporaryFailure, channel_for
from workshop.reminders.messages import locale_for, personal_url_for, render
from workshop.reminders.models import (
    CHANNELS,
    Announcement,
    Audience,
    Delivery,
    DeliveryStatus,
    Kind,
    ParticipantMessage,
    ReminderExpansion,
    ReminderRule,
    ReminderRuleOverride,
    ReminderSettings,
    SchedulerHeartbeat,
    StageMove,
)

log = logging.getLogger(__name__)

DAY = 24 * 60
# Created with a programme's first use: 3 days, 1 day and 1 hour before each stage starts.
DEFAULT_RULES = (
    {"offset_minutes": 3 * DAY, "window_minutes": 12 * 60, "channels": ("whatsapp", "email", "inapp")},
    {"offset_minutes": DAY, "window_minutes": 12 * 60, "channels": ("whatsapp", "email", "inapp")},
    {"offset_minutes": 60, "window_minutes": None, "channels": ("whatsapp", "inapp")},  # until the start
)
ANNOUNCEMENT_WINDOW = timedelta(hours=12)
# Messages to chosen participants that must carry the personal link (not the waiting-list news).
LINK_KINDS = frozenset({Kind.PERSONAL_LINK, Kind.APPROVED, Kind.PROMOTED})
CHANGE_NOTICE_MIN_WINDOW = timedelta(hours=1)
HEARTBEAT_KEEP = timedelta(days=1)
RETRY_CAP = timedelta(hours=1)
MAX_REASON = 500

Channel = Any  # has .send(OutgoingMessage) -> str (workshop.reminders.channels)
ChannelProvider = Callable[[str], Channel]
Clock = Callable[[], datetime]


class ReminderError(ServiceError):
    """A refused rule, announcement or test send."""


@dataclass(frozen=True)
class EngineSettings:
    batch_size: int = 50
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=60)

    @classmethod
    def from_config(cls, config: Mapping) -> EngineSettings:
        return cls(
            batch_size=int(config.get("REMINDER_BATCH_SIZE", 50)),
            lease=timedelta(seconds=int(config.get("REMINDER_LEASE_SECONDS", 300))),
            max_attempts=int(config.get("REMINDER_MAX_ATTEMPTS", 5)),
            retry_base=timedelta(seconds=int(config.get("REMINDER_RETRY_SECONDS", 60))),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait before attempt `attempts + 1`: base, 2 x base, 4 x base, ... at most an hour."""
        return min(self.retry_base * (2 ** (attempts - 1)), RETRY_CAP)


@dataclass
class DrainResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    late: int = 0
    cancelled: int = 0
    lost: int = 0  # sent, but the claim had been taken over meanwhile (lease ran out)
    stage_ids: set[int] = field(default_factory=set)

    def add(self, other: DrainResult) -> None:
        for name in ("claimed", "sent", "retrying", "failed", "late", "cancelled", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.stage_ids |= other.stage_ids


@dataclass
class TickResult:
    defaults_created: int = 0
    expanded: int = 0
    released: int = 0
    late: int = 0
    drained: DrainResult = field(default_factory=DrainResult)


# --- Dialect helpers ---------------------------------------------------------------------------


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _insert(session: Session, model):
    """INSERT with ON CONFLICT support: SQLAlchemy's SQLite or PostgreSQL dialect insert."""
    if _dialect(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _typed(value, column):
    return literal(value, type_=column.type)


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:MAX_REASON]


# --- Rules -------------------------------------------------------------------------------------


def _channels_text(channels: Iterable[str]) -> str:
    chosen = [name for name in CHANNELS if name in set(channels)]
    if not chosen:
        raise ReminderError("no_channel", "channels")
    return ",".join(chosen)


def ensure_default_rules(session: Session, program: Program, now: datetime) -> bool:
    """Create the default rules on a programme's first use; False when it had been set up already.

    Safe in two processes at once: the settings row is inserted with ON CONFLICT DO NOTHING and
    only the process whose insert took effect creates the rules.
    """
    inserted = session.execute(
        _insert(session, ReminderSettings)
        .values(program_id=program.id, created_at=now)
        .on_conflict_do_nothing()
        .returning(ReminderSettings.program_id)
    ).all()
    if not inserted:
        return False
    for rule in DEFAULT_RULES:
        session.add(
            ReminderRule(
                program_id=program.id,
                offset_minutes=rule["offset_minutes"],
                window_minutes=rule["window_minutes"],
                channels=_channels_text(rule["channels"]),
                audience=Audience.ALL,
                created_at=now,
            )
        )
    session.flush()
    return True


def is_set_up(session: Session, program: Program) -> bool:
    return session.get(ReminderSettings, program.id) is not None


def ensure_defaults_for_upcoming(session: Session, now: datetime) -> int:
    """Programmes with a stage still to start and no reminder set-up get the default rules."""
    programs = session.scalars(
        select(Program).where(
            exists().where(Stage.program_id == Program.id, Stage.starts_at > now),
            ~exists().where(ReminderSettings.program_id == Program.id),
        )
    ).all()
    return sum(ensure_default_rules(session, program, now) for program in programs)


def rules_for(session: Session, program: Program) -> list[ReminderRule]:
    return list(
        session.scalars(
            select(ReminderRule)
            .where(ReminderRule.program_id == program.id)
            .options(selectinload(ReminderRule.overrides))
            .order_by(ReminderRule.stage_id.is_not(None), ReminderRule.offset_minutes.desc(), ReminderRule.id)
        )
    )


def create_rule(
    session: Session,
    program: Program,
    *,
    stage: Stage | None,
    offset_minutes: int,
    window_minutes: int | None,
    channels: Iterable[str],
    audience: Audience,
    actor: User | None,
    now: datetime,
) -> ReminderRule:
    _check_rule(offset_minutes, window_minutes)
    if stage is not None and stage.program_id != program.id:
        raise ReminderError("wrong_stage", "stage_id")
    ensure_default_rules(session, program, now)  # a first rule is a first use
    rule = ReminderRule(
        program_id=program.id,
        stage_id=stage.id if stage else None,
        offset_minutes=offset_minutes,
        window_minutes=window_minutes,
        channels=_channels_text(channels),
        audience=audience,
        created_at=now,
    )
    session.add(rule)
    session.flush()
    audit.record(session, actor, "reminder.rule.create", f"reminder_rule:{rule.id}", describe_rule(rule))
    return rule


def update_rule(
    session: Session,
    rule: ReminderRule,
    *,
    offset_minutes: int,
    window_minutes: int | None,
    channels: Iterable[str],
    audience: Audience,
    active: bool,
    actor: User | None,
) -> None:
    """Change a rule. Its deliveries not yet sent are dropped and expanded again as the rule now
    says (a changed moment moves them; a channel or an audience taken out removes them)."""
    _check_rule(offset_minutes, window_minutes)
    rule.offset_minutes = offset_minutes
    rule.window_minutes = window_minutes
    rule.channels = _channels_text(channels)
    rule.audience = audience
    rule.active = active
    session.execute(
        delete(ReminderExpansion).where(ReminderExpansion.rule_id == rule.id),
    )
    _drop_pending(session, Delivery.rule_id == rule.id)
    session.flush()
    audit.record(session, actor, "reminder.rule.update", f"reminder_rule:{rule.id}", describe_rule(rule))


def _check_rule(offset_minutes: int, window_minutes: int | None) -> None:
    if offset_minutes < 0:
        raise ReminderError("negative_offset", "offset")
    if window_minutes is not None and window_minutes < 1:
        raise ReminderError("window_too_short", "window")


def set_rule_for_stage(
    session: Session, rule: ReminderRule, stage: Stage, *, enabled: bool, actor: User | None
) -> None:
    """Switch a programme-wide rule off (or on again) for one stage."""
    if rule.stage_id is not None or stage.program_id != rule.program_id:
        raise ReminderError("wrong_stage")
    override = session.get(ReminderRuleOverride, (rule.id, stage.id))
    if enabled:
        if override is not None:
            session.delete(override)
    elif override is None:
        session.add(ReminderRuleOverride(rule=rule, stage_id=stage.id, enabled=False))
    else:
        override.enabled = False
    if not enabled:
        _drop_pending(session, Delivery.rule_id == rule.id, Delivery.stage_id == stage.id)
    session.flush()
    session.expire(rule, ["overrides"])
    action = "reminder.rule.stage_on" if enabled else "reminder.rule.stage_off"
    audit.record(session, actor, action, f"reminder_rule:{rule.id}", f"stage:{stage.id}")


def delete_rule(session: Session, rule: ReminderRule, *, actor: User | None) -> None:
    """Delete a rule that never delivered anything; one with a history can only be switched off."""
    history = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.rule_id == rule.id, Delivery.status != DeliveryStatus.PENDING)
    )
    if history:
        raise ReminderError("rule_has_history")
    _drop_pending(session, Delivery.rule_id == rule.id)
    session.execute(delete(ReminderExpansion).where(ReminderExpansion.rule_id == rule.id))
    audit.record(session, actor, "reminder.rule.delete", f"reminder_rule:{rule.id}", describe_rule(rule))
    session.delete(rule)
    session.flush()


def _drop_pending(session: Session, *criteria) -> int:
    """Delete unsent, unclaimed deliveries (pending or late): expansion recreates what still applies."""
    return session.execute(
        delete(Delivery)
        .where(*criteria, Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.LATE]))
        .execution_options(synchronize_session=False)
    ).rowcount


def describe_rule(rule: ReminderRule) -> str:
    window = "until start" if rule.window_minutes is None else f"{rule.window_minutes} min"
    where = f" stage:{rule.stage_id}" if rule.stage_id else ""
    return f"{rule.offset_minutes} min before, window {window}, {rule.channels}, {rule.audience.value}{where}"


# --- Audiences ---------------------------------------------------------------------------------


def _audience_select(stage: Stage, audience: Audience):
    """Approved registrations of the stage's programme in the audience (their mode for this stage)."""
    query = (
        select(Registration.id)
        .join(
            RegistrationStage,
            (RegistrationStage.registration_id == Registration.id) & (RegistrationStage.stage_id == stage.id),
        )
        .where(Registration.program_id == stage.program_id, Registration.status == Status.APPROVED)
    )
    if audience == Audience.LURING:
        query = query.where(RegistrationStage.mode == Mode.LURING)
    elif audience == Audience.DARING:
        query = query.where(RegistrationStage.mode == Mode.DARING)
    return query


def audience_size(session: Session, stage: Stage, audience: Audience) -> int:
    return session.scalar(select(func.count()).select_from(_audience_select(stage, audience).subquery()))


def insert_deliveries(
    session: Session,
    *,
    stage: Stage,
    registrations,
    kind: Kind,
    channel: str,
    due_at: datetime,
    late_at: datetime,
    now: datetime,
    rule_id: int | None = None,
    announcement_id: int | None = None,
    stage_move_id: int | None = None,
    participant_message_id: int | None = None,
) -> int:
    """INSERT ... SELECT one pending delivery per selected registration; existing ones stay as
    they are (ON CONFLICT DO NOTHING on the unique keys). Returns how many were new."""
    columns = Delivery.__table__.c
    values = {
        "kind": _typed(kind, columns.kind),
        "rule_id": _typed(rule_id, columns.rule_id),
        "announcement_id": _typed(announcement_id, columns.announcement_id),
        "stage_move_id": _typed(stage_move_id, columns.stage_move_id),
        "participant_message_id": _typed(participant_message_id, columns.participant_message_id),
        "stage_id": _typed(stage.id, columns.stage_id),
        "channel": _typed(channel, columns.channel),
        "due_at": _typed(due_at, columns.due_at),
        "late_at": _typed(late_at, columns.late_at),
        "status": _typed(DeliveryStatus.PENDING, columns.status),
        "attempts": _typed(0, columns.attempts),
        "next_attempt_at": _typed(due_at, columns.next_attempt_at),
        "recipient": _typed("", columns.recipient),
        "sent_by": _typed("", columns.sent_by),
        "provider_ref": _typed("", columns.provider_ref),
        "error": _typed("", columns.error),
        "created_at": _typed(now, columns.created_at),
    }
    registration_ids = registrations.subquery()
    source = select(*values.values(), registration_ids.c.id).where(literal(True))  # SQLite: WHERE before ON
    statement = (
        _insert(session, Delivery)
        .from_select([*values, "registration_id"], source)
        .on_conflict_do_nothing()
        .returning(Delivery.id)  # the rows that were new (rowcount is not reliable here on PostgreSQL)
    )
    return len(session.execute(statement).all())


# --- Expansion ---------------------------------------------------------------------------------


def expand_due(session: Session, now: datetime, touched: set[int] | None = None) -> int:
    """Expand every due (rule, stage) pair into deliveries; returns how many rows were new.

    A pair is due from its moment on. While its window is open it is expanded on every tick (a
    participant approved meanwhile still gets the reminder); once the window has closed it is
    expanded one last time (its deliveries are then marked late, never silently dropped) and
    remembered in ReminderExpansion. A pair whose window had closed before the rule existed is
    not the rule's business.
    """
    pairs = session.execute(
        select(ReminderRule, Stage)
        .join(Stage, Stage.program_id == ReminderRule.program_id)
        .where(
            ReminderRule.active.is_(True),
            or_(ReminderRule.stage_id.is_(None), ReminderRule.stage_id == Stage.id),
            Stage.starts_at > ReminderRule.created_at,
        )
        .options(selectinload(ReminderRule.overrides))
    ).all()
    if not pairs:
        return 0
    closed = {(e.rule_id, e.stage_id): e.due_at for e in session.scalars(select(ReminderExpansion))}
    created = 0
    for rule, stage in pairs:
        if not rule.applies_to(stage):
            continue
        due_at, late_at = rule.due_at(stage), rule.late_at(stage)
        if due_at > now or late_at <= rule.created_at:
            continue
        window_closed = late_at <= now
        if window_closed and closed.get((rule.id, stage.id)) == due_at:
            continue
        for channel in rule.channel_list:
            new = insert_deliveries(
                session,
                stage=stage,
                registrations=_audience_select(stage, rule.audience),
                kind=Kind.REMINDER,
                channel=channel,
                due_at=due_at,
                late_at=late_at,
                now=now,
                rule_id=rule.id,
            )
            created += new
            if new and touched is not None:
                touched.add(stage.id)
        if window_closed:
            session.execute(
                _insert(session, ReminderExpansion)
                .values(rule_id=rule.id, stage_id=stage.id, due_at=due_at, closed_at=now)
                .on_conflict_do_update(
                    index_elements=["rule_id", "stage_id"], set_={"due_at": due_at, "closed_at": now}
                )
            )
    return created


def release_expired(session: Session, now: datetime, settings: EngineSettings) -> int:
    """Claims whose lease ran out (the worker died or hung) go back to pending, counting an attempt."""
    expired = (Delivery.status == DeliveryStatus.SENDING) & (Delivery.claimed_until <= now)
    given_up = session.execute(
        update(Delivery)
        .where(expired, Delivery.attempts + 1 >= settings.max_attempts)
        .values(
            status=DeliveryStatus.FAILED,
            attempts=Delivery.attempts + 1,
            claimed_until=None,
            claim_token=None,
            error="The sending worker stopped before confirming the send.",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    released = session.execute(
        update(Delivery)
        .where(expired)
        .values(
            status=DeliveryStatus.PENDING,
            attempts=Delivery.attempts + 1,
            next_attempt_at=now,
            claimed_until=None,
            claim_token=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return given_up + released


def mark_late(session: Session, now: datetime, touched: set[int] | None = None) -> int:
    """Pending deliveries whose moment passed by more than their window: late, not sent."""
    stage_ids = (
        session.execute(
            update(Delivery)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.late_at <= now)
            .values(status=DeliveryStatus.LATE)
            .returning(Delivery.stage_id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if touched is not None:
        touched.update(stage_ids)
    return len(stage_ids)


# --- Claiming ----------------------------------------------------------------------------------


def claim(
    session: Session, *, now: datetime, limit: int, lease: timedelta, cancelled: set[int] | None = None
) -> tuple[str, list[int]]:
    """Claim up to `limit` due deliveries for this worker; the caller commits at once.

    SQLite: the transaction began IMMEDIATE (it holds the write lock), and the UPDATE only takes
    rows still pending. PostgreSQL: the candidates are locked with FOR UPDATE SKIP LOCKED, so two
    workers never wait for, nor take, each other's rows. Claimed deliveries whose registration left
    the status they are for (see _no_longer_for_them) are set to cancelled in the same
    transaction and not returned.
    """
    token = secrets.token_hex(16)
    due = (
        select(Delivery.id)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.due_at <= now,
            Delivery.next_attempt_at <= now,
            Delivery.late_at > now,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if _dialect(session) == "postgresql":
        candidates = list(session.scalars(due.with_for_update(skip_locked=True)))
        if not candidates:
            return token, []
        chosen = Delivery.id.in_(candidates)
    else:
        chosen = Delivery.id.in_(due.scalar_subquery())
    claimed = session.execute(
        update(Delivery)
        .where(chosen, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SENDING, claim_token=token, claimed_until=now + lease)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    ).scalars()
    ids = sorted(claimed)
    if not ids:
        return token, []
    skipped = set(
        session.execute(
            update(Delivery)
            .where(Delivery.claim_token == token, _no_longer_for_them())
            .values(status=DeliveryStatus.CANCELLED, claim_token=None, claimed_until=None)
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    if cancelled is not None:
        cancelled |= skipped
    return token, [i for i in ids if i not in skipped]


def _no_longer_for_them():
    """Deliveries whose registration is no longer in the status the message is for: approved,
    except the news of a place on the waiting list, which is for those still waiting."""
    not_approved = select(Registration.id).where(Registration.status != Status.APPROVED)
    not_waiting = select(Registration.id).where(Registration.status != Status.WAITLISTED)
    return or_(
        (Delivery.kind != Kind.WAITLISTED) & Delivery.registration_id.in_(not_approved),
        (Delivery.kind == Kind.WAITLISTED) & Delivery.registration_id.in_(not_waiting),
    )


# --- Sending -----------------------------------------------------------------------------------


@dataclass
class Outgoing:
    """A claimed delivery and its rendered message, plain data (no ORM objects)."""

    delivery_id: int
    stage_id: int
    registration_id: int
    kind: Kind
    channel: str
    late_at: datetime
    attempts: int
    user_id: int | None
    message: Any | None  # OutgoingMessage
    problem: str = ""  # why it cannot be sent at all (e.g. no email address)


def default_channels(config: Mapping, session: Session) -> ChannelProvider:
    cache: dict[str, Channel] = {}

    def provider(name: str) -> Channel:
        if name not in cache:
            cache[name] = channel_for(name, config, session)
        return cache[name]

    return provider


def _render_claimed(session: Session, config: Mapping, ids: list[int]) -> list[Outgoing]:
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
    rendered: dict[tuple, dict] = {}
    result = []
    for delivery in deliveries:
        registration = delivery.registration
        key = (
            registration.id,
            delivery.stage_id,
            delivery.kind,
            delivery.rule_id,
            delivery.announcement_id,
            delivery.stage_move_id,
            delivery.participant_message_id,
        )
        problem = ""
        message = None
        try:
            locale = locale_for(registration)
            text, link = _text_and_link(delivery, locale, config)
            if key not in rendered:
                rendered[key] = render(
                    delivery.kind.value,
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
                problem = "The participant has no personal link (it was revoked)."
            elif message is None:
                problem = f"No message for channel {delivery.channel}."
            elif not message.to:
                problem = {
                    "email": "The participant has no email address.",
                    "whatsapp": "The participant has no phone number.",
                }.get(delivery.channel, "No recipient.")
        except Exception as error:  # a template bug must not stop the other deliveries
            log.exception("rendering delivery %s failed", delivery.id)
            problem = f"Could not render the message: {_reason(error)}"
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
            )
        )
    return result


def _text_and_link(delivery: Delivery, locale: str, config: Mapping) -> tuple[str | None, str | None]:
    """The organiser's words in a delivery (an announcement, a message to chosen participants) and
    the participant's personal link, if this kind of message carries one."""
    registration = delivery.registration
    if delivery.participant_message is not None:
        sent = delivery.participant_message
        link = personal_url_for(registration, config, base_url=sent.base_url)
        return sent.text_for(locale), link if delivery.kind in LINK_KINDS else None
    text = delivery.announcement.text if delivery.announcement else None
    return text, personal_url_for(registration, config)


def _mark(session: Session, delivery_id: int, token: str, **values) -> bool:
    """Finish a claimed delivery in the current transaction; False if the claim is no longer ours."""
    return bool(
        session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.claim_token == token,
                Delivery.status == DeliveryStatus.SENDING,
            )
            .values(claim_token=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        ).rowcount
    )


def _commit_mark(session: Session, delivery_id: int, token: str, **values) -> bool:
    try:
        ok = _mark(session, delivery_id, token, **values)
        if ok:
            session.commit()
        else:
            session.rollback()  # drops rows the channel added (in-app notice, outbox) with it
        return ok
    except Exception:
        session.rollback()
        raise


def drain(
    session: Session,
    config: Mapping,
    *,
    clock: Clock,
    channels: ChannelProvider | None = None,
    settings: EngineSettings | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[DrainResult], None] | None = None,
    worker: str = "",
) -> DrainResult:
    """Claim, send and mark due deliveries, batch after batch, until none is left.

    `worker` names the scheduler in the sent deliveries (e.g. "process:host:1234")."""
    with _write_transactions():
        return _drain(session, config, clock, channels, settings, should_stop, on_batch, worker)


@contextmanager
def _write_transactions():
    """SQLite: the engine's transactions begin IMMEDIATE (they write), whatever the context says
    (a request context may have set deferred reads)."""
    intent = sqlite_write_intent.set(True)
    try:
        yield
    finally:
        sqlite_write_intent.reset(intent)


def _drain(session, config, clock, channels, settings, should_stop, on_batch, worker) -> DrainResult:
    settings = settings or EngineSettings.from_config(config)
    channels = channels or default_channels(config, session)
    total = DrainResult()
    while not should_stop():
        batch = DrainResult()
        session.commit()  # start from a clean slate: the claim is its own transaction
        skipped: set[int] = set()
        token, ids = claim(
            session, now=clock(), limit=settings.batch_size, lease=settings.lease, cancelled=skipped
        )
        session.commit()
        if not ids and not skipped:
            break
        batch.claimed = len(ids) + len(skipped)
        batch.cancelled = len(skipped)
        if not ids:  # the whole batch was of cancelled registrations: on to the next one
            total.add(batch)
            continue
        # Render in a read-only transaction (SQLite: deferred, no write lock), closed before sending.
        reading = sqlite_write_intent.set(False)
        try:
            outgoing = _render_claimed(session, config, ids)
            session.rollback()
        finally:
            sqlite_write_intent.reset(reading)
        sent_notices = []
        for index, item in enumerate(outgoing):
            if should_stop():
                _release(session, token, [o.delivery_id for o in outgoing[index:]])
                break
            batch.stage_ids.add(item.stage_id)
            now = clock()
            if now >= item.late_at:
                _commit_mark(session, item.delivery_id, token, status=DeliveryStatus.LATE)
                batch.late += 1
                continue
            if item.problem:
                _commit_mark(
                    session,
                    item.delivery_id,
                    token,
                    status=DeliveryStatus.FAILED,
                    attempts=item.attempts + 1,
                    error=item.problem,
                )
                batch.failed += 1
                continue
            try:
                reference = channels(item.channel).send(item.message)  # no transaction open here
            except PermanentFailure as error:
                session.rollback()
                _commit_mark(
                    session,
                    item.delivery_id,
                    token,
                    status=DeliveryStatus.FAILED,
                    attempts=item.attempts + 1,
                    error=_reason(error),
                    recipient=item.message.to,
                )
                batch.failed += 1
                continue
            except Exception as error:
                session.rollback()
                if not isinstance(error, TemporaryFailure):
                    log.exception("channel %s failed on delivery %s", item.channel, item.delivery_id)
                attempts = item.attempts + 1
                if attempts >= settings.max_attempts:
                    _commit_mark(
                        session,
                        item.delivery_id,
                        token,
                        status=DeliveryStatus.FAILED,
                        attempts=attempts,
                        error=_reason(error),
                        recipient=item.message.to,
                    )
                    batch.failed += 1
                else:
                    _commit_mark(
                        session,
                        item.delivery_id,
                        token,
                        status=DeliveryStatus.PENDING,
                        attempts=attempts,
                        error=_reason(error),
                        recipient=item.message.to,
                        next_attempt_at=clock() + settings.backoff(attempts),
                    )
                    batch.retrying += 1
                continue
            marked = _commit_mark(
                session,
                item.delivery_id,
                token,
                status=DeliveryStatus.SENT,
                attempts=item.attempts + 1,
                provider_ref=str(reference)[:200],
                recipient=item.message.to,
                sent_at=clock(),
                sent_by=worker[:200],
                error="",
            )
            if marked:
                batch.sent += 1
                if item.channel == "inapp" and item.user_id is not None:
                    sent_notices.append(item)
            else:
                batch.lost += 1
                log.warning("delivery %s was sent but its claim had expired", item.delivery_id)
        _notify(batch, sent_notices)
        if on_batch is not None:
            on_batch(batch)
        total.add(batch)
    return total


def _release(session: Session, token: str, ids: list[int]) -> None:
    """Give back claimed, unsent deliveries (a graceful stop): pending again at once."""
    session.rollback()
    session.execute(
        update(Delivery)
        .where(Delivery.claim_token == token, Delivery.id.in_(ids), Delivery.status == DeliveryStatus.SENDING)
        .values(status=DeliveryStatus.PENDING, claim_token=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _notify(batch: DrainResult, notices: list[Outgoing]) -> None:
    """Live updates after the marks are committed: staff screens re-fetch, participants see notices."""
    if socketio.server is None:
        return
    try:
        for stage_id in sorted(batch.stage_ids):
            socketio.emit("deliveries_changed", {"stage_id": stage_id}, to=staff_room(stage_id))
        for item in notices:
            socketio.emit(
                "notice",
                {
                    "kind": item.kind.value,
                    "stage_id": item.stage_id,
                    "registration_id": item.registration_id,
                    "subject": item.message.subject,
                    "text": item.message.text,
                },
                to=user_room(item.user_id),
            )
    except Exception:  # a lost live update is re-fetched by the page; never fail the send for it
        log.exception("live update after sending failed")


def notify_stage(stage_id: int) -> None:
    """Tell a stage's staff screens that its deliveries changed (they re-fetch the counts)."""
    _notify(DrainResult(stage_ids={stage_id}), [])


# --- The periodic job --------------------------------------------------------------------------


def tick(
    session: Session,
    config: Mapping,
    *,
    clock: Clock,
    channels: ChannelProvider | None = None,
    settings: EngineSettings | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[DrainResult], None] | None = None,
    worker: str = "",
) -> TickResult:
    """One run of the periodic job: set up, expand, release, mark late, then drain."""
    with _write_transactions():
        return _tick(session, config, clock, channels, settings, should_stop, on_batch, worker)


def _tick(session, config, clock, channels, settings, should_stop, on_batch, worker) -> TickResult:
    settings = settings or EngineSettings.from_config(config)
    result = TickResult()
    session.commit()
    now = clock()
    touched: set[int] = set()
    result.defaults_created = ensure_defaults_for_upcoming(session, now)
    result.expanded = expand_due(session, now, touched)
    session.commit()
    now = clock()
    result.released = release_expired(session, now, settings)
    result.late = mark_late(session, now, touched)
    session.commit()
    if touched:
        _notify(DrainResult(stage_ids=touched), [])
    result.drained = drain(
        session,
        config,
        clock=clock,
        channels=channels,
        settings=settings,
        should_stop=should_stop,
        on_batch=on_batch,
        worker=worker,
    )
    return result


# --- Heartbeats --------------------------------------------------------------------------------


def beat(
    session: Session, *, name: str, mode: str, pid: int, host: str, started_at: datetime, now: datetime
) -> None:
    """Record that this scheduler is alive (upsert), and forget schedulers silent for a day."""
    session.execute(
        _insert(session, SchedulerHeartbeat)
        .values(name=name, mode=mode, pid=pid, host=host, started_at=started_at, beat_at=now)
        .on_conflict_do_update(index_elements=["name"], set_={"beat_at": now})
    )
    session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at < now - HEARTBEAT_KEEP))


def live_schedulers(session: Session, now: datetime, within: timedelta) -> list[SchedulerHeartbeat]:
    """Schedulers that beat within `within` (e.g. three ticks): what /healthz reports."""
    return list(
        session.scalars(
            select(SchedulerHeartbeat)
            .where(SchedulerHeartbeat.beat_at >= now - within)
            .order_by(SchedulerHeartbeat.started_at)
        )
    )


def stop_beating(session: Session, name: str) -> None:
    session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.name == name))


# --- Stage moves, announcements, retries --------------------------------------------------------


def stage_rescheduled(
    session: Session, stage: Stage, previous_start: datetime, now: datetime
) -> StageMove | None:
    """Called after a stage's details were saved (workshop/programs/views.edit_stage).

    When the start changed: the stage's reminders not yet sent follow the new start (their moment
    and window are computed again; a late one whose new window is still open is pending again);
    sent ones are not repeated; everyone who already got (or is being sent) a reminder for this
    stage gets a change notice on the same channels, unique per (stage, registration, channel,
    move).
    """
    if stage.starts_at == previous_start:
        return None
    move = StageMove(
        stage_id=stage.id, previous_start=previous_start, new_start=stage.starts_at, moved_at=now
    )
    session.add(move)
    session.flush()
    unsent = session.scalars(
        select(Delivery)
        .where(
            Delivery.stage_id == stage.id,
            Delivery.kind == Kind.REMINDER,
            Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.LATE]),
        )
        .options(selectinload(Delivery.rule))
    ).all()
    for delivery in unsent:
        delivery.due_at = delivery.rule.due_at(stage)
        delivery.late_at = delivery.rule.late_at(stage)
        delivery.next_attempt_at = delivery.due_at
        if delivery.status == DeliveryStatus.LATE and delivery.late_at > now:
            delivery.status = DeliveryStatus.PENDING
            delivery.error = ""
    session.execute(delete(ReminderExpansion).where(ReminderExpansion.stage_id == stage.id))
    late_at = max(stage.ends_at, now + CHANGE_NOTICE_MIN_WINDOW)
    for channel in CHANNELS:
        insert_deliveries(
            session,
            stage=stage,
            registrations=_reminded_on(stage, channel),
            kind=Kind.STAGE_CHANGED,
            channel=channel,
            due_at=now,
            late_at=late_at,
            now=now,
            stage_move_id=move.id,
        )
    session.flush()
    return move


def _reminded_on(stage: Stage, channel: str):
    return (
        select(Delivery.registration_id.label("id"))
        .join(Registration, Registration.id == Delivery.registration_id)
        .where(
            Delivery.stage_id == stage.id,
            Delivery.kind == Kind.REMINDER,
            Delivery.channel == channel,
            Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.SENDING]),
            Registration.status == Status.APPROVED,
        )
        .distinct()
    )


def announce(
    session: Session,
    stage: Stage,
    *,
    text: str,
    channels: Iterable[str],
    audience: Audience,
    actor: User | None,
    now: datetime,
) -> tuple[Announcement, int]:
    """A one-off message to a stage's participants, due now, through the same engine."""
    text = text.strip()
    if not text:
        raise ReminderError("empty_text", "text")
    announcement = Announcement(
        stage_id=stage.id,
        author_id=actor.id if actor is not None else None,
        text=text,
        channels=_channels_text(channels),
        audience=audience,
        created_at=now,
    )
    session.add(announcement)
    session.flush()
    count = 0
    for channel in announcement.channels.split(","):
        count += insert_deliveries(
            session,
            stage=stage,
            registrations=_audience_select(stage, audience),
            kind=Kind.ANNOUNCEMENT,
            channel=channel,
            due_at=now,
            late_at=now + ANNOUNCEMENT_WINDOW,
            now=now,
            announcement_id=announcement.id,
        )
    audit.record(session, actor, "reminder.announce", f"stage:{stage.id}", f"{count} deliveries")
    return announcement, count


def retry_failed(
    session: Session,
    stage: Stage,
    *,
    rule_id: int | None = None,
    actor: User | None,
    now: datetime,
) -> tuple[int, int]:
    """Failed deliveries of a stage (or of one rule) back to pending, attempts from zero.

    Returns (retried, too late): a delivery whose window has closed stays failed, since it would
    only be marked late.
    """
    criteria = [Delivery.stage_id == stage.id, Delivery.status == DeliveryStatus.FAILED]
    if rule_id is not None:
        criteria.append(Delivery.rule_id == rule_id)
    retried = session.execute(
        update(Delivery)
        .where(*criteria, Delivery.late_at > now)
        .values(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, error="")
        .execution_options(synchronize_session=False)
    ).rowcount
    too_late = session.scalar(select(func.count()).select_from(Delivery).where(*criteria))
    if retried:
        audit.record(session, actor, "reminder.retry", f"stage:{stage.id}", f"{retried} deliveries")
    return retried, too_late


# --- The delivery log --------------------------------------------------------------------------

LOG_STATUSES = tuple(DeliveryStatus)
FAILURE_LIST_LIMIT = 200


@dataclass
class LogRow:
    """One line of a stage's delivery log: a rule, an announcement, a change notice, or a message
    to chosen participants."""

    key: str
    kind: Kind
    rule: ReminderRule | None = None
    announcement: Announcement | None = None
    move: StageMove | None = None
    message: ParticipantMessage | None = None
    due_at: datetime | None = None
    late_at: datetime | None = None
    enabled: bool = True
    expected: int | None = None  # audience x channels, for a rule not yet due
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in LOG_STATUSES})

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def stage_log(session: Session, stage: Stage, now: datetime) -> list[LogRow]:
    """Per rule (then announcements, change notices and messages to chosen participants): counts
    of deliveries by status."""
    rows: dict[str, LogRow] = {}
    rules = [r for r in rules_for(session, stage.program) if r.stage_id in (None, stage.id)]
    for rule in rules:
        rows[f"rule:{rule.id}"] = LogRow(
            key=f"rule:{rule.id}",
            kind=Kind.REMINDER,
            rule=rule,
            due_at=rule.due_at(stage),
            late_at=rule.late_at(stage),
            enabled=rule.applies_to(stage),
        )
    row_and_status = (
        Delivery.kind,
        Delivery.rule_id,
        Delivery.announcement_id,
        Delivery.stage_move_id,
        Delivery.participant_message_id,
        Delivery.status,
    )
    counts = session.execute(
        select(*row_and_status, func.count()).where(Delivery.stage_id == stage.id).group_by(*row_and_status)
    ).all()
    announcements = {
        a.id: a for a in session.scalars(select(Announcement).where(Announcement.stage_id == stage.id))
    }
    moves = {m.id: m for m in session.scalars(select(StageMove).where(StageMove.stage_id == stage.id))}
    for move in moves.values():  # a move shows even when nobody needed a change notice
        rows[f"move:{move.id}"] = LogRow(key=f"move:{move.id}", kind=Kind.STAGE_CHANGED, move=move)
    messages = {
        m.id: m
        for m in session.scalars(
            select(ParticipantMessage).where(
                ParticipantMessage.id.in_(
                    select(Delivery.participant_message_id).where(Delivery.stage_id == stage.id)
                )
            )
        )
    }
    for kind, rule_id, announcement_id, move_id, message_id, status, count in counts:
        if kind == Kind.REMINDER:
            key = f"rule:{rule_id}"
            if key not in rows:  # a rule of another stage cannot be here; a deleted one cannot either
                continue
        elif kind == Kind.ANNOUNCEMENT:
            key = f"announcement:{announcement_id}"
            rows.setdefault(key, LogRow(key=key, kind=kind, announcement=announcements.get(announcement_id)))
        elif message_id is not None:
            key = f"message:{message_id}"
            rows.setdefault(key, LogRow(key=key, kind=kind, message=messages.get(message_id)))
        else:
            key = f"move:{move_id}"
            rows.setdefault(key, LogRow(key=key, kind=kind, move=moves.get(move_id)))
        rows[key].counts[status.value] += count
    for row in rows.values():
        if row.rule is not None and row.total == 0 and row.enabled:
            row.expected = audience_size(session, stage, row.rule.audience) * len(row.rule.channel_list)
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            {Kind.REMINDER: 0, Kind.ANNOUNCEMENT: 1, Kind.STAGE_CHANGED: 2}.get(r.kind, 3),
            -(r.rule.offset_minutes if r.rule else 0),
            -(r.announcement.id if r.announcement else r.move.id if r.move else 0),
            -(r.message.id if r.message else 0),
        ),
    )
    return ordered


def stage_failures(session: Session, stage: Stage, limit: int = FAILURE_LIST_LIMIT) -> list[Delivery]:
    """Failed deliveries, and those waiting to be retried, with their reasons (newest first)."""
    return list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.stage_id == stage.id,
                or_(
                    Delivery.status == DeliveryStatus.FAILED,
                    (Delivery.status == DeliveryStatus.PENDING) & (Delivery.error != ""),
                ),
            )
            .options(selectinload(Delivery.registration).selectinload(Registration.person))
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    )


def log_snapshot(session: Session, stage: Stage, now: datetime) -> dict:
    """The JSON the delivery log page re-fetches on every socket event (and every 10 s without one)."""
    rows = stage_log(session, stage, now)
    totals = {s.value: sum(r.counts[s.value] for r in rows) for s in LOG_STATUSES}
    failures = stage_failures(session, stage)
    return {
        "stage_id": stage.id,
        "version": int(now.timestamp() * 1000),
        "generated_at": now.isoformat(),
        "totals": totals,
        "rows": {r.key: {"counts": r.counts, "expected": r.expected} for r in rows},
        "failures": [
            {
                "id": d.id,
                "name": d.registration.person.name,
                "channel": d.channel,
                "status": d.status.value,
                "attempts": d.attempts,
                "error": d.error,
                "next_attempt_at": d.next_attempt_at.isoformat()
                if d.status == DeliveryStatus.PENDING
                else None,
            }
            for d in failures
        ],
    }


# --- Preview and test sends --------------------------------------------------------------------


def preview(
    stage: Stage,
    registration: Registration,
    config: Mapping,
    *,
    kind: str = "reminder",
    rule: ReminderRule | None = None,
    text: str | None = None,
) -> dict:
    """What a participant would receive on each channel (rendered as for a real delivery)."""
    return render(
        kind,
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
    config: Mapping,
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
