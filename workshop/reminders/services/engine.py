"""The delivery engine: claim a batch, render it (rendering.py), send each message and mark its
delivery; the periodic job (`tick`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import update

from workshop import signals
from workshop.db import Session, sqlite_write_intent
from workshop.reminders import failures
from workshop.reminders.channels import (
    DeliveryFailure,
    PermanentFailure,
    TemporaryFailure,
    channel_for,
)
from workshop.reminders.models import (
    Delivery,
    DeliveryStatus,
)
from workshop.reminders.services.claims import (
    claim,
)
from workshop.reminders.services.common import (
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
from workshop.reminders.services.rendering import Outgoing, render_claimed
from workshop.reminders.services.rules import (
    ensure_defaults_for_upcoming,
)

log = logging.getLogger(__name__)


def default_channels(config: Mapping[str, Any], session: Session) -> ChannelProvider:
    cache: dict[str, Channel] = {}

    def provider(name: str) -> Channel:
        if name not in cache:
            cache[name] = channel_for(name, config, session)
        return cache[name]

    return provider


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


@dataclass(frozen=True)
class Attempt:
    """What sending one delivery gave: late (not sent), the channel's reference, or its error."""

    late: bool = False
    reference: object = None
    error: Exception | None = None


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
    pool: ThreadPoolExecutor = field(init=False)

    def run(self) -> DrainResult:
        total = DrainResult()
        with ThreadPoolExecutor(self.settings.senders, thread_name_prefix="reminder-sender") as pool:
            self.pool = pool
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
        # Channels that may send from several threads (email) start every send of the batch at
        # once, each in a sender thread; the others send at their turn, here. Every mark is
        # written here, in this thread (the session's), in the batch's order.
        channels = {item.channel: self.channels(item.channel) for item in outgoing}
        started = {
            item.delivery_id: self.pool.submit(self.attempt, item, channels[item.channel])
            for item in outgoing
            if not item.problem and getattr(channels[item.channel], "concurrent", False)
        }
        sent_notices = []
        for index, item in enumerate(outgoing):
            future = started.get(item.delivery_id)
            if self.should_stop() and (future is None or future.cancel()):
                self.stop(token, outgoing[index:], started, batch)
                break
            batch.stage_ids.add(item.stage_id)
            attempt = future.result() if future is not None else self.attempt(item, channels[item.channel])
            if self.record(item, token, batch, attempt) and item.channel == "inapp" and item.user_id:
                sent_notices.append(item)
        _notify(batch, sent_notices)
        if self.on_batch is not None:
            self.on_batch(batch)
        return batch

    def stop(
        self, token: str, rest: list[Outgoing], started: dict[int, Future[Attempt]], batch: DrainResult
    ) -> None:
        """A graceful stop: give back what was not sent; mark what a sender thread already sent."""
        unsent = []
        for item in rest:
            future = started.get(item.delivery_id)
            if future is None or future.cancel():
                unsent.append(item.delivery_id)
            else:  # running or done: it may have gone out
                batch.stage_ids.add(item.stage_id)
                self.record(item, token, batch, future.result())
        _release(self.session, token, unsent)

    def render(self, ids: list[int]) -> list[Outgoing]:
        """Render in a read-only transaction (SQLite: deferred, no write lock), closed before sending."""
        reading = sqlite_write_intent.set(False)
        try:
            outgoing = render_claimed(self.session, self.config, ids)
            self.session.rollback()
        finally:
            sqlite_write_intent.reset(reading)
        return outgoing

    def attempt(self, item: Outgoing, channel: Channel) -> Attempt:
        """Send one rendered delivery unless it is late or cannot be sent. No database here: a
        sender thread runs this for the channels that allow it (and no transaction is open)."""
        if self.clock() >= item.late_at:
            return Attempt(late=True)
        if item.problem:
            return Attempt()
        try:
            return Attempt(reference=channel.send(item.message))
        except Exception as error:
            return Attempt(error=error)

    def record(self, item: Outgoing, token: str, batch: DrainResult, attempt: Attempt) -> bool:
        """Mark one claimed delivery by its attempt, counting the outcome in `batch`; True if sent."""
        if attempt.late:
            _commit_mark(self.session, item.delivery_id, token, status=DeliveryStatus.LATE)
            batch.late += 1
            return False
        if item.problem:
            self.mark_failed(item, token, batch, item.problem, item.problem_detail, recipient=None)
            return False
        error = attempt.error
        if error is None:
            return self.mark_sent(item, token, batch, attempt.reference)
        self.session.rollback()  # drops rows the channel added (in-app notice, outbox)
        if isinstance(error, PermanentFailure):
            self.mark_failed(item, token, batch, error.code, _reason(error), recipient=item.recipient)
            return False
        if not isinstance(error, TemporaryFailure):
            log.error("channel %s failed on delivery %s", item.channel, item.delivery_id, exc_info=error)
        self.mark_temporary(item, token, batch, error)
        return False

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
