"""The reminder engine: rules, expansion, claiming, sending, retries, late marking, stage moves,
announcements, the delivery log and its pages. Time comes from a controllable clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests import factories
from tests.postgres import PostgresServer
from workshop import create_app
from workshop.auth.models import Role
from workshop.db import db
from workshop.registration.models import Mode, Notice, Status
from workshop.reminders import failures, jobs, services
from workshop.reminders.channels import PermanentFailure, TemporaryFailure
from workshop.reminders.models import (
    Announcement,
    Audience,
    Delivery,
    DeliveryStatus,
    Kind,
    ReminderExpansion,
    ReminderRule,
    ReminderSettings,
    SchedulerHeartbeat,
    StageMove,
)
from workshop.reminders.services.engine import _commit_mark

START = factories.TAHAP_I_START  # Kamis, 24 Juni 2021, 09.00 WIB = 02.00 UTC
RULES_MADE = datetime(2021, 6, 1, tzinfo=UTC)
SETTINGS = services.EngineSettings(
    batch_size=50, lease=timedelta(minutes=5), max_attempts=5, retry_base=timedelta(seconds=60)
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class FakeChannel:
    """Records what it is given; raises the scripted failures first."""

    def __init__(self, name: str):
        self.name = name
        self.sent = []
        self.failures: list[Exception] = []

    def send(self, message) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"{self.name}-ref-{len(self.sent)}"


@pytest.fixture
def fakes():
    return {name: FakeChannel(name) for name in ("email", "whatsapp", "inapp")}


@pytest.fixture
def clock():
    return Clock(START - timedelta(days=10))


def _rule(session, program, *, offset, window=None, channels=("email",), audience=Audience.ALL, stage=None):
    """A rule made before the test's moments; the programme counts as set up (no default rules)."""
    if session.get(ReminderSettings, program.id) is None:
        session.add(ReminderSettings(program_id=program.id, created_at=RULES_MADE))
    rule = ReminderRule(
        program_id=program.id,
        stage_id=stage.id if stage else None,
        offset_minutes=int(offset.total_seconds() // 60),
        window_minutes=int(window.total_seconds() // 60) if window else None,
        channels=",".join(channels),
        audience=audience,
        created_at=RULES_MADE,
    )
    session.add(rule)
    session.flush()
    return rule


def _tick(session, app, clock, fakes):
    return services.tick(session, app.config, clock=clock, channels=fakes.__getitem__, settings=SETTINGS)


def _deliveries(session, **criteria):
    query = select(Delivery).order_by(Delivery.id)
    for name, value in criteria.items():
        query = query.where(getattr(Delivery, name) == value)
    return session.scalars(query).all()


def _approved(session, program, count, mode=Mode.LURING):
    return [factories.registration(session, program, status=Status.APPROVED, mode=mode) for _ in range(count)]


# --- Time zone and due moments ------------------------------------------------------------------


def test_a_one_day_rule_for_a_0900_wib_stage_is_due_at_0200_utc_the_day_before(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12))
    _approved(session, program, 1)
    session.commit()
    due = datetime(2021, 6, 23, 2, 0, tzinfo=UTC)
    assert stage.starts_at == datetime(2021, 6, 24, 2, 0, tzinfo=UTC)

    clock.set(due - timedelta(seconds=1))
    assert _tick(session, app, clock, fakes).expanded == 0
    assert fakes["email"].sent == []

    clock.set(due)
    result = _tick(session, app, clock, fakes)
    assert result.expanded == 1
    [delivery] = _deliveries(session)
    assert delivery.due_at == due
    assert delivery.late_at == due + timedelta(hours=12)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.sent_at == due
    assert "pukul 09.00 WIB" in fakes["email"].sent[0].text


def test_a_rule_without_window_is_late_once_the_stage_starts_and_windows_never_pass_the_start(session):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    hour = _rule(session, program, offset=timedelta(hours=1))
    long_window = _rule(session, program, offset=timedelta(hours=2), window=timedelta(hours=5))
    assert hour.due_at(stage) == START - timedelta(hours=1)
    assert hour.late_at(stage) == START
    assert long_window.late_at(stage) == START


# --- Default rules -----------------------------------------------------------------------------


def test_default_rules_are_created_once_for_a_programme_with_an_upcoming_stage(session):
    upcoming = factories.program(session, stages=2)
    past = factories.program(session, stages=1)
    now = START - timedelta(days=30)
    past.stages[0].starts_at = now - timedelta(days=1)
    past.stages[0].ends_at = now - timedelta(hours=20)
    session.commit()

    assert services.ensure_defaults_for_upcoming(session, now) == 1
    assert services.ensure_defaults_for_upcoming(session, now) == 0
    rules = session.scalars(select(ReminderRule).order_by(ReminderRule.id)).all()
    assert [(r.program_id, r.offset_minutes, r.window_minutes, r.channels, r.audience) for r in rules] == [
        (upcoming.id, 3 * 24 * 60, 12 * 60, "whatsapp,email,inapp", Audience.ALL),
        (upcoming.id, 24 * 60, 12 * 60, "whatsapp,email,inapp", Audience.ALL),
        (upcoming.id, 60, None, "whatsapp,inapp", Audience.ALL),
    ]
    assert all(r.stage_id is None and r.active and r.created_at == now for r in rules)

    # Deleting them all sticks: the programme counts as set up.
    for rule in rules:
        services.delete_rule(session, rule, actor=None)
    session.commit()
    assert services.ensure_defaults_for_upcoming(session, now) == 0
    assert session.scalar(select(func.count()).select_from(ReminderRule)) == 0
    assert session.get(ReminderSettings, upcoming.id) is not None
    assert session.get(ReminderSettings, past.id) is None


# --- Expansion ---------------------------------------------------------------------------------


def test_expansion_is_idempotent(session, clock):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12), channels=("email", "inapp"))
    registrations = _approved(session, program, 3)
    session.commit()
    now = START - timedelta(hours=20)

    assert services.expand_due(session, now) == 6
    session.commit()
    first = [(d.id, d.rule_id, d.stage_id, d.registration_id, d.channel) for d in _deliveries(session)]
    assert services.expand_due(session, now) == 0
    session.commit()
    second = [(d.id, d.rule_id, d.stage_id, d.registration_id, d.channel) for d in _deliveries(session)]
    assert first == second
    assert sorted((r, c) for _, _, _, r, c in first) == sorted(
        (r.id, c) for r in registrations for c in ("email", "inapp")
    )


def test_the_database_refuses_a_second_delivery_for_the_same_rule_stage_registration_and_channel(session):
    program = factories.program(session, stages=1)
    rule = _rule(session, program, offset=timedelta(days=1))
    [registration] = _approved(session, program, 1)
    moment = START - timedelta(days=1)
    fields = dict(
        kind=Kind.REMINDER,
        rule_id=rule.id,
        stage_id=program.stages[0].id,
        registration_id=registration.id,
        channel="email",
        due_at=moment,
        late_at=START,
        next_attempt_at=moment,
    )
    session.add(Delivery(**fields))
    session.commit()
    session.add(Delivery(**fields))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_only_approved_registrations_in_the_audience_get_deliveries(session):
    program = factories.program(session, stages=2)
    first, second = program.stages
    luring = _approved(session, program, 2, mode=Mode.LURING)
    daring = _approved(session, program, 1, mode=Mode.DARING)
    for status in (Status.PENDING, Status.WAITLISTED, Status.REJECTED, Status.CANCELLED):
        factories.registration(session, program, status=status, mode=Mode.LURING)
    # One participant is in the hall for stage I and online for stage II.
    luring[1].stage_modes[1].mode = Mode.DARING
    _rule(session, program, offset=timedelta(days=1), audience=Audience.LURING, channels=("whatsapp",))
    _rule(session, program, offset=timedelta(days=2), audience=Audience.DARING, channels=("whatsapp",))
    _rule(session, program, offset=timedelta(days=3), audience=Audience.ALL, channels=("whatsapp",))
    session.commit()

    services.expand_due(session, second.starts_at - timedelta(hours=1))
    session.commit()
    got = {
        (d.rule.audience, d.stage_id, d.registration_id) for d in _deliveries(session) if d.rule is not None
    }
    assert got == {
        (Audience.LURING, first.id, luring[0].id),
        (Audience.LURING, first.id, luring[1].id),
        (Audience.LURING, second.id, luring[0].id),
        (Audience.DARING, first.id, daring[0].id),
        (Audience.DARING, second.id, daring[0].id),
        (Audience.DARING, second.id, luring[1].id),
        *((Audience.ALL, s.id, r.id) for s in (first, second) for r in (*luring, *daring)),
    }


def test_a_rule_switched_off_for_a_stage_and_a_stage_only_rule(session):
    program = factories.program(session, stages=2)
    first, second = program.stages
    _approved(session, program, 1)
    everywhere = _rule(session, program, offset=timedelta(days=1))
    only_second = _rule(session, program, offset=timedelta(hours=6), stage=second)
    session.commit()
    services.set_rule_for_stage(session, everywhere, first, enabled=False, actor=None)
    session.commit()

    services.expand_due(session, second.starts_at - timedelta(hours=1))
    session.commit()
    assert {(d.rule_id, d.stage_id) for d in _deliveries(session)} == {
        (everywhere.id, second.id),
        (only_second.id, second.id),
    }

    # Switched on again: the stage's reminder is expanded (here already past its window: late).
    services.set_rule_for_stage(session, everywhere, first, enabled=True, actor=None)
    session.commit()
    services.expand_due(session, second.starts_at - timedelta(hours=1))
    services.mark_late(session, second.starts_at - timedelta(hours=1))
    session.commit()
    [back] = _deliveries(session, rule_id=everywhere.id, stage_id=first.id)
    assert back.status == DeliveryStatus.LATE


def test_a_participant_approved_inside_the_window_still_gets_the_reminder(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12))
    _approved(session, program, 1)
    session.commit()
    clock.set(START - timedelta(days=1))
    _tick(session, app, clock, fakes)
    late_comer = factories.registration(session, program, status=Status.APPROVED)
    session.commit()
    clock.advance(hours=2)
    _tick(session, app, clock, fakes)
    assert [m.to for m in fakes["email"].sent][-1] == late_comer.person.email
    assert len(fakes["email"].sent) == 2


# --- Claim, send, mark -------------------------------------------------------------------------


def test_due_deliveries_are_claimed_sent_and_marked_with_the_providers_reference(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    _rule(
        session, program, offset=timedelta(days=1), window=timedelta(hours=12), channels=("email", "whatsapp")
    )
    [registration] = _approved(session, program, 1)
    session.commit()
    clock.set(START - timedelta(hours=23))

    result = _tick(session, app, clock, fakes)

    assert (result.drained.claimed, result.drained.sent) == (2, 2)
    email, whatsapp = sorted(_deliveries(session), key=lambda d: d.channel)
    assert (email.channel, email.status, email.provider_ref, email.recipient, email.attempts) == (
        "email",
        DeliveryStatus.SENT,
        "email-ref-1",
        registration.person.email,
        1,
    )
    assert (whatsapp.channel, whatsapp.status, whatsapp.provider_ref, whatsapp.recipient) == (
        "whatsapp",
        DeliveryStatus.SENT,
        "whatsapp-ref-1",
        registration.person.phone,
    )
    assert email.claim_token is None and email.claimed_until is None
    assert [m.to for m in fakes["email"].sent] == [registration.person.email]
    assert [m.to for m in fakes["whatsapp"].sent] == [registration.person.phone]
    # Nothing more to do on the next tick.
    assert _tick(session, app, clock, fakes).drained.claimed == 0


def test_a_claim_takes_each_delivery_once(session):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=1), channels=("email",))
    _approved(session, program, 5)
    session.commit()
    now = START - timedelta(hours=20)
    services.expand_due(session, now)
    session.commit()

    _, first = services.claim(session, now=now, limit=3, lease=timedelta(minutes=5))
    session.commit()
    _, second = services.claim(session, now=now, limit=3, lease=timedelta(minutes=5))
    session.commit()
    _, third = services.claim(session, now=now, limit=3, lease=timedelta(minutes=5))
    session.commit()
    assert len(first) == 3 and len(second) == 2 and third == []
    assert set(first).isdisjoint(second)
    assert {d.status for d in _deliveries(session)} == {DeliveryStatus.SENDING}
    assert {d.claimed_until for d in _deliveries(session)} == {now + timedelta(minutes=5)}


def test_a_crashed_workers_claim_is_retried_after_its_lease(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12))
    _approved(session, program, 1)
    session.commit()
    clock.set(START - timedelta(hours=23))
    services.expand_due(session, clock())
    session.commit()
    token, [claimed] = services.claim(session, now=clock(), limit=10, lease=SETTINGS.lease)
    session.commit()  # ... and the worker dies here

    clock.advance(minutes=4, seconds=59)
    assert _tick(session, app, clock, fakes).drained.claimed == 0
    assert fakes["email"].sent == []

    clock.advance(seconds=1)
    result = _tick(session, app, clock, fakes)
    assert (result.released, result.drained.sent) == (1, 1)
    delivery = session.get(Delivery, claimed)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)

    # The dead worker's late mark cannot overwrite the new state.
    assert _commit_mark(session, claimed, token, status=DeliveryStatus.FAILED) is False
    session.refresh(delivery)
    assert delivery.status == DeliveryStatus.SENT


def test_a_send_whose_claim_was_taken_over_drops_its_in_app_notice(session, app, clock):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=1), channels=("inapp",))
    [registration] = _approved(session, program, 1)
    session.commit()
    clock.set(START - timedelta(hours=23))
    services.expand_due(session, clock())
    session.commit()

    class SlowInApp:
        """The real in-app channel, but the lease runs out while it works."""

        def send(self, message):
            from workshop.reminders.channels import InAppChannel

            reference = InAppChannel(session).send(message)
            session.commit()  # another transaction: pretend another worker took the claim over
            session.execute(
                Delivery.__table__.update().values(claim_token="someone-else", claimed_until=clock())
            )
            return reference

    result = services.drain(
        session, app.config, clock=clock, channels=lambda name: SlowInApp(), settings=SETTINGS
    )
    assert (result.sent, result.lost) == (0, 1)
    assert session.scalar(select(func.count()).select_from(Notice)) == 1  # committed by the fake itself
    del registration


def test_the_in_app_channel_writes_the_notice_with_the_sent_mark(session, app, clock):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=1), channels=("inapp",))
    [registration] = _approved(session, program, 1)
    session.commit()
    clock.set(START - timedelta(hours=23))
    result = services.tick(session, app.config, clock=clock, settings=SETTINGS)  # the real channels
    assert result.drained.sent == 1
    [notice] = session.scalars(select(Notice)).all()
    [delivery] = _deliveries(session)
    assert notice.registration_id == registration.id
    assert delivery.provider_ref == f"notice:{notice.id}"
    assert "Tahap I" in json.loads(notice.detail)["text"]


# --- Failures and retries ----------------------------------------------------------------------


def test_temporary_failures_back_off_exponentially_then_fail(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=3), window=timedelta(hours=12))
    _approved(session, program, 1)
    session.commit()
    due = START - timedelta(days=3)
    clock.set(due)
    fakes["email"].failures = [
        TemporaryFailure(f"SMTP 451: try later ({n})", code=failures.SMTP_DEFERRED) for n in range(1, 6)
    ]

    expected_waits = [60, 120, 240, 480]
    for attempt, wait in enumerate(expected_waits, start=1):
        result = _tick(session, app, clock, fakes)
        assert result.drained.retrying == 1
        [delivery] = _deliveries(session)
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == attempt
        assert delivery.next_attempt_at == clock() + timedelta(seconds=wait)
        assert (delivery.failure_code, delivery.error) == (
            "smtp_deferred",
            f"SMTP 451: try later ({attempt})",
        )
        clock.advance(seconds=wait - 1)
        assert _tick(session, app, clock, fakes).drained.claimed == 0  # not before its time
        clock.advance(seconds=1)

    assert clock() == due + timedelta(seconds=60 + 120 + 240 + 480)
    assert _tick(session, app, clock, fakes).drained.failed == 1
    [delivery] = _deliveries(session)
    assert (delivery.status, delivery.attempts, delivery.failure_code, delivery.error) == (
        DeliveryStatus.FAILED,
        5,
        "smtp_deferred",
        "SMTP 451: try later (5)",
    )
    assert fakes["email"].sent == []


def test_a_temporary_failure_then_success_is_sent_once(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12))
    _approved(session, program, 1)
    session.commit()
    clock.set(START - timedelta(days=1))
    fakes["email"].failures = [TemporaryFailure("gateway 502")]
    _tick(session, app, clock, fakes)
    clock.advance(minutes=1)
    _tick(session, app, clock, fakes)
    [delivery] = _deliveries(session)
    assert (delivery.status, delivery.attempts, delivery.failure_code, delivery.error) == (
        DeliveryStatus.SENT,
        2,
        "",
        "",
    )
    assert len(fakes["email"].sent) == 1


def test_a_permanent_failure_ends_as_failed_with_the_reason(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12))
    _approved(session, program, 1)
    session.commit()
    clock.set(START - timedelta(days=1))
    fakes["email"].failures = [
        PermanentFailure("SMTP 550 for x@contoh.go.id: mailbox unavailable", code=failures.SMTP_REFUSED)
    ]
    result = _tick(session, app, clock, fakes)
    assert result.drained.failed == 1
    [delivery] = _deliveries(session)
    assert (delivery.status, delivery.attempts, delivery.failure_code, delivery.error) == (
        DeliveryStatus.FAILED,
        1,
        "smtp_refused",
        "SMTP 550 for x@contoh.go.id: mailbox unavailable",
    )
    clock.advance(hours=1)
    assert _tick(session, app, clock, fakes).drained.claimed == 0


def test_a_participant_without_email_fails_without_calling_the_channel(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(days=1))
    [registration] = _approved(session, program, 1)
    registration.person.email = ""
    session.commit()
    clock.set(START - timedelta(days=1))
    _tick(session, app, clock, fakes)
    [delivery] = _deliveries(session)
    assert (delivery.status, delivery.failure_code, delivery.error) == (DeliveryStatus.FAILED, "no_email", "")
    assert fakes["email"].sent == []


def test_the_delivery_log_gives_a_known_reason_in_the_readers_language(
    session, app, client, login, clock, fakes
):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12), channels=("email",))
    [registration] = _approved(session, program, 1)
    registration.person.email = ""
    session.commit()
    clock.set(START - timedelta(days=1))
    _tick(session, app, clock, fakes)
    login(factories.staff(session, Role.PANITIA))
    session.commit()

    data = client.get(f"/admin/stages/{stage.id}/reminders.json").get_json()
    assert [f["error"] for f in data["failures"]] == ["Peserta tidak memiliki alamat email."]
    page = client.get(f"/admin/stages/{stage.id}/reminders").get_data(as_text=True)
    assert '<td data-label="Alasan">Peserta tidak memiliki alamat email.</td>' in page
    assert "The participant has no email address." not in page
    detail = client.get(f"/admin/registrations/{registration.id}").get_data(as_text=True)
    assert "<small>Peserta tidak memiliki alamat email.</small>" in detail

    client.post("/language/en")
    data = client.get(f"/admin/stages/{stage.id}/reminders.json").get_json()
    assert [f["error"] for f in data["failures"]] == ["The participant has no email address."]


def test_retry_failed_puts_failures_inside_their_window_back(session, app, clock, fakes):
    program = factories.program(session, stages=2)
    first, second = program.stages
    rule = _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12))
    _approved(session, program, 2)
    session.commit()
    fakes["email"].failures = [PermanentFailure("SMTP 554: rejected")] * 2
    clock.set(START - timedelta(days=1))
    _tick(session, app, clock, fakes)  # stage I: both fail
    clock.set(second.starts_at - timedelta(days=1))
    fakes["email"].failures = [PermanentFailure("SMTP 554: rejected")] * 2
    _tick(session, app, clock, fakes)  # stage II: both fail

    retried, too_late = services.retry_failed(session, first, rule_id=rule.id, actor=None, now=clock())
    assert (retried, too_late) == (0, 2)  # stage I started long ago
    retried, too_late = services.retry_failed(session, second, actor=None, now=clock())
    session.commit()
    assert (retried, too_late) == (2, 0)
    result = _tick(session, app, clock, fakes)
    assert result.drained.sent == 2
    statuses = {(d.stage_id, d.status, d.attempts) for d in _deliveries(session)}
    assert statuses == {(first.id, DeliveryStatus.FAILED, 1), (second.id, DeliveryStatus.SENT, 1)}


# --- Late marking, downtime --------------------------------------------------------------------


def test_downtime_across_a_due_time_sends_inside_the_window_and_marks_late_outside(
    session, app, clock, fakes
):
    program = factories.program(session, stages=1)
    three_days = _rule(session, program, offset=timedelta(days=3), window=timedelta(hours=12))
    one_day = _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12))
    one_hour = _rule(session, program, offset=timedelta(hours=1))
    _approved(session, program, 2)
    session.commit()
    clock.set(START - timedelta(days=4))
    _tick(session, app, clock, fakes)  # the scheduler runs, then the machine is down ...

    clock.set(START - timedelta(hours=14))  # ... until 14 hours before the start
    result = _tick(session, app, clock, fakes)
    by_rule = {(d.rule_id, d.status) for d in _deliveries(session)}
    assert by_rule == {(three_days.id, DeliveryStatus.LATE), (one_day.id, DeliveryStatus.SENT)}
    assert result.drained.sent == 2
    assert result.late == 2

    clock.set(START + timedelta(minutes=5))  # down again across the 1-hour reminder
    _tick(session, app, clock, fakes)
    assert {d.status for d in _deliveries(session, rule_id=one_hour.id)} == {DeliveryStatus.LATE}
    assert len(fakes["email"].sent) == 2
    # Closed pairs are remembered and not expanded again.
    assert {(e.rule_id, e.due_at) for e in session.scalars(select(ReminderExpansion))} == {
        (three_days.id, START - timedelta(days=3)),
        (one_day.id, START - timedelta(days=1)),
        (one_hour.id, START - timedelta(hours=1)),
    }


def test_a_delivery_that_turns_late_after_being_claimed_is_not_sent(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    _rule(session, program, offset=timedelta(hours=1))
    _approved(session, program, 2)
    session.commit()
    clock.set(START - timedelta(minutes=1))

    class Slow(FakeChannel):
        def send(self, message):
            clock.advance(minutes=1)  # the first send takes until the stage starts
            return super().send(message)

    slow = Slow("email")
    result = services.tick(session, app.config, clock=clock, channels=lambda name: slow, settings=SETTINGS)
    assert (result.drained.sent, result.drained.late) == (1, 1)
    assert sorted(d.status for d in _deliveries(session)) == [DeliveryStatus.LATE, DeliveryStatus.SENT]


def test_a_rule_created_after_a_stage_window_closed_does_not_mark_it_late(session, app, clock, fakes):
    program = factories.program(session, stages=2)
    _approved(session, program, 1)
    clock.set(program.stages[0].starts_at + timedelta(days=1))
    rule = _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12))
    rule.created_at = clock()
    session.commit()
    _tick(session, app, clock, fakes)
    assert _deliveries(session) == []


# --- Cancelled registrations ---------------------------------------------------------------------


def test_a_registration_cancelled_after_expansion_is_skipped_when_claimed(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    _rule(
        session, program, offset=timedelta(days=1), window=timedelta(hours=12), channels=("email", "whatsapp")
    )
    keep, cancel = _approved(session, program, 2)
    session.commit()
    now = START - timedelta(days=1)
    services.expand_due(session, now)
    session.commit()
    cancel.status = Status.CANCELLED
    session.commit()

    clock.set(now)
    result = _tick(session, app, clock, fakes)
    assert (result.drained.sent, result.drained.cancelled, result.drained.claimed) == (2, 2, 4)
    assert {(d.registration_id, d.status) for d in _deliveries(session)} == {
        (keep.id, DeliveryStatus.SENT),
        (cancel.id, DeliveryStatus.CANCELLED),
    }
    assert {m.to for m in fakes["email"].sent} == {keep.person.email}


# --- Stage moved -------------------------------------------------------------------------------


def test_a_moved_stage_takes_unsent_reminders_along_and_notifies_those_already_reminded(
    session, app, clock, fakes
):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    three_days = _rule(session, program, offset=timedelta(days=3), window=timedelta(hours=12))
    one_day = _rule(
        session, program, offset=timedelta(days=1), window=timedelta(hours=12), channels=("email", "whatsapp")
    )
    reminded, later = _approved(session, program, 2)
    session.commit()
    clock.set(START - timedelta(days=3))
    _tick(session, app, clock, fakes)  # H-3 to both by email
    later.status = Status.CANCELLED  # ... who then cancels
    session.commit()
    clock.set(START - timedelta(days=1))
    fakes["whatsapp"].failures = [TemporaryFailure("gateway 503")]
    _tick(session, app, clock, fakes)  # H-1: email sent, WhatsApp waiting for its retry
    [waiting] = _deliveries(session, rule_id=one_day.id, channel="whatsapp")
    assert (waiting.status, waiting.next_attempt_at) == (
        DeliveryStatus.PENDING,
        clock() + timedelta(minutes=1),
    )

    # The organiser moves the stage a week later, 30 seconds later.
    clock.advance(seconds=30)
    new_start = START + timedelta(days=7)
    previous = stage.starts_at
    stage.starts_at, stage.ends_at = new_start, new_start + timedelta(hours=8)
    move = services.stage_rescheduled(session, stage, previous, clock())
    session.commit()
    assert (move.previous_start, move.new_start) == (START, new_start)
    session.refresh(waiting)
    assert (waiting.status, waiting.due_at, waiting.late_at, waiting.next_attempt_at) == (
        DeliveryStatus.PENDING,
        new_start - timedelta(days=1),
        new_start - timedelta(hours=12),
        new_start - timedelta(days=1),
    )
    notices = _deliveries(session, kind=Kind.STAGE_CHANGED)
    assert {(d.registration_id, d.channel, d.stage_move_id) for d in notices} == {
        (reminded.id, "email", move.id)  # only by email: the WhatsApp reminder was never sent
    }
    assert services.stage_rescheduled(session, stage, new_start, clock()) is None  # start unchanged

    clock.advance(minutes=1)
    fakes["email"].sent.clear()
    _tick(session, app, clock, fakes)  # the change notice goes out; the old H-1 moment is gone
    [notice] = fakes["email"].sent
    assert notice.to == reminded.person.email
    assert "Kamis, 24 Juni 2021, pukul 09.00 WIB" in notice.text  # the previous start
    assert fakes["whatsapp"].sent == []

    # At the new moments: nothing that was sent is sent again; the WhatsApp H-1 goes out.
    fakes["email"].sent.clear()
    clock.set(new_start - timedelta(days=3))
    _tick(session, app, clock, fakes)
    clock.set(new_start - timedelta(days=1))
    _tick(session, app, clock, fakes)
    assert fakes["email"].sent == []
    assert [m.to for m in fakes["whatsapp"].sent] == [reminded.person.phone]
    counts = session.execute(
        select(Delivery.rule_id, Delivery.channel, func.count())
        .where(Delivery.kind == Kind.REMINDER, Delivery.status == DeliveryStatus.SENT)
        .group_by(Delivery.rule_id, Delivery.channel)
    ).all()
    assert sorted(counts) == sorted(
        [(three_days.id, "email", 2), (one_day.id, "email", 1), (one_day.id, "whatsapp", 1)]
    )


def test_a_stage_moved_later_revives_a_late_reminder_whose_new_window_is_open(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    rule = _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12))
    _approved(session, program, 1)
    session.commit()
    clock.set(START - timedelta(hours=6))  # down across H-1: late
    _tick(session, app, clock, fakes)
    assert [d.status for d in _deliveries(session)] == [DeliveryStatus.LATE]

    previous = stage.starts_at
    stage.starts_at += timedelta(days=2)
    stage.ends_at += timedelta(days=2)
    services.stage_rescheduled(session, stage, previous, clock())
    session.commit()
    assert _deliveries(session, kind=Kind.STAGE_CHANGED) == []  # nobody had been reminded
    [delivery] = _deliveries(session)
    assert (delivery.status, delivery.due_at) == (DeliveryStatus.PENDING, stage.starts_at - timedelta(days=1))
    clock.set(stage.starts_at - timedelta(days=1))
    _tick(session, app, clock, fakes)
    assert [d.status for d in _deliveries(session, rule_id=rule.id)] == [DeliveryStatus.SENT]


def test_editing_a_stage_start_in_the_programme_page_creates_the_change_notices(session, app, client, login):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    _rule(session, program, offset=timedelta(days=1), channels=("email",))
    [registration] = _approved(session, program, 1)
    session.commit()
    services.expand_due(session, START - timedelta(hours=20))
    session.execute(Delivery.__table__.update().values(status=DeliveryStatus.SENT))
    session.commit()
    login(factories.staff(session, Role.PANITIA))
    session.commit()

    response = client.post(
        f"/admin/stages/{stage.id}/edit",
        data={
            "title": stage.title,
            "starts_at": "2021-06-25T09:00",
            "ends_at": "2021-06-25T16:00",
            "venue_name": stage.venue_name,
            "venue_address": stage.venue_address,
            "capacity": "40",
        },
    )
    assert response.status_code == 302
    [move] = session.scalars(select(StageMove)).all()
    assert (move.previous_start, move.new_start) == (START, START + timedelta(days=1))
    [notice] = _deliveries(session, kind=Kind.STAGE_CHANGED)
    assert (notice.registration_id, notice.channel, notice.status) == (
        registration.id,
        "email",
        DeliveryStatus.PENDING,
    )


# --- Announcements -----------------------------------------------------------------------------


def test_an_announcement_goes_to_its_audience_through_the_engine(session, app, clock, fakes):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    organiser = factories.staff(session, Role.PANITIA)
    hall = _approved(session, program, 2, mode=Mode.LURING)
    online = _approved(session, program, 1, mode=Mode.DARING)
    session.commit()
    clock.set(START - timedelta(hours=3))

    announcement, count = services.announce(
        session,
        stage,
        text="Ruangan pindah ke Aula Serbaguna lantai 2.",
        channels=["whatsapp", "inapp"],
        audience=Audience.LURING,
        actor=organiser,
        now=clock(),
    )
    session.commit()
    assert count == 4
    result = _tick(session, app, clock, fakes)
    assert result.drained.sent == 4
    assert sorted(m.to for m in fakes["whatsapp"].sent) == sorted(r.person.phone for r in hall)
    assert all("Ruangan pindah ke Aula Serbaguna lantai 2." in m.text for m in fakes["whatsapp"].sent)
    assert sorted(m.to for m in fakes["inapp"].sent) == sorted(str(r.id) for r in hall)
    assert {d.announcement_id for d in _deliveries(session)} == {announcement.id}
    assert online[0].id not in {d.registration_id for d in _deliveries(session)}
    with pytest.raises(services.ReminderError):
        services.announce(
            session, stage, text="  ", channels=["email"], audience=Audience.ALL, actor=None, now=clock()
        )


# --- Heartbeats and the job --------------------------------------------------------------------


def test_schedulers_beat_a_row_each(session):
    now = START
    for name, pid in (("process:host:1", 1), ("process:host:2", 2)):
        services.beat(session, name=name, mode="process", pid=pid, host="host", started_at=now, now=now)
    session.commit()
    services.beat(
        session,
        name="process:host:1",
        mode="process",
        pid=1,
        host="host",
        started_at=now,
        now=now + timedelta(seconds=90),
    )
    session.commit()
    live = services.live_schedulers(session, now + timedelta(seconds=90), timedelta(seconds=60))
    assert [(h.name, h.beat_at) for h in live] == [("process:host:1", now + timedelta(seconds=90))]
    services.beat(
        session,
        name="process:host:1",
        mode="process",
        pid=1,
        host="host",
        started_at=now,
        now=now + timedelta(days=2),
    )
    session.commit()
    assert session.scalars(select(SchedulerHeartbeat.name)).all() == ["process:host:1"]


def test_the_job_is_scheduled_without_a_misfire_grace_time_and_coalesced(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="Asia/Jakarta")
    runner = jobs.SchedulerRunner(app, "embedded")
    jobs._schedule(scheduler, runner)
    [job] = scheduler.get_jobs()
    assert (job.id, job.misfire_grace_time, job.coalesce, job.max_instances) == ("reminders", None, True, 1)
    assert job.trigger.interval == timedelta(seconds=30)


def test_the_embedded_scheduler_stays_off_when_disabled_or_in_the_reloader_parent(app, monkeypatch):
    app.config["EMBEDDED_SCHEDULER"] = False
    assert jobs.start_embedded_scheduler(app) is None
    app.config["EMBEDDED_SCHEDULER"] = True
    app.debug = True
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert jobs.in_reloader_parent(app) is True
    assert jobs.start_embedded_scheduler(app) is None
    monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
    assert jobs.in_reloader_parent(app) is False
    app.debug = False
    assert jobs.in_reloader_parent(app) is False
    assert "reminder_scheduler" not in app.extensions


def test_the_runner_sends_through_a_channel_registered_by_the_test_hook(session, app, fakes):
    program = factories.program(session, stages=1)
    program.stages[0].starts_at = datetime.now(UTC) + timedelta(hours=20)
    program.stages[0].ends_at = datetime.now(UTC) + timedelta(hours=28)
    session.commit()
    _approved(session, program, 1)
    session.commit()
    app.extensions[jobs.CHANNELS_KEY] = {"email": fakes["email"], "whatsapp": fakes["whatsapp"]}
    runner = jobs.SchedulerRunner(app, "embedded")
    result = runner.tick()
    # The programme got its default rules; the 1-day rule (email, WhatsApp, in-app) is due.
    assert result.defaults_created == 1
    assert result.drained.sent == 3
    assert len(fakes["email"].sent) == len(fakes["whatsapp"].sent) == 1
    assert session.scalar(select(func.count()).select_from(Notice)) == 1
    assert [h.name for h in session.scalars(select(SchedulerHeartbeat))] == [runner.name]


def test_a_stopped_schedulers_heartbeat_never_warns_and_a_running_one_warns_once(
    app, session, caplog, set_now
):
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    clock = [start]
    set_now(lambda: clock[0])
    runner = jobs.SchedulerRunner(app, "embedded")

    def other_beats(name, at):
        services.beat(session, name=name, mode="process", pid=1, host="h", started_at=start, now=at)
        session.commit()

    other_beats("embedded:h:killed", start - timedelta(seconds=5))  # left by a process killed 5 s ago
    other_beats("process:h:running", start - timedelta(seconds=1))
    warnings = []
    for tick in range(4):
        clock[0] = start + timedelta(seconds=30 * tick)
        if tick:
            other_beats("process:h:running", clock[0] - timedelta(seconds=1))
        caplog.clear()
        with app.app_context():
            runner.beat()
        warnings.append(
            [r.getMessage() for r in caplog.records if "another reminder scheduler" in r.getMessage()]
        )

    # First sight of each: no warning yet. The running one beats again: one warning, never repeated.
    # The killed one's row never moves: no warning, and it leaves the live list after three ticks.
    assert [len(found) for found in warnings] == [0, 1, 0, 0]
    assert "process:h:running" in warnings[1][0]
    live = services.live_schedulers(session, clock[0], timedelta(seconds=90))
    assert sorted(h.name for h in live) == sorted([runner.name, "process:h:running"])


def test_flask_scheduler_once_runs_one_tick(app, session):
    program = factories.program(session, stages=1)
    program.stages[0].starts_at = datetime.now(UTC) + timedelta(minutes=30)
    program.stages[0].ends_at = datetime.now(UTC) + timedelta(hours=8)
    _approved(session, program, 2)
    session.commit()
    result = app.test_cli_runner().invoke(args=["scheduler", "--once"])
    assert result.exit_code == 0, result.output
    # The 1-hour rule (WhatsApp to the dev outbox, in-app): 4 sent.
    assert "4 sent" in result.output
    db.session.remove()
    assert session.scalar(select(func.count()).select_from(SchedulerHeartbeat)) == 0


# --- PostgreSQL: SKIP LOCKED claims and ON CONFLICT expansion -------------------------------------


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


def test_postgresql_claims_skip_rows_locked_by_another_worker(postgres):
    from flask_migrate import upgrade

    from workshop.extensions import init_migrations

    pg_app = create_app(
        {"SQLALCHEMY_DATABASE_URI": postgres.create_database("bimtek_reminders"), "SECRET_KEY": "test"}
    )
    init_migrations(pg_app)
    with pg_app.app_context():
        upgrade()
        session = db.session
        program = factories.program(session, stages=1)
        _rule(session, program, offset=timedelta(days=1), channels=("email", "whatsapp"))
        _approved(session, program, 3)
        session.commit()
        now = START - timedelta(hours=20)
        assert services.expand_due(session, now) == 6
        session.commit()
        assert services.expand_due(session, now) == 0
        session.commit()

        first = Session(bind=db.engine)
        second = Session(bind=db.engine)
        try:
            _, mine = services.claim(first, now=now, limit=4, lease=timedelta(minutes=5))  # not committed
            _, theirs = services.claim(second, now=now, limit=4, lease=timedelta(minutes=5))  # no waiting
            second.commit()
            first.commit()
        finally:
            first.close()
            second.close()
        assert len(mine) == 4 and len(theirs) == 2
        assert set(mine).isdisjoint(theirs)
        assert session.scalars(select(Delivery.status)).all() == [DeliveryStatus.SENDING] * 6

        # Both workers died: after the lease a tick gives the claims back and sends everything.
        fakes = {name: FakeChannel(name) for name in ("email", "whatsapp")}
        clock = Clock(now + timedelta(minutes=5))
        result = services.tick(
            session, pg_app.config, clock=clock, channels=fakes.__getitem__, settings=SETTINGS
        )
        assert (result.released, result.drained.sent) == (6, 6)
        assert len(fakes["email"].sent) == len(fakes["whatsapp"].sent) == 3
        db.session.remove()
        db.engine.dispose()


# --- Pages -------------------------------------------------------------------------------------


def test_the_rules_page_sets_up_the_defaults_and_edits_rules(session, app, client, login):
    program = factories.program(session, stages=2)
    login(factories.staff(session, Role.PANITIA))
    session.commit()
    page = client.get(f"/admin/programs/{program.id}/reminders")
    assert page.status_code == 200
    assert session.scalar(select(func.count()).select_from(ReminderRule)) == 0  # GET writes nothing

    assert client.post(f"/admin/programs/{program.id}/reminders/setup").status_code == 302
    assert session.scalar(select(func.count()).select_from(ReminderRule)) == 3

    response = client.post(
        f"/admin/programs/{program.id}/reminders/rules/new",
        data={
            "offset_value": "2",
            "offset_unit": "hours",
            "window_hours": "",
            "channels": ["whatsapp", "inapp"],
            "audience": "daring",
            "stage_id": str(program.stages[1].id),
            "active": "y",
        },
    )
    assert response.status_code == 302
    rule = session.scalar(select(ReminderRule).where(ReminderRule.offset_minutes == 120))
    assert (rule.stage_id, rule.window_minutes, rule.channels, rule.audience) == (
        program.stages[1].id,
        None,
        "whatsapp,inapp",
        Audience.DARING,
    )
    page = client.get(f"/admin/programs/{program.id}/reminders")
    assert "2 jam sebelum mulai" in page.get_data(as_text=True)

    one_day = session.scalar(select(ReminderRule).where(ReminderRule.offset_minutes == 24 * 60))
    response = client.post(
        f"/admin/reminders/rules/{one_day.id}/stages/{program.stages[0].id}",
        data={"enabled": "0"},
    )
    assert response.status_code == 302
    session.refresh(one_day)
    assert one_day.applies_to(program.stages[0]) is False
    assert one_day.applies_to(program.stages[1]) is True


def test_reminder_pages_are_for_organisers_only(session, client, login):
    program = factories.program(session, stages=1)
    login(factories.staff(session, Role.PETUGAS))
    session.commit()
    assert client.get(f"/admin/programs/{program.id}/reminders").status_code == 403
    assert client.get(f"/admin/stages/{program.stages[0].id}/reminders").status_code == 403
    assert client.get(f"/admin/stages/{program.stages[0].id}/reminders.json").status_code == 403


def test_the_delivery_log_counts_by_rule_and_status_and_retries_failures(
    session, app, client, login, clock, fakes
):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    rule = _rule(session, program, offset=timedelta(days=1), window=timedelta(hours=12), channels=("email",))
    _approved(session, program, 3)
    session.commit()
    clock.set(START - timedelta(days=1))
    fakes["email"].failures = [PermanentFailure("SMTP 550: no such user", code=failures.SMTP_REFUSED)]
    _tick(session, app, clock, fakes)
    login(factories.staff(session, Role.PANITIA))
    session.commit()

    data = client.get(f"/admin/stages/{stage.id}/reminders.json").get_json()
    row = data["rows"][f"rule:{rule.id}"]
    assert row["counts"] == {"pending": 0, "sending": 0, "sent": 2, "failed": 1, "late": 0, "cancelled": 0}
    assert [(f["channel"], f["status"], f["error"]) for f in data["failures"]] == [
        ("email", "failed", "Server surat menolak pesan. SMTP 550: no such user")
    ]
    page = client.get(f"/admin/stages/{stage.id}/reminders").get_data(as_text=True)
    assert '<td data-label="Alasan">Server surat menolak pesan. SMTP 550: no such user</td>' in page

    # The stage is long past now, so retrying needs a window: move the rule's window to stay open.
    stage.starts_at = datetime.now(UTC) + timedelta(days=2)
    stage.ends_at = stage.starts_at + timedelta(hours=8)
    session.execute(Delivery.__table__.update().values(late_at=stage.starts_at))
    session.commit()
    response = client.post(f"/admin/stages/{stage.id}/reminders/retry", data={"rule_id": str(rule.id)})
    assert response.status_code == 302
    failed = session.scalar(select(Delivery).where(Delivery.status != DeliveryStatus.SENT))
    assert (failed.status, failed.attempts, failed.failure_code, failed.error) == (
        DeliveryStatus.PENDING,
        0,
        "",
        "",
    )


def test_an_announcement_is_written_on_the_stage_log_page(session, client, login):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    _approved(session, program, 2, mode=Mode.DARING)
    login(factories.staff(session, Role.PANITIA))
    session.commit()
    response = client.post(
        f"/admin/stages/{stage.id}/announcements",
        data={"text": "Link Zoom berubah: https://zoom.us/j/999", "channels": ["email"], "audience": "all"},
    )
    assert response.status_code == 302
    [announcement] = session.scalars(select(Announcement)).all()
    assert announcement.text == "Link Zoom berubah: https://zoom.us/j/999"
    assert len(_deliveries(session, announcement_id=announcement.id)) == 2

    # The log shows it next to the reminders, and a change notice after a move.
    _rule(session, program, offset=timedelta(days=1), channels=("email",))
    services.expand_due(session, START - timedelta(hours=20))
    session.execute(Delivery.__table__.update().values(status=DeliveryStatus.SENT))
    previous = stage.starts_at
    stage.starts_at += timedelta(hours=2)
    stage.ends_at += timedelta(hours=2)
    services.stage_rescheduled(session, stage, previous, START - timedelta(hours=20))
    session.commit()
    page = client.get(f"/admin/stages/{stage.id}/reminders").get_data(as_text=True)
    assert "Pengumuman: <q>Link Zoom berubah: https://zoom.us/j/999</q>" in page
    assert "Pemberitahuan perubahan jadwal" in page
    assert "semula Kamis, 24 Juni 2021, pukul 09.00 WIB" in page
    data = client.get(f"/admin/stages/{stage.id}/reminders.json").get_json()
    assert data["rows"][f"announcement:{announcement.id}"]["counts"]["sent"] == 2
    [move_key] = [key for key in data["rows"] if key.startswith("move:")]
    assert data["rows"][move_key]["counts"]["pending"] == 2  # both had the H-1 reminder


def test_preview_and_send_a_test_to_me(session, app, client, login, fakes):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    rule = _rule(session, program, offset=timedelta(days=1), channels=("email", "whatsapp"))
    [registration] = _approved(session, program, 1)
    organiser = login(factories.staff(session, Role.PANITIA))
    session.commit()

    page = client.get(
        f"/admin/stages/{stage.id}/reminders/preview?registration_id={registration.id}&rule_id={rule.id}"
    ).get_data(as_text=True)
    assert registration.person.name in page
    assert "pukul 09.00 WIB" in page

    response = client.post(
        "/admin/reminders/my-contact",
        data={
            "email": "panitia@kominfo.go.id",
            "phone": "0812 3456 7890",
            "next": f"/admin/stages/{stage.id}/reminders",
        },
    )
    assert response.status_code == 302
    session.refresh(organiser)
    assert (organiser.email, organiser.phone) == ("panitia@kominfo.go.id", "+6281234567890")

    app.extensions[jobs.CHANNELS_KEY] = fakes
    response = client.post(
        f"/admin/stages/{stage.id}/reminders/test",
        data={"registration_id": str(registration.id), "rule_id": str(rule.id)},
    )
    assert response.status_code == 302
    assert [m.to for m in fakes["email"].sent] == ["panitia@kominfo.go.id"]
    assert [m.to for m in fakes["whatsapp"].sent] == ["+6281234567890"]
    assert registration.person.name in fakes["email"].sent[0].text
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_staff_screens_hear_deliveries_changed_and_participants_get_their_notice_live(
    session, app, client, clock, fakes
):
    from workshop.extensions import socketio
    from workshop.registration import links
    from workshop.registration import services as registration_services

    program = factories.program(session, stages=1)
    stage = program.stages[0]
    _rule(session, program, offset=timedelta(days=1), channels=("email", "inapp"))
    registration = factories.registration(session, program)
    registration_services.change_status(
        session, registration, Status.APPROVED, actor=None, secret_key="test-secret-key"
    )
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    staff_client = app.test_client()
    staff_client.post("/login", data={"username": organiser.username, "password": factories.PASSWORD})
    staff_socket = socketio.test_client(app, flask_test_client=staff_client)
    assert staff_socket.emit("join_stage", {"stage_id": stage.id}, callback=True) == {
        "ok": True,
        "staff": True,
        "version": 1,  # the stage's live Q&A and polls (workshop/live/events.py)
        "results_version": None,
    }
    client.post(f"/p/{links.token_for(registration, 'test-secret-key')}")
    participant_socket = socketio.test_client(app, flask_test_client=client)
    assert participant_socket.is_connected()

    clock.set(START - timedelta(days=1))
    channels = {"email": fakes["email"]}
    result = services.tick(
        session,
        app.config,
        clock=clock,
        channels=jobs.channel_provider(app.config, session, channels),
        settings=SETTINGS,
    )
    assert result.drained.sent == 2
    assert [(m["name"], m["args"]) for m in staff_socket.get_received()] == [
        ("deliveries_changed", [{"stage_id": stage.id}]),  # expanded
        ("deliveries_changed", [{"stage_id": stage.id}]),  # sent
    ]
    [notice] = participant_socket.get_received()
    assert notice["name"] == "notice"
    assert notice["args"][0]["kind"] == "reminder"
    assert notice["args"][0]["registration_id"] == registration.id
    assert "Tahap I" in notice["args"][0]["text"]
