"""Coalesced broadcasts of live state. Changes only mark a stage or a poll; a background task of
this process sends, every `LIVE_BROADCAST_SECONDS`, one snapshot per marked stage and one tally
per marked poll, whatever number of votes or questions came in meanwhile. Each carries a version,
so clients keep the newest. With the interval at 0 (tests) every change is sent at once.

Each process broadcasts the changes made in it; with a message queue the broadcasts reach the
clients of every process. A message queue delivers at most once (a Redis restart loses what was
published meanwhile), and a process that dies right after a commit never broadcasts it; so every
`RESYNC_EVERY` each process sends again the polls that are open or closed within `RESYNC_FOR`
(from the database: whichever process took the votes) and the stages it changed within
`RESYNC_FOR`. Clients that missed a broadcast catch up without a reload.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from workshop import realtime
from workshop.db import db, sqlite_write_intent
from workshop.extensions import socketio
from workshop.live import services
from workshop.live.models import Poll, PollStatus
from workshop.live.results import VoterCache, poll_results
from workshop.live.snapshot import Tally, results_visible, stage_state
from workshop.programs.models import Stage

RESYNC_EVERY = timedelta(seconds=5)
RESYNC_FOR = timedelta(minutes=2)


def clock() -> datetime:
    return datetime.now(UTC)


class Broadcaster:
    def __init__(self, app: Flask):
        self.app = app
        self.interval = app.config["LIVE_BROADCAST_SECONDS"]
        self.stages: set[int] = set()
        self.polls: set[int] = set()
        self.recent_stages: dict[int, datetime] = {}  # when each last changed, for the resync
        self.voters = VoterCache()
        self.last_resync = clock()
        self.task = None

    def stage_changed(self, stage_id: int) -> None:
        self.stages.add(stage_id)
        self.recent_stages[stage_id] = clock()
        self._soon()

    def results_changed(self, poll_id: int) -> None:
        self.polls.add(poll_id)
        self._soon()

    def _soon(self) -> None:
        if self.interval <= 0:
            self.flush()
        elif self.task is None:
            self.task = socketio.start_background_task(self._run)

    def _run(self) -> None:
        while True:
            socketio.sleep(self.interval)
            try:
                self.flush()
            except Exception:
                self.app.logger.exception("live broadcast failed")

    def _resync(self, now: datetime) -> None:
        """Mark again what changed lately (only with the timer: tests send every change at once)."""
        for stage_id, changed_at in list(self.recent_stages.items()):
            if now - changed_at > RESYNC_FOR:
                del self.recent_stages[stage_id]
        if self.interval > 0 and now - self.last_resync >= RESYNC_EVERY:
            self.last_resync = now
            self.stages |= set(self.recent_stages)
            reading = sqlite_write_intent.set(False)
            try:
                for poll_id, stage_id in services.polls_in_play(db.session, now - RESYNC_FOR):
                    self.polls.add(poll_id)
                    self.stages.add(stage_id)
            finally:
                db.session.rollback()
                sqlite_write_intent.reset(reading)

    def flush(self) -> None:
        with self.app.app_context():
            now = clock()
            self._close_expired(now)
            self._resync(now)
            stages, self.stages = self.stages, set()
            polls, self.polls = self.polls, set()
            reading = sqlite_write_intent.set(False)
            tallies: dict[int, dict] = {}  # each poll's results computed once per flush

            def tally(poll: Poll, stage: Stage) -> dict:
                if poll.id not in tallies:
                    tallies[poll.id] = poll_results(db.session, poll, stage, now, self.voters)
                return tallies[poll.id]

            try:
                for stage_id in stages:
                    self._send_stage(stage_id, now, tally)
                for poll_id in polls:
                    self._send_results(poll_id, now, tally)
            finally:
                db.session.rollback()
                sqlite_write_intent.reset(reading)

    def _close_expired(self, now: datetime) -> None:
        """Close the polls whose countdown ran out, in whichever process opened them (a cheap read
        first: the write lock only when there is one)."""
        reading = sqlite_write_intent.set(False)
        try:
            expired = services.expired_polls(db.session, now)
        finally:
            db.session.rollback()
            sqlite_write_intent.reset(reading)
        if expired:
            for poll in services.close_expired_polls(db.session, now):
                self.stages.add(poll.stage_id)
                self.polls.add(poll.id)
            db.session.commit()

    def _send_stage(self, stage_id: int, now: datetime, tally: Tally) -> None:
        stage = db.session.get(Stage, stage_id)
        if stage is None:
            return
        socketio.emit(
            "live_state",
            stage_state(db.session, stage, now, staff=False, tally=tally),
            to=realtime.stage_room(stage_id),
        )
        socketio.emit(
            "live_staff_state",
            stage_state(db.session, stage, now, staff=True, tally=tally),
            to=realtime.moderator_room(stage_id),
        )

    def _send_results(self, poll_id: int, now: datetime, tally: Tally) -> None:
        poll = db.session.get(Poll, poll_id)
        if poll is None or poll.status == PollStatus.DRAFT:
            return
        stage = db.session.get(Stage, poll.stage_id)
        message = {
            "stage_id": stage.id,
            "poll_id": poll.id,
            "results": tally(poll, stage),
        }
        socketio.emit("poll_results", message, to=realtime.moderator_room(stage.id))
        if results_visible(poll, now, staff=False):
            socketio.emit("poll_results", message, to=realtime.stage_room(stage.id))


def broadcaster(app: Flask) -> Broadcaster:
    return app.extensions["live_broadcaster"]
