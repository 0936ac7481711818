"""The delivery engine: render the claimed deliveries, send them, mark each one; the periodic
job (`tick`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from workshop import signals
from workshop.auth.models import User
from workshop.db import Session, sqlite_write_intent
from workshop.programs.models import Stage
from workshop.registration import calendar
from workshop.registration.models import Person, Registration
from workshop.reminders import failures
from workshop.reminders.channels import (
    DeliveryFailure,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    channel_for,
)
from workshop.reminders.messages import locale_for, message_kind, personal_url_for, render
from workshop.reminders.models import (
    Delivery,
    DeliveryStatus,
    Kind,
)
from workshop.reminders.services.claims import (
    claim,
)
from workshop.reminders.services.common import (
    LINK_KINDS,
    Channel,
    ChannelProvider,
    Clock,
    DrainResult,
    EngineSettings,
    TickResult,
    _changed,
    _reason,
)
from workshop.reminders.services.expansion import (
    expand_due,
    mark_late,
    release_expired,
)
from workshop.reminders.services.rules import (
    ensure_defaults_for_upcoming,
)

log = logging.getLogger(__name__)


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
    message: OutgoingMessage | None  # None when there is a problem
    problem: str = ""  # why it cannot be sent at all: a failure code (e.g. no email address)
    problem_detail: str = ""  # and the words of the error behind it, if any

    @property
    def recipient(self) -> str:
        assert self.message is not None  # asked only of a message that could be rendered
        return self.message.to


def default_channels(config: Mapping[str, Any], session: Session) -> ChannelProvider:
    cache: dict[str, Channel] = {}

    def provider(name: str) -> Channel:
        if name not in cache:
            cache[name] = channel_for(name, config, session)
        return cache[name]

    return provider


def _render_claimed(session: Session, config: Mapping[str, Any], ids: list[int]) -> list[Outgoing]:
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
            text, link = _text_and_link(delivery, locale, config)
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


def _text_and_link(
    delivery: Delivery, locale: str, config: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    """The organiser's words in a delivery (an announcement, a message to chosen participants) and
    the participant's personal link, if this kind of message carries one."""
    registration = delivery.registration
    if delivery.participant_message is not None:
        sent = delivery.participant_message
        link = personal_url_for(registration, config, base_url=sent.base_url)
        return sent.text_for(locale), link if delivery.kind in LINK_KINDS else None
    text = delivery.announcement.text if delivery.announcement else None
    return text, personal_url_for(registration, config)


def _mark(session: Session, delivery_id: int, token: str, **values: Any) -> bool:
    """Finish a claimed delivery in the current transaction; False if the claim is no longer ours."""
    return bool(
        _changed(
            session,
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.claim_token == token,
                Delivery.status == DeliveryStatus.SENDING,
            )
            .values(claim_token=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False),
        )
    )


def _commit_mark(session: Session, delivery_id: int, token: str, **values: Any) -> bool:
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
    config: Mapping[str, Any],
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
    settings = settings or EngineSettings.from_config(config)
    drainer = Drainer(
        session=session,
        config=config,
        clock=clock,
        channels=channels or default_channels(config, session),
        settings=settings,
        should_stop=should_stop,
        on_batch=on_batch,
        worker=worker,
    )
    with _write_transactions():
        return drainer.run()


@contextmanager
def _write_transactions() -> Iterator[None]:
    """SQLite: the engine's transactions begin IMMEDIATE (they write), whatever the context says
    (a request context may have set deferred reads)."""
    intent = sqlite_write_intent.set(True)
    try:
        yield
    finally:
        sqlite_write_intent.reset(intent)


@dataclass
class Drainer:
    """One drain: claim a batch, render it, send and mark each delivery, until none is left."""

    session: Session
    config: Mapping[str, Any]
    clock: Clock
    channels: ChannelProvider
    settings: EngineSettings
    should_stop: Callable[[], bool] = lambda: False
    on_batch: Callable[[DrainResult], None] | None = None
    worker: str = ""

    def run(self) -> DrainResult:
        total = DrainResult()
        while not self.should_stop():
            batch = self.batch()
            if batch is None:
                break
            total.add(batch)
        return total

    def batch(self) -> DrainResult | None:
        """Claim and send one batch; None when nothing was left to claim."""
        session = self.session
        batch = DrainResult()
        session.commit()  # start from a clean slate: the claim is its own transaction
        skipped: set[int] = set()
        token, ids = claim(
            session,
            now=self.clock(),
            limit=self.settings.batch_size,
            lease=self.settings.lease,
            cancelled=skipped,
        )
        session.commit()
        if not ids and not skipped:
            return None
        batch.claimed = len(ids) + len(skipped)
        batch.cancelled = len(skipped)
        if not ids:  # the whole batch was of cancelled registrations: on to the next one
            return batch
        outgoing = self.render(ids)
        sent_notices = []
        for index, item in enumerate(outgoing):
            if self.should_stop():
                _release(session, token, [o.delivery_id for o in outgoing[index:]])
                break
            batch.stage_ids.add(item.stage_id)
            if self.deliver(item, token, batch) and item.channel == "inapp" and item.user_id is not None:
                sent_notices.append(item)
        _notify(batch, sent_notices)
        if self.on_batch is not None:
            self.on_batch(batch)
        return batch

    def render(self, ids: list[int]) -> list[Outgoing]:
        """Render in a read-only transaction (SQLite: deferred, no write lock), closed before sending."""
        reading = sqlite_write_intent.set(False)
        try:
            outgoing = _render_claimed(self.session, self.config, ids)
            self.session.rollback()
        finally:
            sqlite_write_intent.reset(reading)
        return outgoing

    def deliver(self, item: Outgoing, token: str, batch: DrainResult) -> bool:
        """Send one claimed delivery and mark it, counting the outcome in `batch`; True if sent."""
        if self.clock() >= item.late_at:
            _commit_mark(self.session, item.delivery_id, token, status=DeliveryStatus.LATE)
            batch.late += 1
            return False
        if item.problem:
            self.mark_failed(item, token, batch, item.problem, item.problem_detail, recipient=None)
            return False
        try:
            reference = self.channels(item.channel).send(item.message)  # no transaction open here
        except PermanentFailure as error:
            self.session.rollback()
            self.mark_failed(item, token, batch, error.code, _reason(error), recipient=item.recipient)
            return False
        except Exception as error:
            self.session.rollback()
            if not isinstance(error, TemporaryFailure):
                log.exception("channel %s failed on delivery %s", item.channel, item.delivery_id)
            self.mark_temporary(item, token, batch, error)
            return False
        return self.mark_sent(item, token, batch, reference)

    def mark_failed(
        self, item: Outgoing, token: str, batch: DrainResult, code: str, detail: str, *, recipient: str | None
    ) -> None:
        """Failed for good: `code` (workshop/reminders/failures.py) and the error's own words."""
        values = {"recipient": recipient} if recipient is not None else {}
        _commit_mark(
            self.session,
            item.delivery_id,
            token,
            status=DeliveryStatus.FAILED,
            attempts=item.attempts + 1,
            failure_code=code,
            error=detail,
            **values,
        )
        batch.failed += 1

    def mark_temporary(self, item: Outgoing, token: str, batch: DrainResult, error: Exception) -> None:
        """A failure that may pass: pending again after the backoff, or failed after the last attempt."""
        attempts = item.attempts + 1
        code = error.code if isinstance(error, DeliveryFailure) else failures.UNEXPECTED
        if attempts >= self.settings.max_attempts:
            self.mark_failed(item, token, batch, code, _reason(error), recipient=item.recipient)
            return
        _commit_mark(
            self.session,
            item.delivery_id,
            token,
            status=DeliveryStatus.PENDING,
            attempts=attempts,
            failure_code=code,
            error=_reason(error),
            recipient=item.recipient,
            next_attempt_at=self.clock() + self.settings.backoff(attempts),
        )
        batch.retrying += 1

    def mark_sent(self, item: Outgoing, token: str, batch: DrainResult, reference: object) -> bool:
        marked = _commit_mark(
            self.session,
            item.delivery_id,
            token,
            status=DeliveryStatus.SENT,
            attempts=item.attempts + 1,
            provider_ref=str(reference)[:200],
            recipient=item.recipient,
            sent_at=self.clock(),
            sent_by=self.worker[:200],
            failure_code="",
            error="",
        )
        if marked:
            batch.sent += 1
        else:
            batch.lost += 1
            log.warning("delivery %s was sent but its claim had expired", item.delivery_id)
        return marked


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
    """Say what changed once the marks are committed: `signals.deliveries_changed` (the
    reminders' events.py tells staff screens and participants). Services emit nothing themselves."""
    if not has_app_context() or not (batch.stage_ids or notices):
        return
    signals.deliveries_changed.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]  # a LocalProxy
        stage_ids=sorted(batch.stage_ids),
        notices=notices,
    )


def notify_stage(stage_id: int) -> None:
    """Tell a stage's staff screens that its deliveries changed (they re-fetch the counts)."""
    _notify(DrainResult(stage_ids={stage_id}), [])


# --- The periodic job --------------------------------------------------------------------------


def tick(
    session: Session,
    config: Mapping[str, Any],
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
        settings = settings or EngineSettings.from_config(config)
        result = TickResult()
        session.commit()
        now = clock()
        touched: set[int] = set()
        result.defaults_created = ensure_defaults_for_upcoming(session, now)
        result.expanded = expand_due(session, now, touched)
        result.expanded += sum(count for _, count in signals.reminders_due.send(session=session, now=now))
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
