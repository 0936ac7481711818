"""APScheduler 3.11 drives the reminder engine: one short periodic job over the database.

Exactly one scheduler should run: embedded in `python app.py` (a GeventScheduler, started from
app.py's __main__ block, never in the Werkzeug reloader's parent, never in tests), or as its own
process with `flask scheduler` (a BackgroundScheduler) when several web processes serve; then set
EMBEDDED_SCHEDULER=0 for the web processes. A second scheduler started by mistake does no harm:
deliveries are claimed atomically, so it only shares the work. Every scheduler beats a row in
scheduler_heartbeat, removes it on a clean stop (SIGTERM, Ctrl-C), and logs a warning when it sees
another one beating: a row that beats again after it was first seen, so the row a killed process
left behind never counts (it leaves /healthz after three ticks, and the table after a day).

The job runs every REMINDER_TICK_SECONDS with misfire_grace_time=None and coalesce=True: a run
that fell due while the process was busy or down runs once, late, instead of being dropped. Nothing
depends on that, though: the database holds what is due, so a restart picks everything up.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask

from workshop import clock
from workshop.db import db
from workshop.reminders import services
from workshop.reminders.channels import EmailChannel

log = logging.getLogger(__name__)

JOB_ID = "reminders"
SCHEDULER_KEY = "reminder_scheduler"
RUNNER_KEY = "reminder_scheduler_runner"
# Test hook: app.extensions[CHANNELS_KEY] = {"email": channel, ...} replaces those channels.
CHANNELS_KEY = "reminder_channels"


class SchedulerRunner:
    """What the periodic job does, for one scheduler (one process)."""

    def __init__(self, app: Flask, mode: str):
        self.app = app
        self.mode = mode
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.name = f"{mode}:{self.host}:{self.pid}"
        self.started_at = clock.now()
        self.stopping = threading.Event()
        self._first_seen: dict[str, datetime] = {}  # other schedulers' beat when first seen
        self._warned_about: set[str] = set()

    @property
    def tick_seconds(self) -> int:
        return int(self.app.config["REMINDER_TICK_SECONDS"])

    def tick(self) -> services.TickResult | None:
        with self.app.app_context():
            session = db.session
            try:
                self.beat()
                result = services.tick(
                    session,
                    self.app.config,
                    clock=clock.now,
                    channels=channel_provider(
                        self.app.config, session, self.app.extensions.get(CHANNELS_KEY)
                    ),
                    should_stop=self.stopping.is_set,
                    on_batch=lambda _batch: self.beat(),
                    worker=self.name,
                )
            except Exception:
                log.exception("reminder tick failed")
                session.rollback()
                return None
            finally:
                EmailChannel.close_all()
                db.session.remove()
        drained = result.drained
        if result.expanded or result.late or drained.claimed or result.released:
            log.info(
                "reminders: %d new, %d sent, %d retrying, %d failed, %d late, %d cancelled, %d released",
                result.expanded,
                drained.sent,
                drained.retrying,
                drained.failed,
                result.late + drained.late,
                drained.cancelled,
                result.released,
            )
        return result

    def beat(self) -> None:
        session = db.session
        now = clock.now()
        services.beat(
            session,
            name=self.name,
            mode=self.mode,
            pid=self.pid,
            host=self.host,
            started_at=self.started_at,
            now=now,
        )
        session.commit()
        within = timedelta(seconds=3 * self.tick_seconds)
        for other in services.live_schedulers(session, now, within):
            if other.name == self.name or other.name in self._warned_about:
                continue
            first_seen = self._first_seen.setdefault(other.name, other.beat_at)
            if other.beat_at > first_seen:  # it beat again since: it runs (not a stopped one's row)
                self._warned_about.add(other.name)
                log.warning(
                    "another reminder scheduler is running (%s, started %s): run only one; "
                    "deliveries are claimed atomically, so none is sent twice",
                    other.name,
                    other.started_at.isoformat(),
                )
        session.commit()

    def forget(self) -> None:
        """Remove this scheduler's heartbeat row (a clean stop)."""
        with self.app.app_context():
            services.stop_beating(db.session, self.name)
            db.session.commit()
            db.session.remove()


def channel_provider(config: Mapping, session, overrides: Mapping | None) -> services.ChannelProvider:
    default = services.default_channels(config, session)
    if not overrides:
        return default
    return lambda name: overrides[name] if name in overrides else default(name)


def _schedule(scheduler, runner: SchedulerRunner) -> None:
    timezone = scheduler.timezone
    scheduler.add_job(
        runner.tick,
        "interval",
        seconds=runner.tick_seconds,
        id=JOB_ID,
        name="reminders: expand and send due deliveries",
        misfire_grace_time=None,  # a run due while busy or down runs late, never dropped
        coalesce=True,  # several missed runs: one run
        max_instances=1,
        next_run_time=clock.now().astimezone(timezone),  # once at start: catch up after downtime
        replace_existing=True,
    )


def in_reloader_parent(app: Flask) -> bool:
    """The Werkzeug reloader runs the script twice: a watching parent and the serving child."""
    return bool(app.debug) and os.environ.get("WERKZEUG_RUN_MAIN") != "true"


def start_embedded_scheduler(app: Flask):
    """Start the scheduler inside the web process (`python app.py`, under gevent).

    Not with EMBEDDED_SCHEDULER=0 (a `flask scheduler` process runs instead), not in the
    reloader's parent process. Returns the scheduler, or None when none was started.
    """
    if not app.config.get("EMBEDDED_SCHEDULER", True):
        log.info("embedded reminder scheduler off (EMBEDDED_SCHEDULER=0): run `flask scheduler`")
        return None
    if in_reloader_parent(app):
        return None
    from apscheduler.schedulers.gevent import GeventScheduler

    runner = SchedulerRunner(app, "embedded")
    scheduler = GeventScheduler(timezone=ZoneInfo(app.config["DEFAULT_TIMEZONE"]))
    _schedule(scheduler, runner)
    scheduler.start()
    app.extensions[SCHEDULER_KEY] = scheduler
    app.extensions[RUNNER_KEY] = runner
    print(f"Reminder scheduler: embedded, every {runner.tick_seconds} s ({runner.name})", flush=True)
    return scheduler


def stop_embedded_scheduler(app: Flask) -> None:
    """A clean stop of the web process: the delivery being sent finishes, the rest of the claimed
    batch is given back, and the heartbeat row goes, so the next start sees no other scheduler."""
    scheduler = app.extensions.pop(SCHEDULER_KEY, None)
    runner = app.extensions.pop(RUNNER_KEY, None)
    if scheduler is None or runner is None:
        return
    runner.stopping.set()
    if scheduler.running:
        scheduler.shutdown(wait=True)
    runner.forget()


def wake(app: Flask) -> bool:
    """Run the job now (e.g. after an announcement) when this process has the scheduler."""
    scheduler = app.extensions.get(SCHEDULER_KEY)
    if scheduler is None or not scheduler.running:
        return False
    try:
        scheduler.modify_job(JOB_ID, next_run_time=clock.now().astimezone(scheduler.timezone))
    except Exception:  # the job may be running right now; it drains what is due anyway
        log.debug("could not wake the reminder job", exc_info=True)
        return False
    return True


def run_scheduler_process(app: Flask, *, echo=print) -> None:
    """`flask scheduler`: a BackgroundScheduler in this process until SIGTERM or Ctrl-C.

    On a stop, the delivery being sent finishes, the rest of the claimed batch is given back
    (pending again), and the heartbeat row is removed.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    runner = SchedulerRunner(app, "process")
    stop = threading.Event()

    def _stop(signum, frame):
        stop.set()
        runner.stopping.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler = BackgroundScheduler(timezone=ZoneInfo(app.config["DEFAULT_TIMEZONE"]))
    _schedule(scheduler, runner)
    scheduler.start()
    echo(f"Reminder scheduler: every {runner.tick_seconds} s ({runner.name}); Ctrl-C stops it.")
    while not stop.wait(1.0):
        pass
    scheduler.shutdown(wait=True)
    runner.forget()
    echo("Reminder scheduler stopped.")
