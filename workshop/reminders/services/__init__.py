"""The reminder services: rules, expansion into deliveries, claiming, sending, retries, late marking.

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

The package's modules: `rules`, `expansion` (audiences, due deliveries, late marking), `claims`,
`engine` (render, send, mark: the `Drainer`; the periodic `tick`), `heartbeats`,
`announcements` (stage moves, announcements, retries), `deliverylog` and `previews`; `common`
holds what they share. Callers import from the package: it re-exports their public names.
"""

from __future__ import annotations

from workshop.reminders.services.announcements import (
    announce,
    retry_failed,
    stage_rescheduled,
)
from workshop.reminders.services.claims import (
    claim,
)
from workshop.reminders.services.common import (
    ANNOUNCEMENT_WINDOW,
    CHANGE_NOTICE_MIN_WINDOW,
    DAY,
    DEFAULT_RULES,
    HEARTBEAT_KEEP,
    LINK_KINDS,
    MAX_REASON,
    RETRY_CAP,
    Channel,
    ChannelProvider,
    Clock,
    DrainResult,
    EngineSettings,
    ReminderError,
    TickResult,
)
from workshop.reminders.services.deliverylog import (
    FAILURE_LIST_LIMIT,
    LOG_STATUSES,
    LogRow,
    log_snapshot,
    stage_failures,
    stage_log,
)
from workshop.reminders.services.engine import (
    default_channels,
    drain,
    notify_stage,
    tick,
)
from workshop.reminders.services.expansion import (
    audience_size,
    expand_due,
    insert_deliveries,
    mark_late,
    release_expired,
)
from workshop.reminders.services.heartbeats import (
    beat,
    live_schedulers,
    stop_beating,
)
from workshop.reminders.services.previews import (
    TestSend,
    preview,
    send_test,
    set_own_contact,
)
from workshop.reminders.services.rendering import Outgoing
from workshop.reminders.services.rules import (
    create_rule,
    delete_rule,
    describe_rule,
    ensure_default_rules,
    ensure_defaults_for_upcoming,
    is_set_up,
    program_rules,
    set_rule_for_stage,
    update_rule,
)

__all__ = [
    "ANNOUNCEMENT_WINDOW",
    "CHANGE_NOTICE_MIN_WINDOW",
    "DAY",
    "DEFAULT_RULES",
    "FAILURE_LIST_LIMIT",
    "HEARTBEAT_KEEP",
    "LINK_KINDS",
    "LOG_STATUSES",
    "MAX_REASON",
    "RETRY_CAP",
    "Channel",
    "ChannelProvider",
    "Clock",
    "DrainResult",
    "EngineSettings",
    "LogRow",
    "Outgoing",
    "ReminderError",
    "TestSend",
    "TickResult",
    "announce",
    "audience_size",
    "beat",
    "claim",
    "create_rule",
    "default_channels",
    "delete_rule",
    "describe_rule",
    "drain",
    "ensure_default_rules",
    "ensure_defaults_for_upcoming",
    "expand_due",
    "insert_deliveries",
    "is_set_up",
    "live_schedulers",
    "log_snapshot",
    "mark_late",
    "notify_stage",
    "preview",
    "program_rules",
    "release_expired",
    "retry_failed",
    "send_test",
    "set_own_contact",
    "set_rule_for_stage",
    "stage_failures",
    "stage_log",
    "stage_rescheduled",
    "stop_beating",
    "tick",
    "update_rule",
]
