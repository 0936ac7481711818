"""Real `flask scheduler` processes on one SQLite file (WAL), sending through the real SMTP
channel into an aiosmtpd server on localhost.

- Two schedulers at once (one started by mistake): every recipient gets exactly one message per
  rule and channel.
- A scheduler killed with SIGKILL in the middle of a batch, then restarted: everything is sent,
  and only deliveries that were claimed (in flight) at the kill may have gone out twice.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from tests import factories
from workshop import create_app
from workshop.db import db, sqlite_write_intent
from workshop.registration.models import Notice, Status
from workshop.reminders.models import Audience, Delivery, DeliveryStatus, ReminderRule, ReminderSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
SECRET_KEY = "scheduler-processes-test-key"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    """aiosmtpd handler: counts messages per recipient, and can call back when the n-th message
    arrives (while that message's client waits for the answer)."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.lock = threading.Lock()
        self.by_recipient: collections.Counter[str] = collections.Counter()
        self.total = 0
        self.on_count: tuple[int, threading.Event, threading.Event] | None = None

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.total += 1
            for recipient in envelope.rcpt_tos:
                self.by_recipient[recipient] += 1
            trigger = self.on_count if self.on_count and self.total == self.on_count[0] else None
        if trigger is not None:
            _, reached, resume = trigger
            reached.set()
            await asyncio.get_running_loop().run_in_executor(None, resume.wait, 10)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 OK"


@pytest.fixture
def sink():
    handler = Sink(delay=0.004)
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "scheduler.sqlite3"
    url = f"sqlite:///{path}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "TESTING": True})
    # Our writes begin IMMEDIATE while the schedulers write too, whatever an earlier test's request
    # left in this thread's context (a GET sets deferred transactions).
    intent = sqlite_write_intent.set(True)
    try:
        with app.app_context():
            db.create_all()
            yield app, url, path
            db.session.remove()
            db.engine.dispose()
    finally:
        sqlite_write_intent.reset(intent)


def _environment(url: str, smtp_port: int, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMTP_", "WHATSAPP_", "REMINDER_"))
    }
    env.update(
        DATABASE_URL=url,
        SECRET_KEY=SECRET_KEY,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        SMTP_USE_TLS="0",
        MAIL_FROM="Panitia Bimtek <panitia@bimtek.test>",
        REMINDER_TICK_SECONDS="1",
        REMINDER_BATCH_SIZE="20",
        REMINDER_LEASE_SECONDS="3",
        EMBEDDED_SCHEDULER="0",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [FLASK, "--app", "workshop:create_app()", "scheduler"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def _count(path: Path, sql: str) -> int:
    connection = sqlite3.connect(path, timeout=10)
    try:
        return connection.execute(sql).fetchone()[0]
    finally:
        connection.close()


def _statuses() -> list:
    return db.session.execute(
        select(Delivery.status, Delivery.attempts, func.count()).group_by(Delivery.status, Delivery.attempts)
    ).all()


def _wait_for(condition, timeout: float, what: str, processes=()) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        stopped = any(process.poll() is not None for process in processes)
        if stopped or time.monotonic() > deadline:
            outputs = "\n---\n".join(_stop(process) for process in processes)
            problem = "a scheduler exited early" if stopped else f"timed out waiting for {what}"
            raise AssertionError(f"{problem}; deliveries: {_statuses()}; the schedulers said:\n{outputs}")
        time.sleep(0.1)


def _participants(session, count: int, *, starts_in: timedelta):
    """A programme whose stage starts soon, with `count` approved participants and no rule yet."""
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    stage.starts_at = datetime.now(UTC) + starts_in
    stage.ends_at = stage.starts_at + timedelta(hours=8)
    session.add(ReminderSettings(program_id=program.id, created_at=datetime.now(UTC)))  # no default rules
    organization = factories.organization(session)
    registrations = [
        factories.registration(session, program, status=Status.APPROVED, org=organization)
        for _ in range(count)
    ]
    session.commit()
    return program, registrations


def _add_rule(session, program, channels: str) -> ReminderRule:
    rule = ReminderRule(
        program_id=program.id,
        offset_minutes=60,
        window_minutes=None,
        channels=channels,
        audience=Audience.ALL,
        created_at=datetime.now(UTC) - timedelta(hours=1),
    )
    session.add(rule)
    session.commit()
    return rule


SENT = "SELECT count(*) FROM delivery WHERE status = 'SENT'"


def test_two_scheduler_processes_send_every_message_exactly_once(database, sink):
    _app, url, path = database
    session = db.session
    program, registrations = _participants(session, 250, starts_in=timedelta(minutes=30))
    # A long lease: on a busy machine a short one could run out mid-batch and hand a delivery that
    # is still being sent to the other scheduler (the kill test below relies on a short one).
    env = _environment(url, sink.port, REMINDER_LEASE_SECONDS="60")
    processes = [_start(env), _start(env)]
    try:
        # Both schedulers are beating before anything is due, so both take part.
        _wait_for(
            lambda: _count(path, "SELECT count(DISTINCT pid) FROM scheduler_heartbeat") == 2,
            20,
            "two heartbeats",
            processes,
        )
        _add_rule(session, program, "email,inapp")  # due now: 250 x 2 = 500 deliveries
        _wait_for(lambda: _count(path, SENT) == 500, 45, "500 sent deliveries", processes)
        time.sleep(1.5)  # another tick each: nothing more may go out
    finally:
        outputs = [_stop(process) for process in processes]

    assert all(process.returncode == 0 for process in processes), outputs
    emails = {r.person.email for r in registrations}
    assert sink.by_recipient == collections.Counter({email: 1 for email in emails})
    senders = session.execute(select(Delivery.sent_by, func.count()).group_by(Delivery.sent_by)).all()
    assert sorted(name.split(":")[2] for name, _ in senders) == sorted(str(p.pid) for p in processes)
    notices = session.execute(
        select(Notice.registration_id, func.count()).group_by(Notice.registration_id)
    ).all()
    assert sorted(notices) == sorted((r.id, 1) for r in registrations)
    statuses = session.execute(
        select(Delivery.channel, Delivery.status, func.count()).group_by(Delivery.channel, Delivery.status)
    ).all()
    assert sorted(statuses) == [("email", DeliveryStatus.SENT, 250), ("inapp", DeliveryStatus.SENT, 250)]
    assert any("another reminder scheduler is running" in output for output in outputs)
    assert _count(path, "SELECT count(*) FROM scheduler_heartbeat") == 0  # both stopped cleanly


def test_a_scheduler_killed_mid_batch_and_restarted_repeats_only_deliveries_in_flight(database, sink):
    _app, url, path = database
    session = db.session
    program, registrations = _participants(session, 200, starts_in=timedelta(minutes=30))
    reached, resume = threading.Event(), threading.Event()
    sink.on_count = (70, reached, resume)  # the 70th message: the sender waits for our answer
    env = _environment(url, sink.port)
    first = _start(env)
    try:
        _wait_for(
            lambda: _count(path, "SELECT count(*) FROM scheduler_heartbeat") == 1, 20, "a heartbeat", [first]
        )
        _add_rule(session, program, "email")
        assert reached.wait(30), "the scheduler never got to the 70th message"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        resume.set()
        _stop(first)
    assert first.returncode == -signal.SIGKILL

    in_flight = set(
        session.scalars(select(Delivery.registration_id).where(Delivery.status == DeliveryStatus.SENDING))
    )
    sent_before = _count(path, SENT)
    assert 1 <= len(in_flight) <= 20  # a batch was in flight, at most one batch
    assert sent_before < 200
    email_of = {r.id: r.person.email for r in registrations}
    db.session.remove()

    second = _start(env)
    try:
        _wait_for(lambda: _count(path, SENT) == 200, 45, "200 sent deliveries", [second])
    finally:
        output = _stop(second)
    assert second.returncode == 0, output

    in_flight_emails = {email_of[registration_id] for registration_id in in_flight}
    assert set(sink.by_recipient) == set(email_of.values())  # everybody got the reminder
    repeated = {email for email, count in sink.by_recipient.items() if count > 1}
    assert repeated <= in_flight_emails  # only deliveries in flight at the kill repeat ...
    assert max(sink.by_recipient.values()) == 2  # ... at most once more
    # The message being answered at the kill had reached the server: it is among the repeats.
    assert len(repeated) >= 1


def _start_web(env: dict[str, str], port: int) -> subprocess.Popen:
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_USE_TLS", "MAIL_FROM"):
        env.pop(key, None)  # no SMTP server and no gateway: the dev outbox
    return subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def test_python_app_py_runs_the_embedded_scheduler(database):
    _app, url, path = database
    session = db.session
    program, _ = _participants(session, 3, starts_in=timedelta(minutes=30))
    _add_rule(session, program, "whatsapp,inapp")
    web = _start_web(_environment(url, 0, EMBEDDED_SCHEDULER="1"), _free_port())
    try:
        _wait_for(lambda: _count(path, SENT) == 6, 60, "6 sent deliveries", [web])
        heartbeats = _count(path, "SELECT count(*) FROM scheduler_heartbeat WHERE mode = 'embedded'")
    finally:
        output = _stop(web)
    assert heartbeats == 1
    assert "Reminder scheduler: embedded, every 1 s" in output
    assert _count(path, "SELECT count(*) FROM outbox_message WHERE channel = 'whatsapp'") == 3
    assert _count(path, "SELECT count(*) FROM notice WHERE kind = 'reminder'") == 3


def test_python_app_py_without_the_embedded_scheduler_sends_nothing(database):
    _app, url, path = database
    session = db.session
    program, _ = _participants(session, 3, starts_in=timedelta(minutes=30))
    _add_rule(session, program, "whatsapp,inapp")
    port = _free_port()
    web = _start_web(_environment(url, 0, EMBEDDED_SCHEDULER="0"), port)
    try:
        _wait_for(lambda: _listening(port), 60, "the web server", [web])
        time.sleep(2.5)  # more than two ticks' worth
    finally:
        output = _stop(web)
    assert "Reminder scheduler" not in output
    assert _count(path, "SELECT count(*) FROM scheduler_heartbeat") == 0
    assert _count(path, "SELECT count(*) FROM delivery") == 0
