"""GET /healthz: is this web process able to serve? For load balancers, monitors and the deploy docs.

JSON, never cached. 200 when every check passes, 503 when one fails. Anyone gets the verdict
({"status": "ok"} or {"status": "fail"}); the checks below, with the database's dialect, the
schedulers' modes and the settings' names, only a request from this machine (a monitor on
loopback, nginx in front) or a logged-in admin:

- database: `SELECT 1` in a read transaction;
- redis: a PING with a short time-out to each Redis the process uses (SOCKETIO_MESSAGE_QUEUE,
  RATELIMIT_STORAGE_URI), only when one of them is a Redis URL;
- scheduler: the newest reminder-scheduler heartbeat (workshop/reminders/jobs.py beats every
  REMINDER_TICK_SECONDS); it is down when that is older than three ticks, or there is none.

Error details (host names, addresses) go to the log, not to this public page: it says only the
kind of error.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select, text

from workshop import clock
from workshop.auth.models import Role
from workshop.db import Session, db, sqlite_write_intent
from workshop.extensions import REDIS_SCHEMES, redis_client
from workshop.reminders.models import SchedulerHeartbeat
from workshop.reminders.services import live_schedulers

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

REDIS_TIMEOUT_SECONDS = 1.0
STALE_AFTER_TICKS = 3  # as the schedulers themselves count a silent one (jobs.SchedulerRunner.beat)
REDIS_SETTINGS = ("SOCKETIO_MESSAGE_QUEUE", "RATELIMIT_STORAGE_URI")


@bp.get("/healthz")
def healthz():
    report = health_report(db.session, current_app.config, now=clock.now())
    response = jsonify(report if _may_see_details() else {"status": report["status"]})
    response.status_code = 200 if report["status"] == "ok" else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _may_see_details() -> bool:
    try:
        loopback = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:  # a unix socket without a proxy in front: no address
        loopback = False
    if loopback:
        return True
    try:
        return current_user.is_authenticated and current_user.role == Role.ADMIN
    except Exception:  # the database is down: the user cannot be read
        db.session.rollback()
        return False


def health_report(session: Session, config: Mapping, *, now: datetime) -> dict:
    checks: dict[str, dict] = {"database": check_database(session)}
    urls = redis_urls(config)
    if urls:
        checks["redis"] = check_redis(urls)
    if checks["database"]["status"] == "ok":
        checks["scheduler"] = check_scheduler(
            session, now=now, tick_seconds=int(config["REMINDER_TICK_SECONDS"])
        )
    else:
        checks["scheduler"] = {"status": "fail", "error": "database unavailable"}
    status = "ok" if all(check["status"] == "ok" for check in checks.values()) else "fail"
    return {"status": status, "checks": checks}


def check_database(session: Session) -> dict:
    sqlite_write_intent.set(False)  # a read transaction (BEGIN deferred on SQLite)
    started = time.perf_counter()
    try:
        session.execute(text("SELECT 1")).scalar_one()
        session.rollback()
    except Exception as error:
        session.rollback()
        log.warning("health: database check failed: %s", error)
        return {"status": "fail", "error": type(error).__name__}
    return {
        "status": "ok",
        "dialect": session.get_bind().dialect.name,
        "latency_ms": _milliseconds(started),
    }


def redis_urls(config: Mapping) -> dict[str, str]:
    """The settings that point at a Redis server, by name."""
    urls = {}
    for name in REDIS_SETTINGS:
        value = config.get(name) or ""
        if value.startswith(REDIS_SCHEMES):
            urls[name] = value
    return urls


def check_redis(urls: Mapping[str, str]) -> dict:
    started = time.perf_counter()
    servers = {}
    for name, url in urls.items():
        client = redis_client(url, REDIS_TIMEOUT_SECONDS)
        try:
            client.ping()
            servers[name] = "ok"
        except Exception as error:
            log.warning("health: Redis of %s does not answer: %s", name, error)
            servers[name] = f"fail: {type(error).__name__}"
        finally:
            client.close()
    status = "ok" if all(state == "ok" for state in servers.values()) else "fail"
    return {"status": status, "servers": servers, "latency_ms": _milliseconds(started)}


def check_scheduler(session: Session, *, now: datetime, tick_seconds: int) -> dict:
    within = timedelta(seconds=STALE_AFTER_TICKS * tick_seconds)
    try:
        last = session.scalar(
            select(SchedulerHeartbeat.beat_at).order_by(SchedulerHeartbeat.beat_at.desc()).limit(1)
        )
        running = live_schedulers(session, now, within)
        session.rollback()
    except Exception as error:
        session.rollback()
        log.warning("health: scheduler heartbeat unreadable: %s", error)
        return {"status": "fail", "error": type(error).__name__}
    report = {
        "status": "ok" if running else "fail",
        "last_heartbeat": last.isoformat() if last else None,
        "age_seconds": round((now - last).total_seconds(), 1) if last else None,
        "max_age_seconds": int(within.total_seconds()),
        "running": len(running),
        "modes": [scheduler.mode for scheduler in running],
    }
    if not running:
        report["error"] = (
            "no reminder scheduler is running: start `flask scheduler` (or the web process with "
            "EMBEDDED_SCHEDULER=1)"
        )
    elif len(running) > 1:
        report["warning"] = "more than one reminder scheduler is running: keep one"
    return report


def _milliseconds(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
