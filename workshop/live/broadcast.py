"""Coalesced broadcasts of live state, sent by a background task of each process every
`LIVE_BROADCAST_SECONDS` (with the interval at 0, in tests, at every change), or less often when
the process holds so many sockets that a tick's messages would take more than `SENDS_PER_SECOND`:
the tally then moves in fewer, larger steps instead of the broadcasts crowding out the votes. When
the votes this process takes pause for `SETTLE` (the end of a burst), the next tick goes at once,
no sooner than the interval: the last votes reach everyone without waiting for a long period. Each
message carries a version, so clients keep the newest.

- Stage state (questions, the poll in play, settings): a change marks its stage, and the next tick
  sends one snapshot per marked stage and group room (each group's room gets the plenary items and
  its own, the stage's plenary room those of the participants in no group: workshop/groups/events.py),
  through the message queue to the clients of every process.
- Poll results: every tick, the process that counts reads from the database the results version
  of the polls in play and sends the results that moved to its own clients only, whichever process
  took the votes. Alone, a process counts for the stages its sockets joined. With a Redis message
  queue one process leads (workshop/live/cluster.py): it counts every stage's polls and stores the
  results messages in Redis, where the others read them each tick and send those that moved to
  their own clients; so a vote is read once in the cluster, and the ticks are paced by the sockets
  of all processes. When Redis does not answer, each process counts for its own clients. A vote
  burst so costs each process one message per tick to each of its clients, however many processes
  take votes, and no tally goes through the message queue.

A message queue delivers at most once (a Redis restart loses what was published meanwhile), and a
process that dies right after a commit never broadcasts it. So every `RESYNC_EVERY` each process
reads the version of the stages its sockets joined and sends its own clients the state of those
whose version moved since it last looked; and the staff state of the stages it changed within
`RESYNC_FOR` goes to the moderators again, through the queue (pending questions bump no version).
Clients that missed a broadcast catch up without a reload.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

from flask import Flask
from redis.exceptions import RedisError

from workshop import clock, realtime
from workshop.db import db, sqlite_write_intent
from workshop.extensions import socketio
from workshop.groups.events import group_room, plenary_room
from workshop.live import services
from workshop.live.cluster import cluster_of
from workshop.live.models import Poll
from workshop.live.snapshot import Tally, group_states, results_visible, stage_state
from workshop.live.tally import LiveTallies
from workshop.programs.models import Stage

RESYNC_EVERY = timedelta(seconds=5)
SENDS_PER_SECOND = 8000  # messages to this process's sockets a second, at most, for the ticks
SETTLE = 0.1  # seconds without a vote written here after which the moved results go out
TIMER_RESOLUTION = 0.001  # seconds: a tick this close to the end of its period is due
RESYNC_FOR = timedelta(minutes=2)
LEASE = 2.0  # seconds, at least, that the leading process keeps the lead without a tick
LEAD, FOLLOW, ALONE = "lead", "follow", "alone"  # how a process gets its tallies (flush)


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
        self.cluster = cluster_of(app.config["SOCKETIO_MESSAGE_QUEUE"])
        self.cluster_down = False
        self.audience = 0  # the sockets of all processes, as the cluster last told
        self.shared: dict[int, dict[int, dict]] = {}  # leading: stage -> poll -> results stored
        self.relayed: dict[int, bytes] = {}  # following: poll -> the stored results last sent
        self.to_relay: dict[int, bytes] = {}  # following: those read at this tick
        self.last_votes: float | None = None  # time.monotonic() of the last votes written here since the tick

    def stage_changed(self, stage_id: int) -> None:
        self.stages.add(stage_id)
        self.recent_stages[stage_id] = clock.now()
        self._soon()

    def results_changed(self, poll_id: int) -> None:
        """Votes were committed: the next tick reads which results moved."""
        self.last_votes = time.monotonic()
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
        """Seconds between ticks: the interval, longer with more sockets (of this process, or of
        all in a cluster) than it can send to."""
        return max(self.interval, max(len(realtime.socket_users), self.audience) / SENDS_PER_SECOND)

    def _run(self) -> None:
        while True:
            self._wait_for_tick()
            try:
                self.flush()
            except Exception:
                self.app.logger.exception("live broadcast failed")

    def _wait_for_tick(self) -> None:
        """The interval, then until the period ends or the votes written here settle."""
        started = time.monotonic()
        socketio.sleep(self.interval)
        while (left := started + self.period() - time.monotonic()) > TIMER_RESOLUTION:
            if self.last_votes is not None and time.monotonic() - self.last_votes >= SETTLE:
                return
            socketio.sleep(min(SETTLE / 2, left))

    def flush(self) -> None:
        self.last_votes = None
        with self.app.app_context():
            now = clock.now()
            listened = realtime.local_stage_ids()
            role = self._role(listened)
            if role != FOLLOW:
                self._close_expired(now)
            queued, self.stages = self.stages, set()
            reading = sqlite_write_intent.set(False)
            tallies: dict[int, dict] = {}  # each poll's results computed once per tick

            def tally(poll: Poll, stage: Stage) -> dict:
                if poll.id not in tallies:
                    tallies[poll.id] = self.tallies.results(db.session, poll, stage, now)
                return tallies[poll.id]

            try:
                in_play = []
                if role == LEAD:
                    in_play = services.polls_in_play(db.session, now - RESYNC_FOR)
                elif role == ALONE and listened:
                    in_play = services.polls_in_play(db.session, now - RESYNC_FOR, listened)
                self.tallies.keep_only({poll.id for poll in in_play})
                for stage_id in queued:
                    self._send_stage(stage_id, now, tally, local=False)
                if self._resync_due(now):
                    for stage_id in self._moved_stages(listened) - queued:
                        self._send_stage(stage_id, now, tally, local=True)
                    for stage_id in set(self.recent_stages) - queued:
                        self._send_staff_state(stage_id, now, tally)
                if role == FOLLOW:
                    self._relay_results()
                else:
                    self._send_moved_results(in_play, now, tally, share=role == LEAD)
            except RedisError as error:
                self._cluster_failed(error)
            finally:
                db.session.rollback()
                sqlite_write_intent.reset(reading)

    def _role(self, listened: set[int]) -> str:
        """LEAD: this process counts every stage's tallies for the cluster; FOLLOW: it sends its
        clients the leader's (read here); ALONE: it counts for its own clients (no cluster, or
        Redis does not answer). A process that leads no more, or follows no more, forgets what it
        shared."""
        role, stored = ALONE, {}
        if self.cluster is not None:
            try:
                lease = max(LEASE, 3 * self.period())
                tick = self.cluster.tick(len(realtime.socket_users), lease, listened)
                role, self.audience, stored = LEAD if tick.leads else FOLLOW, tick.sockets, tick.results
                if self.cluster_down:
                    self.app.logger.info("live broadcast: Redis answers again, tallies shared")
                self.cluster_down = False
            except RedisError as error:
                self._cluster_failed(error)
        if role != LEAD:
            self.shared = {}
        if role == FOLLOW:
            self.sent_results, self.to_relay = {}, stored
        else:
            self.relayed = self.to_relay = {}
        return role

    def _cluster_failed(self, error: RedisError) -> None:
        """Count here from the next tick; what was just sent may not be stored: send all again."""
        if not self.cluster_down:
            self.app.logger.warning("live broadcast: Redis does not answer (%s), tallies counted here", error)
            self.sent_results, self.shared = {}, {}
        self.cluster_down = True
        self.audience = 0

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

    def _send_moved_results(self, in_play: list[Poll], now: datetime, tally: Tally, *, share: bool) -> None:
        """Send the results that moved to this process's clients; leading (`share`), store them
        for the other processes too."""
        sent, self.sent_results = self.sent_results, {}
        changed: set[int] = set()  # stages whose stored results change
        for poll in in_play:
            shown = (poll.results_version, results_visible(poll, now, staff=False))
            self.sent_results[poll.id] = shown
            if sent.get(poll.id) == shown:
                continue
            stage = db.session.get_one(Stage, poll.stage_id)
            message = {"stage_id": stage.id, "poll_id": poll.id, "results": tally(poll, stage)}
            self._send_results(message, poll.group_id, visible=shown[1])
            if share:
                shared = {"group_id": poll.group_id, "visible": shown[1], "message": message}
                self.shared.setdefault(stage.id, {})[poll.id] = shared
                changed.add(stage.id)
        if share:
            for stage_id, polls in list(self.shared.items()):  # polls out of play leave the store
                for poll_id in polls.keys() - self.sent_results.keys():
                    del polls[poll_id]
                    changed.add(stage_id)
                if not polls:
                    del self.shared[stage_id]
            if changed:
                assert self.cluster is not None
                self.cluster.store({stage_id: self.shared.get(stage_id, {}) for stage_id in changed})

    def _relay_results(self) -> None:
        """Send this process's clients the results that the leading process stored that moved."""
        relayed, self.relayed = self.relayed, self.to_relay
        for poll_id, raw in self.relayed.items():
            if relayed.get(poll_id) != raw:
                shared = json.loads(raw)
                self._send_results(shared["message"], shared["group_id"], visible=shared["visible"])

    @staticmethod
    def _send_results(message: dict, group_id: int | None, *, visible: bool) -> None:
        """To the stage's moderators, and if participants see the results, to the stage's room (a
        group's poll: to the group's room): one emit, so the message is encoded once a tick."""
        stage_id = message["stage_id"]
        rooms = [realtime.moderator_room(stage_id)]
        if visible:
            rooms.append(realtime.stage_room(stage_id) if group_id is None else group_room(group_id))
        socketio.emit("poll_results", message, to=rooms, ignore_queue=True)


def broadcaster(app: Flask) -> Broadcaster:
    return app.extensions["live_broadcaster"]
