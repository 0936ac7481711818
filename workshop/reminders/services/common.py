"""What the reminder services share: settings, results, errors, constants, dialect helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import BindParameter, ColumnElement, CursorResult, Executable, literal
from sqlalchemy.dialects import postgresql, sqlite

from workshop.db import Session
from workshop.errors import ServiceError
from workshop.reminders.models import (
    Kind,
)

log = logging.getLogger(__name__)


DAY = 24 * 60


class DefaultRule(TypedDict):
    offset_minutes: int
    window_minutes: int | None  # None: until the start
    channels: tuple[str, ...]


# Created with a programme's first use: 3 days, 1 day and 1 hour before each stage starts.
DEFAULT_RULES: tuple[DefaultRule, ...] = (
    {"offset_minutes": 3 * DAY, "window_minutes": 12 * 60, "channels": ("whatsapp", "email", "inapp")},
    {"offset_minutes": DAY, "window_minutes": 12 * 60, "channels": ("whatsapp", "email", "inapp")},
    {"offset_minutes": 60, "window_minutes": None, "channels": ("whatsapp", "inapp")},  # until the start
)
ANNOUNCEMENT_WINDOW = timedelta(hours=12)
# Messages to chosen participants that must carry the personal link (not the waiting-list news).
LINK_KINDS = frozenset({Kind.PERSONAL_LINK, Kind.APPROVED, Kind.PROMOTED, Kind.CERTIFICATE, Kind.ASSIGNMENT})
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
    senders: int = 4  # emails sent at once, each over its own kept SMTP connection
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=60)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EngineSettings:
        return cls(
            batch_size=int(config.get("REMINDER_BATCH_SIZE", 50)),
            senders=int(config.get("REMINDER_SENDERS", 4)),
            lease=timedelta(seconds=int(config.get("REMINDER_LEASE_SECONDS", 300))),
            max_attempts=int(config.get("REMINDER_MAX_ATTEMPTS", 5)),
            retry_base=timedelta(seconds=int(config.get("REMINDER_RETRY_SECONDS", 60))),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait before attempt `attempts + 1`: base, 2 x base, 4 x base, ... at most an hour."""
        wait: timedelta = self.retry_base * 2 ** (attempts - 1)
        return min(wait, RETRY_CAP)


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


def _insert(session: Session, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """INSERT with ON CONFLICT support: SQLAlchemy's SQLite or PostgreSQL dialect insert."""
    if _dialect(session) == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def _typed(value: object, column: ColumnElement[Any]) -> BindParameter[Any]:
    return literal(value, type_=column.type)


def _changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE; the number of rows it matched."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)  # what an UPDATE or DELETE gives
    return result.rowcount


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:MAX_REASON]
