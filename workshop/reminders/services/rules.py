"""Reminder rules: the defaults, a programme's rules, per-stage overrides."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import selectinload

from workshop import audit
from workshop.auth.models import User
from workshop.db import Session
from workshop.programs.models import Program, Stage
from workshop.reminders.models import (
    CHANNELS,
    Anchor,
    Audience,
    Delivery,
    DeliveryStatus,
    ReminderExpansion,
    ReminderRule,
    ReminderRuleOverride,
    ReminderSettings,
)
from workshop.reminders.services.common import (
    DEFAULT_RULES,
    ReminderError,
    _changed,
    _insert,
)

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


def program_rules(session: Session, program: Program) -> list[ReminderRule]:
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
    anchor: Anchor = Anchor.START,
    actor: User | None,
    now: datetime,
) -> ReminderRule:
    """A rule `offset_minutes` before each stage's start, or (`anchor` END) before its end: the
    invitation to the evaluation, 0 for "at the stage's end"."""
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
        anchor=anchor,
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
    history = session.execute(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.rule_id == rule.id, Delivery.status != DeliveryStatus.PENDING)
    ).scalar_one()
    if history:
        raise ReminderError("rule_has_history")
    _drop_pending(session, Delivery.rule_id == rule.id)
    session.execute(delete(ReminderExpansion).where(ReminderExpansion.rule_id == rule.id))
    audit.record(session, actor, "reminder.rule.delete", f"reminder_rule:{rule.id}", describe_rule(rule))
    session.delete(rule)
    session.flush()


def _drop_pending(session: Session, *criteria: ColumnElement[bool]) -> int:
    """Delete unsent, unclaimed deliveries (pending or late): expansion recreates what still applies."""
    return _changed(
        session,
        delete(Delivery)
        .where(*criteria, Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.LATE]))
        .execution_options(synchronize_session=False),
    )


def describe_rule(rule: ReminderRule) -> str:
    until = "1 day" if rule.at_end else "until start"
    window = until if rule.window_minutes is None else f"{rule.window_minutes} min"
    where = f" stage:{rule.stage_id}" if rule.stage_id else ""
    before = "before the end" if rule.at_end else "before"
    return (
        f"{rule.offset_minutes} min {before}, window {window}, {rule.channels}, {rule.audience.value}{where}"
    )
