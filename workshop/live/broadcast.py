"""Coalesced broadcasts of live state, sent by a background task of each process every
`LIVE_BROADCAST_SECONDS` (with the interval at 0, in tests, at every change), or less often when
the process holds so many sockets that a tick's messages would take more than `SENDS_PER_SECOND`:
the tally then moves in fewer, larger steps instead of the broadcasts crowding out the votes. Each
message carries a version, so clients keep the newest.

- Stage state (questions, the poll in play, settings): a change marks its stage, and the next tick
  sends one snapshot per marked stage and group room (each group's room gets the plenary items and
  its own, the stage's plenary room those of the participants in no group: workshop/groups/events.py),
  through the message queue to the clients of every process.
- Poll results: every tick, each process reads from the database the results version of the polls
  in play on the stages its own sockets joined, and sends the results that moved to its own
  clients only, whichever process took the votes. A vote burst so costs each process one message
  per tick to each of its clients, however many processes take votes, and no tally goes through
  the message queue.

A message queue delivers at most once (a Redis restart loses what was published meanwhile), and a
process that dies right after a commit never broadcasts it. So every `RESYNC_EVERY` each process
reads the version of the stages its sockets joined and sends its own clients the state of those
whose version moved since it last looked; and the staff state of the stages it changed within
`RESYNC_FOR` goes to the moderators again, through the queue (pending questions bump no version).
Clients that missed a broadcast catch up without a reload.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask

from workshop import clock, realtime
from workshop.db import db, sqlite_write_intent
from workshop.extensions import socketio
from workshop.groups.events import group_room, plenary_room
from workshop.live import services
from workshop.live.models import Poll
from workshop.live.snapshot import Tally, group_states, results_visible, stage_state
from workshop.live.tally import LiveTallies
from workshop.programs.models import Stage

RESYNC_EVERY = timedelta(seconds=5)
SENDS_PER_SECOND = 8000  # messages to this process's sockets a second, at most, for the ticks
RESYNC_FOR = timedelta(minutes=2)


class Broadcaster:
    def __init__(self, app: Flask):
        self.app = app
        self.interval = app.config["LIVE_BROADCAST_SECONDS"]
        self.stages: set[int] = set()  # changed in this process since the last tick
        self.recent_stages: dict[int, datetime] = {}  # when each last changed, for the resync
        self.sent_results: dict[int, tuple[int, bool]] = {}  # poll -> (version, participants see it)
        self.stage_versions: dict[int, int] = {}  # the version of each stage this process last saw
        self.tallies = LiveTallies()
        self.last_resync = clock.now()
        self.task = None

    def stage_changed(self, stage_id: int) -> None:
        self.stages.add(stage_id)
        self.recent_stages[stage_id] = clock.now()
        self._soon()

    def results_changed(self, poll_id: int) -> None:
        """Votes were committed: the next tick reads which results moved."""
        self._soon()

    def listen(self) -> None:
        """A socket of this process joined a stage: keep the ticks going, even if no change is made
        here, to send it the votes other processes take."""
        if self.interval > 0:
            self._soon()

    def _soon(self) -> None:
        if self.interval <= 0:
            self.flush()
        elif self.task is None:
            self.task = socketio.start_background_task(self._run)

    def period(self) -> float:
        """Seconds between ticks: the interval, longer with more sockets than it can send to."""
        return max(self.interval, len(realtime.socket_users) / SENDS_PER_SECOND)

    def _run(self) -> None:
        while True:
            socketio.sleep(self.period())
            try:
                self.flush()
            except Exception:
                self.app.logger.exception("live broadcast failed")

    def flush(self) -> None:
        with self.app.app_context():
            now = clock.now()
            self._close_expired(now)
            queued, self.stages = self.stages, set()
            reading = sqlite_write_intent.set(False)
            tallies: dict[int, dict] = {}  # each poll's results computed once per tick

            def tally(poll: Poll, stage: Stage) -> dict:
                if poll.id not in tallies:
                    tallies[poll.id] = self.tallies.results(db.session, poll, stage, now)
                return tallies[poll.id]

            try:
                listened = realtime.local_stage_ids()
                in_play = services.polls_in_play(db.session, now - RESYNC_FOR, listened) if listened else []
                self.tallies.keep_only({poll.id for poll in in_play})
                for stage_id in queued:
                    self._send_stage(stage_id, now, tally, local=False)
                if self._resync_due(now):
                    for stage_id in self._moved_stages(listened) - queued:
                        self._send_stage(stage_id, now, tally, local=True)
                    for stage_id in set(self.recent_stages) - queued:
                        self._send_staff_state(stage_id, now, tally)
                self._send_moved_results(in_play, now, tally)
            finally:
                db.session.rollback()
                sqlite_write_intent.reset(reading)

    def _resync_due(self, now: datetime) -> bool:
        """Only with the timer: tests send every change at once."""
        for stage_id, changed_at in list(self.recent_stages.items()):
            if now - changed_at > RESYNC_FOR:
                del self.recent_stages[stage_id]
        if self.interval > 0 and now - self.last_resync >= RESYNC_EVERY:
            self.last_resync = now
            return True
        return False

    def _moved_stages(self, listened: set[int]) -> set[int]:
        """The stages whose version moved since this process last saw it (the first look only notes
        it: a page that joined since fetched its snapshot)."""
        seen = self.stage_versions
        self.stage_versions = services.stage_versions(db.session, listened) if listened else {}
        return {
            stage_id
            for stage_id, version in self.stage_versions.items()
            if stage_id in seen and seen[stage_id] != version
        }

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
            db.session.commit()

    def _send_stage(self, stage_id: int, now: datetime, tally: Tally, *, local: bool) -> None:
        stage = db.session.get(Stage, stage_id)
        if stage is None:
            return
        # Each group's room gets the plenary items and its own; those in no group the plenary ones.
        for group_id, state in group_states(db.session, stage, now, tally).items():
            room = plenary_room(stage_id) if group_id is None else group_room(group_id)
            self.stage_versions[stage_id] = state["version"]
            socketio.emit("live_state", state, to=room, ignore_queue=local)
        self._send_staff_state(stage_id, now, tally, local=local)

    def _send_staff_state(self, stage_id: int, now: datetime, tally: Tally, *, local: bool = False) -> None:
        stage = db.session.get(Stage, stage_id)
        if stage is None:
            return
        socketio.emit(
            "live_staff_state",
            stage_state(db.session, stage, now, staff=True, tally=tally),
            to=realtime.moderator_room(stage_id),
            ignore_queue=local,
        )

    def _send_moved_results(self, in_play: list[Poll], now: datetime, tally: Tally) -> None:
        sent, self.sent_results = self.sent_results, {}
        for poll in in_play:
            shown = (poll.results_version, results_visible(poll, now, staff=False))
            self.sent_results[poll.id] = shown
            if sent.get(poll.id) == shown:
                continue
            stage = db.session.get_one(Stage, poll.stage_id)
            message = {"stage_id": stage.id, "poll_id": poll.id, "results": tally(poll, stage)}
            socketio.emit(
                "poll_results", message, to=realtime.moderator_room(poll.stage_id), ignore_queue=True
            )
            if shown[1]:  # a group's poll: to its members only
                room = (
                    realtime.stage_room(poll.stage_id) if poll.group_id is None else group_room(poll.group_id)
                )
                socketio.emit("poll_results", message, to=room, ignore_queue=True)


def broadcaster(app: Flask) -> Broadcaster:
    return app.extensions["live_broadcaster"]
