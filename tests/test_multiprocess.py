"""The multi-process deployment of docs/deploy.md, for real: a throwaway PostgreSQL server, a
redis-server, two gunicorn web processes A and B (one gevent worker each, EMBEDDED_SCHEDULER=0,
Socket.IO and the rate limits on Redis), one `flask scheduler` process and nginx in front of A and
B, every one of them a real process on loopback. Participants log in with their personal links
(through nginx, each from its own address 127.0.0.N) and talk Socket.IO over real WebSockets.

1. A participant connected to A sees, within 1 s, the results of votes cast through B, and of
   WhatsApp replies whose webhooks B (Fonnte) and nginx (Meta) received.
2. A reminder's in-app notice, sent by the scheduler process, reaches a participant on B.
3. A is killed (SIGKILL) during a vote burst: its clients reconnect through nginx to B, fetch the
   snapshot, retry un-acknowledged votes with the same client id; no acknowledged vote is lost,
   one vote per voter, and every client ends with the tally of the database.
4. Redis goes down mid-poll: votes are still acknowledged, and every client, on A too, follows
   the database's tally (without the leader's tallies in Redis, each process counts from the
   database); no reload when Redis returns.
5. The scheduler is killed (SIGKILL) mid-batch and restarted: every delivery ends sent; only
   those claimed at the kill (at most REMINDER_BATCH_SIZE) may repeat, counted at the SMTP server.

postgresql, redis-server, nginx and gunicorn are required: without one the tests fail with the
command that installs it (scripts/test.sh does it as root), they are not skipped.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from deploy import render
from tests import factories, serving, whatsapp_world
from tests.postgres import PostgresServer
from workshop import create_app
from workshop.auth.models import User
from workshop.db import db
from workshop.live import services as live
from workshop.live.models import PollKind, PollVote, Question
from workshop.live.services import PollDraft
from workshop.programs.models import Stage
from workshop.registration import links
from workshop.registration.models import Notice, Registration, Status
from workshop.registration.services import ensure_participant_user
from workshop.reminders.models import Audience, Delivery, DeliveryStatus, Kind, ReminderRule, ReminderSettings

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
GUNICORN_CONFIG = str(serving.PROJECT_ROOT / "deploy" / "gunicorn.conf.py")
REDIS_HINT = "redis-server is needed: run 'apt-get install redis-server' (scripts/test.sh does it as root)."
GUNICORN_HINT = "gunicorn is needed in the virtualenv: run 'bash scripts/setup.sh'."
PARTICIPANTS = 40  # of the live programme, from 127.0.0.10 to 127.0.0.49
BATCH_SIZE = 10  # REMINDER_BATCH_SIZE: at most this many deliveries may repeat after a crash
LEASE_SECONDS = 3
ACK_TIMEOUT = 8  # as the live page: an action without an ack in 8 s is sent again


# --- The servers --------------------------------------------------------------------------------


class SmtpSink:
    """aiosmtpd handler counting messages per recipient; it can hold the n-th message (its client
    waits for the answer) until told to go on."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_recipient: collections.Counter[str] = collections.Counter()
        self.total = 0
        self.hold_at: int | None = None
        self.reached = threading.Event()
        self.resume = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.total += 1
            for recipient in envelope.rcpt_tos:
                self.by_recipient[recipient] += 1
            hold = self.total == self.hold_at
        if hold:
            self.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.resume.wait, 30)
        return "250 OK"


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def _wait_until(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Cluster:
    def __init__(self, logs: Path):
        self.logs = logs
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports = {"A": serving.free_port(), "B": serving.free_port(), "nginx": serving.free_port()}
        self.redis_port = serving.free_port()
        self.database_url = ""
        self.postgres: PostgresServer | None = None
        self.smtp: Controller | None = None
        self.sink = SmtpSink()
        self.nginx_prefix: Path | None = None
        self.timings: dict[str, object] = {}

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def _log(self, name: str):
        return (self.logs / f"{name}.log").open("ab")

    def _start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        with self._log(name) as log:
            process = serving.start(
                command, cwd=serving.PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.processes[name] = process
        return process

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace").splitlines() if path.exists() else []
        return "\n".join(text[-lines:])

    # Redis

    def start_redis(self) -> None:
        process = self._start("redis", serving.redis_command(self.redis_port, self.logs))
        _wait_until(lambda: self._listening(self.redis_port) or process.poll() is not None, 10, "redis")
        assert process.poll() is None, self.tail("redis")

    def kill_redis(self) -> None:
        process = self.processes["redis"]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    # Web processes, scheduler, nginx

    def environment(self) -> dict[str, str]:
        """One environment for every process, as /etc/bimtek.env in docs/deploy.md."""
        redis = f"redis://127.0.0.1:{self.redis_port}"
        return serving.environment(
            self.database_url,
            BIMTEK_ENV="production",
            PUBLIC_BASE_URL="http://bimtek.test",  # the links in messages; the tests reach nginx directly
            COOKIE_SECURE="0",  # plain HTTP on loopback
            PROXY_FIX_HOPS="1",
            LOG_FORMAT="json",
            SOCKETIO_MESSAGE_QUEUE=f"{redis}/0",
            RATELIMIT_STORAGE_URI=f"{redis}/1",
            EMBEDDED_SCHEDULER="0",
            REMINDER_TICK_SECONDS="1",
            REMINDER_BATCH_SIZE=str(BATCH_SIZE),
            REMINDER_LEASE_SECONDS=str(LEASE_SECONDS),
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(self.smtp.port),
            SMTP_USE_TLS="0",
            MAIL_FROM="Panitia Bimtek <panitia@bimtek.test>",
            WHATSAPP_WEBHOOK_TOKEN=whatsapp_world.FONNTE_TOKEN,
            WHATSAPP_META_VERIFY_TOKEN=whatsapp_world.META_VERIFY_TOKEN,
            WHATSAPP_META_APP_SECRET=whatsapp_world.META_APP_SECRET,
        )

    def start_web(self, name: str) -> subprocess.Popen:
        env = {**self.environment(), "HOST": "127.0.0.1", "PORT": str(self.ports[name])}
        return self._start(name, [GUNICORN, "-c", GUNICORN_CONFIG, "workshop:create_app()"], env)

    def web_pids(self, name: str) -> list[int]:
        """The gunicorn master and its worker."""
        master = self.processes[name]
        workers = _children(master.pid)
        assert workers, f"no gunicorn worker under {master.pid}"
        return [master.pid, *workers]

    def kill_web(self, name: str, pids: list[int]) -> float:
        """SIGKILL the gunicorn master and its worker (the whole process, no clean-up); returns
        the moment of the kill."""
        killed = time.monotonic()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        self.processes[name].wait(10)
        _wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids), 10, "the dead worker")
        return killed

    def start_scheduler(self) -> subprocess.Popen:
        return self._start("scheduler", [serving.FLASK, "scheduler"], self.environment())

    def kill_scheduler(self) -> None:
        process = self.processes["scheduler"]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def start_nginx(self) -> None:
        self.nginx_prefix = self.logs / "nginx"
        render.write_nginx_config(
            self.nginx_prefix,
            listen=f"127.0.0.1:{self.ports['nginx']}",
            upstreams=[f"127.0.0.1:{self.ports['A']}", f"127.0.0.1:{self.ports['B']}"],
            balance="hash $remote_addr consistent",
        )
        self._start("nginx", serving.nginx_foreground(self.nginx_prefix))

    def wait_healthy(self, name: str, timeout: float = 60) -> None:
        try:
            serving.wait_for(self.url(name) + "/healthz", self.processes[name], timeout=timeout)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- {name} log:\n{self.tail(name)}") from None

    @staticmethod
    def _listening(port: int) -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def nginx_upstreams(self) -> dict[str, str]:
        """Client address -> the web process (A or B) nginx sent its last request to."""
        by_port = {f"127.0.0.1:{self.ports[name]}": name for name in ("A", "B")}
        chosen = {}
        for line in (self.nginx_prefix / "access.log").read_text().splitlines():
            entry = json.loads(line)
            upstream = entry["upstream"].split(",")[-1].strip()
            if upstream in by_port:
                chosen[entry["remote"]] = by_port[upstream]
        return chosen

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for name, process in self.processes.items():
            try:
                process.wait(25)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if name in ("A", "B"):
                for pid in _children(process.pid):  # a worker left by a killed master
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)


# --- Data and clients ---------------------------------------------------------------------------


@dataclass
class Person:
    registration_id: int
    user_id: int
    email: str
    browser: serving.Participant  # logged in, from its own loopback address
    upstream: str = ""  # "A" or "B": where nginx sends its address


@dataclass
class Voter:
    """A participant's live page: its sockets over time, the snapshots it fetched, its vote."""

    person: Person
    sockets: list[serving.SocketIOClient] = field(default_factory=list)
    snapshots: list[tuple[float, dict]] = field(default_factory=list)
    client_id: str = field(default_factory=lambda: f"mp-{uuid.uuid4().hex}")
    ack: dict | None = None
    acked_at: float | None = None
    attempts: int = 0
    reconnected_at: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def socket(self) -> serving.SocketIOClient:
        return self.sockets[-1]

    def connect(self, base_url: str, stage_id: int) -> None:
        client = self.person.browser.socket(base_url)
        self.sockets.append(client)
        _, ack = client.emit("join_stage", {"stage_id": stage_id}, timeout=ACK_TIMEOUT)
        assert (ack["ok"], ack["staff"]) == (True, False), ack

    def fetch_snapshot(self, stage_id: int, base_url: str | None = None) -> dict:
        status, state = self.person.browser.get_json(f"/live/{stage_id}/state", base_url)
        assert status == 200, status
        self.snapshots.append((time.monotonic(), state))
        return state

    def vote_payload(self, stage_id: int, poll_id: int, option_id: int) -> dict:
        return {
            "stage_id": stage_id,
            "client_id": self.client_id,  # the same on every retry
            "poll_id": poll_id,
            "answer": {"option_ids": [option_id]},
        }

    def vote(self, stage_id: int, poll_id: int, option_id: int) -> dict:
        self.attempts += 1
        payload = self.vote_payload(stage_id, poll_id, option_id)
        self.acked_at, self.ack = self.socket.emit("vote", payload, timeout=ACK_TIMEOUT)
        return self.ack

    def seen(self, poll_id: int) -> list[tuple[float, dict]]:
        """The results this page would show, in the order they arrived: each `poll_results`,
        `live_state` or snapshot whose results version is newer than the one shown."""
        arrivals = [
            (arrived, message["results"])
            for client in self.sockets
            for arrived, message in client.received("poll_results")
            if message["poll_id"] == poll_id
        ]
        states = [state for client in self.sockets for state in client.received("live_state")]
        arrivals += [
            (arrived, state["poll"]["results"])
            for arrived, state in [*states, *self.snapshots]
            if state["poll"] and state["poll"]["id"] == poll_id and state["poll"]["results"]
        ]
        shown, version = [], -1
        for arrived, results in sorted(arrivals, key=lambda item: item[0]):
            if results["version"] > version:
                version = results["version"]
                shown.append((arrived, results))
        return shown

    def shown(self, poll_id: int) -> dict | None:
        seen = self.seen(poll_id)
        return seen[-1][1] if seen else None

    def close(self) -> None:
        for client in self.sockets:
            client.close()


def tally_of(results: dict | None) -> tuple[int, dict[str, int]] | None:
    if results is None:
        return None
    return results["total"], {bar["key"]: bar["count"] for bar in results["bars"]}


class World:
    """The seeded data, read and written with the app's own services on the same database."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": cluster.database_url,
                "SECRET_KEY": serving.SECRET_KEY,  # the servers' key: personal links match
                "SOCKETIO_MESSAGE_QUEUE": None,
                "TESTING": True,
            }
        )

    @contextlib.contextmanager
    def session(self):
        with self.app.app_context():
            try:
                yield db.session
            finally:
                db.session.remove()

    def admin(self, session) -> User:
        return session.scalar(select(User).where(User.username == "admin"))

    def seed_live(self, count: int) -> tuple[int, list[tuple[int, int, str, str]]]:
        """A one-stage programme with `count` approved participants: (stage id, [(registration
        id, user id, email, personal-link token)])."""
        with self.session() as session:
            program = factories.program(session, stages=1)
            people = []
            for _ in range(count):
                registration = factories.registration(session, program, status=Status.APPROVED)
                user = ensure_participant_user(session, registration.person)
                token = links.issue(registration, self.app.config["SECRET_KEY"])
                session.flush()
                people.append((registration.id, user.id, registration.person.email, token))
            session.commit()
            return program.stages[0].id, people

    def seed_reminders(
        self, count: int, *, with_users: bool
    ) -> tuple[int, int, list[tuple[int, int, str, str]]]:
        """A programme whose stage starts in 30 minutes, `count` approved participants and no
        rule yet (no default rules either): (programme id, stage id, people as above)."""
        with self.session() as session:
            program = factories.program(session, stages=1)
            stage = program.stages[0]
            stage.starts_at = datetime.now(UTC) + timedelta(minutes=30)
            stage.ends_at = stage.starts_at + timedelta(hours=8)
            session.add(ReminderSettings(program_id=program.id, created_at=datetime.now(UTC)))
            people = []
            for _ in range(count):
                registration = factories.registration(session, program, status=Status.APPROVED)
                user = token = None
                if with_users:
                    user = ensure_participant_user(session, registration.person)
                    token = links.issue(registration, self.app.config["SECRET_KEY"])
                session.flush()
                people.append((registration.id, user.id if user else None, registration.person.email, token))
            session.commit()
            return program.id, stage.id, people

    def add_rule(self, program_id: int, channels: str) -> int:
        """A rule due now (one hour before a stage that starts in 30 minutes)."""
        with self.session() as session:
            rule = ReminderRule(
                program_id=program_id,
                offset_minutes=60,
                window_minutes=None,
                channels=channels,
                audience=Audience.ALL,
                created_at=datetime.now(UTC) - timedelta(hours=1),
            )
            session.add(rule)
            session.commit()
            return rule.id

    def open_poll(self, stage_id: int, question: str) -> tuple[int, list[int]]:
        """A new single-choice poll with live results, opened: (poll id, option ids)."""
        with self.session() as session:
            stage = session.get(Stage, stage_id)
            draft = PollDraft(
                kind=PollKind.SINGLE,
                question=question,
                options=["Sudah", "Belum", "Sebagian"],
            )
            poll = live.create_poll(session, stage, draft, actor=self.admin(session))
            live.open_poll(session, poll, actor=self.admin(session), now=datetime.now(UTC))
            session.commit()
            return poll.id, [option.id for option in poll.options]

    def phones(self, registration_ids: list[int]) -> list[str]:
        with self.session() as session:
            return [session.get_one(Registration, id_).person.phone for id_ in registration_ids]

    def votes(self, poll_id: int) -> dict[int, dict]:
        """registration id -> answer, and no registration twice."""
        with self.session() as session:
            rows = session.execute(
                select(PollVote.registration_id, PollVote.answer).where(PollVote.poll_id == poll_id)
            ).all()
        by_registration = dict(rows)
        assert len(by_registration) == len(rows), "a registration has two votes"
        return by_registration

    def tally(self, poll_id: int, option_ids: list[int]) -> tuple[int, dict[str, int]]:
        votes = self.votes(poll_id)
        counts = collections.Counter(str(o) for answer in votes.values() for o in answer["option_ids"])
        return len(votes), {str(option): counts[str(option)] for option in option_ids}


# --- The environment ----------------------------------------------------------------------------


def _required() -> None:
    try:
        render.find_nginx()
    except RuntimeError as error:
        pytest.fail(str(error))
    if shutil.which("redis-server") is None:
        pytest.fail(REDIS_HINT)
    if not os.access(GUNICORN, os.X_OK):
        pytest.fail(GUNICORN_HINT)


@dataclass
class Environment:
    cluster: Cluster
    world: World
    stage_id: int
    people: list[Person]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    _required()
    started = time.monotonic()
    cluster = Cluster(tmp_path_factory.mktemp("multiprocess"))
    world = None
    try:
        try:
            cluster.postgres = PostgresServer().start()
        except RuntimeError as error:
            pytest.fail(str(error))
        cluster.database_url = cluster.postgres.create_database("multiprocess")
        serving.prepare_database(cluster.database_url)  # flask db upgrade, an admin
        cluster.smtp = Controller(cluster.sink, hostname="127.0.0.1", port=serving.free_port())
        cluster.smtp.start()
        cluster.start_redis()
        cluster.start_web("A")
        cluster.start_web("B")
        cluster.start_scheduler()
        cluster.start_nginx()
        world = World(cluster)
        stage_id, seeded = world.seed_live(PARTICIPANTS)
        for name in ("A", "B", "nginx"):
            cluster.wait_healthy(name)  # 200: database, Redis and the scheduler's heartbeat
        cluster.timings["start"] = round(time.monotonic() - started, 1)

        def log_in(index_and_person):
            index, (registration_id, user_id, email, token) = index_and_person
            browser = serving.Participant(cluster.url("nginx"), f"127.0.0.{10 + index}")
            browser.log_in_with_link(token)
            return Person(registration_id, user_id, email, browser)

        with ThreadPoolExecutor(8) as pool:
            people = list(pool.map(log_in, enumerate(seeded)))
        upstreams = cluster.nginx_upstreams()
        for person in people:
            person.upstream = upstreams[person.browser.source_address]
        cluster.timings["ready"] = round(time.monotonic() - started, 1)
        yield Environment(cluster, world, stage_id, people)
    finally:
        cluster.stop_all()
        if cluster.smtp is not None:
            cluster.smtp.stop()
        if world is not None:
            with world.app.app_context():
                db.engine.dispose()
        if cluster.postgres is not None:
            cluster.postgres.stop()
        print(f"\nmultiprocess timings: {cluster.timings} (server logs in {cluster.logs})")


def _voters(env: Environment, people: list[Person], where: dict[int, str] | str) -> list[Voter]:
    """Voters connected (and joined to the stage) to a process: "A", "B" or "nginx"."""
    voters = [Voter(person) for person in people]

    def connect(voter: Voter):
        target = where if isinstance(where, str) else where[voter.person.registration_id]
        voter.connect(env.cluster.url(target), env.stage_id)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(connect, voters))
    return voters


# --- 1. A sees what B counted -------------------------------------------------------------------


def test_a_participant_on_a_sees_votes_cast_through_b_within_a_second(env):
    poll_id, options = env.world.open_poll(env.stage_id, "Sudah ada akses internet di kantor?")
    watcher = _voters(env, env.people[:1], "A")[0]
    voters = _voters(env, env.people[1:7], "B")
    try:
        with ThreadPoolExecutor(len(voters)) as pool:
            acks = list(
                pool.map(
                    lambda pair: pair[1].vote(env.stage_id, poll_id, options[pair[0] % 3]), enumerate(voters)
                )
            )
        assert acks == [
            {"ok": True, "poll_id": poll_id, "answer": {"option_ids": [options[i % 3]]}}
            for i in range(len(voters))
        ]
        last_ack = max(voter.acked_at for voter in voters)

        arrived, message = watcher.socket.wait_for(
            "poll_results",
            lambda m: m["poll_id"] == poll_id and m["results"]["total"] == len(voters),
            timeout=10,
        )
        latency = arrived - last_ack
        env.cluster.timings["a_sees_b_seconds"] = round(latency, 3)
        assert latency < 1.0, f"A's participant saw the votes {latency:.2f} s after the last ack"
        assert (
            tally_of(message["results"])
            == env.world.tally(poll_id, options)
            == (
                6,
                {str(options[0]): 2, str(options[1]): 2, str(options[2]): 2},
            )
        )
    finally:
        for voter in [watcher, *voters]:
            voter.close()


def test_whatsapp_votes_received_by_b_and_through_nginx_show_on_a_page_served_by_a(env):
    poll_id, options = env.world.open_poll(env.stage_id, "Sudah ada jaringan di balai desa?")
    watcher = _voters(env, env.people[:1], "A")[0]
    fonnte_person, meta_person = env.people[7], env.people[8]
    phones = env.world.phones([fonnte_person.registration_id, meta_person.registration_id])
    try:
        body = json.dumps(whatsapp_world.fonnte_payload(phones[0], "2", f"mp-{uuid.uuid4().hex}")).encode()
        fonnte = _post(env.cluster.url("B") + whatsapp_world.FONNTE_HOOK, body, {})
        body = json.dumps(whatsapp_world.meta_payload(phones[1], "c", f"wamid.mp{uuid.uuid4().hex}")).encode()
        meta = _post(
            env.cluster.url("nginx") + whatsapp_world.META_HOOK,
            body,
            {"X-Hub-Signature-256": whatsapp_world.sign(body)},
        )
        replied = time.monotonic()
        assert (fonnte, meta) == (200, 200)

        arrived, message = watcher.socket.wait_for(
            "poll_results",
            lambda m: m["poll_id"] == poll_id and m["results"]["total"] == 2,
            timeout=10,
        )
        latency = arrived - replied
        env.cluster.timings["a_sees_whatsapp_seconds"] = round(latency, 3)
        assert latency < 1.0, f"A's participant saw the WhatsApp votes {latency:.2f} s after the webhooks"
        assert (
            tally_of(message["results"])
            == env.world.tally(poll_id, options)
            == (2, {str(options[0]): 0, str(options[1]): 1, str(options[2]): 1})
        )
        assert env.world.votes(poll_id) == {
            fonnte_person.registration_id: {"option_ids": [options[1]]},
            meta_person.registration_id: {"option_ids": [options[2]]},
        }
    finally:
        watcher.close()


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json", **headers}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


# --- 2. The scheduler's in-app notice reaches B ---------------------------------------------------


def test_a_reminder_notice_from_the_scheduler_process_reaches_a_participant_on_b(env):
    program_id, stage_id, [(registration_id, _user_id, _email, token)] = env.world.seed_reminders(
        1, with_users=True
    )
    browser = serving.Participant(env.cluster.url("nginx"), "127.0.0.200")
    browser.log_in_with_link(token)
    client = browser.socket(env.cluster.url("B"))
    try:
        rule_id = env.world.add_rule(program_id, "inapp")
        due = time.monotonic()
        arrived, notice = client.wait_for("notice", timeout=20)
        env.cluster.timings["notice_seconds"] = round(arrived - due, 2)
        assert notice["kind"] == "reminder"
        assert notice["stage_id"] == stage_id
        assert notice["registration_id"] == registration_id
        assert notice["subject"] and notice["text"]

        time.sleep(2.5)  # two more ticks: nothing more goes out
        assert len(client.received("notice")) == 1
        with env.world.session() as session:
            deliveries = session.execute(
                select(Delivery.channel, Delivery.status, Delivery.attempts, Delivery.sent_by).where(
                    Delivery.rule_id == rule_id
                )
            ).all()
            notices = session.scalar(
                select(func.count()).select_from(Notice).where(Notice.registration_id == registration_id)
            )
        assert len(deliveries) == 1
        channel, status, attempts, sent_by = deliveries[0]
        assert (channel, status, attempts) == ("inapp", DeliveryStatus.SENT, 1)
        assert sent_by == f"process:{socket.gethostname()}:{env.cluster.processes['scheduler'].pid}"
        assert notices == 1
    finally:
        client.close()


def test_the_questions_of_an_ended_stage_are_carried_once_while_a_b_and_the_scheduler_race(env):
    """Tahap I ends with open questions; the scheduler's tick and the first pages of Tahap II read on
    A and on B at the same moment all try to carry them: each is carried once, its asker told once,
    and B's snapshot shows it "from Stage I"."""
    now = datetime.now(UTC)
    ends = now + timedelta(seconds=4)
    with env.world.session() as session:
        program = factories.program(session, stages=2)
        tahap_i, tahap_ii = program.stages
        tahap_i.starts_at, tahap_i.ends_at = now - timedelta(hours=2), ends
        tahap_ii.starts_at, tahap_ii.ends_at = ends, ends + timedelta(hours=3)
        admin = env.world.admin(session)
        askers = []
        for number in range(3):
            registration = factories.registration(session, program, status=Status.APPROVED)
            ensure_participant_user(session, registration.person)
            token = links.issue(registration, env.world.app.config["SECRET_KEY"])
            question = live.ask(
                session, tahap_i, registration, f"Pertanyaan {number}", anonymous=False, now=now, per_minute=5
            )
            live.moderate(session, tahap_i, question.id, "approve", None, actor=admin, now=now)
            askers.append(token)
        tahap_ii_id = tahap_ii.id
        session.commit()
    browsers = []
    for index, token in enumerate(askers):
        browser = serving.Participant(env.cluster.url("nginx"), f"127.0.0.{210 + index}")
        browser.log_in_with_link(token)
        browsers.append(browser)

    def first_read(browser_and_process):
        browser, process = browser_and_process
        url = f"{env.cluster.url(process)}/live/{tahap_ii_id}"
        with browser.opener.open(url, timeout=20) as response:
            return response.status

    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()))
    with ThreadPoolExecutor(6) as pool:  # the scheduler ticks every second meanwhile
        statuses = list(
            pool.map(first_read, [(browser, process) for browser in browsers for process in ("A", "B")])
        )
    assert statuses == [200] * 6

    def carried():
        with env.world.session() as session:
            return session.scalars(
                select(Question.text).where(Question.stage_id == tahap_ii_id).order_by(Question.text)
            ).all()

    _wait_until(lambda: len(carried()) == 3, 10, "the questions carried to Tahap II")
    time.sleep(2.5)  # two more ticks: nothing more is carried
    assert carried() == ["Pertanyaan 0", "Pertanyaan 1", "Pertanyaan 2"]
    with env.world.session() as session:
        told = session.execute(
            select(Delivery.registration_id, Delivery.channel).where(Delivery.kind == Kind.QUESTION_CARRIED)
        ).all()
    assert len(told) == len(set(told)) == 3 * 2  # each asker once, by email and by WhatsApp
    status, state = browsers[0].get_json(f"/live/{tahap_ii_id}/state", base_url=env.cluster.url("B"))
    assert status == 200
    assert [question["origin"] for question in state["questions"]] == ["I", "I", "I"]


# --- 3. A killed during a vote burst ------------------------------------------------------------


def test_process_a_killed_during_a_vote_burst_loses_no_acknowledged_vote(env):
    cluster, world, stage_id = env.cluster, env.world, env.stage_id
    on_a = [person for person in env.people if person.upstream == "A"]
    assert 5 <= len(on_a) <= len(env.people) - 5, "nginx's hash put (almost) everybody on one process"
    poll_id, options = world.open_poll(stage_id, "Siapkah desa Anda untuk layanan daring?")
    voters = _voters(env, env.people, "nginx")
    for voter in voters:
        voter.fetch_snapshot(stage_id)
    option_of = {voter.person.registration_id: options[i % 3] for i, voter in enumerate(voters)}
    stop = threading.Event()
    spread, kill_after = 1.6, 0.8  # votes spread over 1.6 s; A dies 0.8 s in
    start = time.monotonic() + 0.3
    vote_at = {id(v): start + spread * i / len(voters) for i, v in enumerate(voters)}
    # Three of A's pages send their vote just before the kill: it is in flight, with no ack.
    in_flight = [v for v in voters if v.person.upstream == "A" and vote_at[id(v)] > start + kill_after][:3]
    for voter in in_flight:
        vote_at[id(voter)] = float("inf")
    killed_at: list[float] = []

    def reconnect(voter: Voter) -> None:
        """As the page does: a new socket (nginx picks a process that answers), join, snapshot."""
        voter.socket.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                voter.connect(cluster.url("nginx"), stage_id)
                break
            except (OSError, ConnectionError, TimeoutError, AssertionError) as error:
                voter.problems.append(f"reconnect: {error}")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        voter.fetch_snapshot(stage_id)
        voter.reconnected_at.append(time.monotonic())

    def page(voter: Voter) -> None:
        """The page: votes at its moment; whenever its socket drops it reconnects at once, and
        sends a vote that got no ack again (the same client id)."""
        try:
            while not stop.is_set():
                if voter.socket.closed.is_set():
                    reconnect(voter)
                if (voter.ack is None or not voter.ack.get("ok")) and time.monotonic() >= vote_at[id(voter)]:
                    try:
                        voter.vote(stage_id, poll_id, option_of[voter.person.registration_id])
                    except (ConnectionError, TimeoutError) as error:
                        voter.problems.append(f"vote: {error}")
                        voter.socket.close()
                else:
                    voter.socket.closed.wait(0.01)
        except Exception as error:  # reported by the assertions below
            voter.problems.append(f"gave up: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=page, args=(v,), daemon=True) for v in voters]
    for thread in threads:
        thread.start()
    try:
        pids = cluster.web_pids("A")
        time.sleep(max(0.0, start + kill_after - time.monotonic()))
        for voter in in_flight:
            voter.attempts += 1
            voter.socket.send(
                "vote", voter.vote_payload(stage_id, poll_id, option_of[voter.person.registration_id])
            )
        killed_at.append(cluster.kill_web("A", pids))
        for voter in in_flight:
            vote_at[id(voter)] = 0  # the page sends it again once it has reconnected

        _wait_until(
            lambda: (
                all(v.ack is not None and v.ack.get("ok") for v in voters)
                or any("gave up" in p for v in voters for p in v.problems)
            ),
            45,
            "every vote acknowledged",
        )
        assert [v.problems for v in voters if any("gave up" in p for p in v.problems)] == []

        # No acknowledged vote is lost, one vote per voter, each with the answer acknowledged.
        votes = world.votes(poll_id)
        assert votes == {
            v.person.registration_id: {"option_ids": [option_of[v.person.registration_id]]} for v in voters
        }
        assert all(
            v.ack == {"ok": True, "poll_id": poll_id, "answer": votes[v.person.registration_id]}
            for v in voters
        )

        # Every page, on A before or on B all along, ends with the database's tally.
        expected = world.tally(poll_id, options)
        assert expected[0] == len(voters)
        _wait_until(
            lambda: all(tally_of(v.shown(poll_id)) == expected for v in voters), 15, "every page's tally"
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        for voter in voters:
            voter.close()

    kill = killed_at[0]
    a_voters = [v for v in voters if v.person.upstream == "A"]
    before = [v for v in a_voters if v.acked_at < kill]
    after = [v for v in a_voters if v.acked_at >= kill]
    retried = [v for v in a_voters if v.attempts > 1]
    # The scenario happened: some of A's votes were in before the kill, some came after it
    # through B, those in flight were sent again; every A page reconnected once, no B page had to.
    assert before and after, (len(before), len(after))
    assert len(in_flight) == 3 and all(v.attempts == 2 and v.acked_at > kill for v in in_flight)
    assert all(len(v.reconnected_at) == 1 for v in a_voters)
    assert all(len(v.reconnected_at) == 0 and len(v.sockets) == 1 for v in voters if v.person.upstream == "B")

    def median_and_max(values):
        values = sorted(values)
        return {"median": round(statistics.median(values), 3), "max": round(values[-1], 3)}

    cluster.timings["kill_a"] = {
        "clients_on_a": len(a_voters),
        "acked_before_kill": len(before),
        "acked_after_kill": len(after),
        "votes_resent": len(retried),
        # after the kill: the old socket closed, the new one joined through nginx, the snapshot read
        "socket_closed_s": median_and_max(v.sockets[0].closed_at - kill for v in a_voters),
        "reconnected_s": median_and_max(v.sockets[1].connected_at - kill for v in a_voters),
        "snapshot_fetched_s": median_and_max(v.reconnected_at[0] - kill for v in a_voters),
        "last_ack_after_kill_s": round(max(v.acked_at for v in voters) - kill, 3),
    }

    cluster.start_web("A")  # for the tests that follow
    cluster.wait_healthy("A")


# --- 4. Redis down mid-poll --------------------------------------------------------------------


def test_with_redis_down_mid_poll_every_page_still_follows_the_database_tally(env):
    """Pages on A watch a poll that only B's participants answer at first. While Redis is down no
    process can read the leader's tallies there: each counts from the database and sends them to
    its own pages, so A's pages follow B's votes, and nothing is lost or reloaded when it returns."""
    cluster, world, stage_id = env.cluster, env.world, env.stage_id
    poll_id, options = world.open_poll(stage_id, "Sudah punya website desa?")
    people = env.people[:20]
    where = {person.registration_id: ("A" if i < 10 else "B") for i, person in enumerate(people)}
    voters = _voters(env, people, where)
    on_a, on_b = voters[:10], voters[10:]

    def cast(group: list[Voter]) -> list[dict]:
        with ThreadPoolExecutor(8) as pool:
            return list(
                pool.map(lambda v: v.vote(stage_id, poll_id, options[v.person.registration_id % 3]), group)
            )

    def acked(group: list[Voter]) -> list[dict]:
        return [
            {
                "ok": True,
                "poll_id": poll_id,
                "answer": {"option_ids": [options[v.person.registration_id % 3]]},
            }
            for v in group
        ]

    def shown_on(group: list[Voter]) -> list:
        return [tally_of(v.shown(poll_id)) for v in group]

    try:
        for voter in voters:
            voter.fetch_snapshot(stage_id, cluster.url(where[voter.person.registration_id]))
        assert cast(on_b[:3]) == acked(on_b[:3])
        early = world.tally(poll_id, options)
        _wait_until(lambda: shown_on(voters) == [early] * 20, 10, "3 votes shown")

        cluster.kill_redis()
        down = time.monotonic()
        assert cast(on_b[3:]) == acked(on_b[3:])
        last_ack = max(v.acked_at for v in on_b[3:])
        expected = world.tally(poll_id, options)
        assert expected[0] == 10
        _wait_until(lambda: shown_on(voters) == [expected] * 20, 10, "every page, Redis down", interval=0.02)
        seen_on_a = [
            next(arrived for arrived, results in v.seen(poll_id) if tally_of(results) == expected) - last_ack
            for v in on_a
        ]
        status, state = on_a[0].person.browser.get_json(f"/live/{stage_id}/state", cluster.url("A"))
        assert (status, tally_of(state["poll"]["results"])) == (200, expected)
        time.sleep(max(0.0, down + 2 - time.monotonic()))  # two seconds without Redis at least

        cluster.start_redis()
        up = time.monotonic()
        assert cast(on_a) == acked(on_a)
        final = world.tally(poll_id, options)
        assert final[0] == 20
        _wait_until(lambda: shown_on(voters) == [final] * 20, 10, "every page after Redis returned")
        assert all(len(v.sockets) == 1 and not v.socket.closed.is_set() for v in voters)  # no reload
    finally:
        for voter in voters:
            voter.close()
    cluster.timings["redis_down"] = {
        "outage_s": round(up - down, 2),
        "a_pages_saw_b_votes_s": {"min": round(min(seen_on_a), 2), "max": round(max(seen_on_a), 2)},
    }
    # One broadcast tick (LIVE_BROADCAST_SECONDS, 0.3 s) and the database read, with margin.
    assert max(seen_on_a) < 1.5, f"A's last page saw B's votes {max(seen_on_a):.2f} s after the ack"


# --- 5. The scheduler killed mid-batch ------------------------------------------------------------


def test_scheduler_killed_mid_batch_and_restarted_loses_and_doubles_nothing_beyond_the_batch(env):
    cluster, world = env.cluster, env.world
    sink = cluster.sink
    program_id, _stage_id, people = world.seed_reminders(30, with_users=False)
    emails = {registration_id: email for registration_id, _user, email, _token in people}
    with sink.lock:
        sink.hold_at = sink.total + 8  # the 8th email from now: its sender waits for our answer
    sink.reached.clear()
    sink.resume.clear()
    first = cluster.processes["scheduler"]
    rule_id = world.add_rule(program_id, "email,inapp")  # 30 x 2 = 60 deliveries due now
    try:
        assert sink.reached.wait(30), f"the scheduler never got to the 8th email\n{cluster.tail('scheduler')}"
        cluster.kill_scheduler()
    finally:
        sink.resume.set()
    assert first.returncode == -signal.SIGKILL

    with world.session() as session:
        in_flight = session.execute(
            select(Delivery.registration_id, Delivery.channel).where(
                Delivery.rule_id == rule_id, Delivery.status == DeliveryStatus.SENDING
            )
        ).all()
        sent_before = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.rule_id == rule_id, Delivery.status == DeliveryStatus.SENT)
        )
    assert 1 <= len(in_flight) <= BATCH_SIZE  # a batch was in flight, at most one batch
    assert sent_before < 60

    restarted = time.monotonic()
    cluster.start_scheduler()

    def all_sent():
        with world.session() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(Delivery)
                    .where(Delivery.rule_id == rule_id, Delivery.status == DeliveryStatus.SENT)
                )
                == 60
            )

    _wait_until(all_sent, 45, f"60 sent deliveries\n{cluster.tail('scheduler')}", interval=0.2)
    cluster.timings["scheduler_restart_to_all_sent_s"] = round(time.monotonic() - restarted, 2)
    time.sleep(1.5)  # another tick: nothing more goes out

    with world.session() as session:
        statuses = session.execute(
            select(Delivery.channel, Delivery.status, func.count())
            .where(Delivery.rule_id == rule_id)
            .group_by(Delivery.channel, Delivery.status)
        ).all()
        notices = session.execute(
            select(Notice.registration_id, func.count())
            .where(Notice.registration_id.in_(emails))
            .group_by(Notice.registration_id)
        ).all()
    assert sorted(statuses) == [("email", DeliveryStatus.SENT, 30), ("inapp", DeliveryStatus.SENT, 30)]

    # What was really sent: the SMTP server's count per recipient.
    with sink.lock:
        received = {email: sink.by_recipient[email] for email in emails.values()}
    in_flight_emails = {
        emails[registration_id] for registration_id, channel in in_flight if channel == "email"
    }
    repeated = {email for email, count in received.items() if count > 1}
    assert min(received.values()) == 1  # nobody missed the reminder
    assert repeated <= in_flight_emails  # only what was in flight at the kill repeats ...
    assert max(received.values()) == 2  # ... once
    assert sum(received.values()) - len(received) <= BATCH_SIZE
    assert len(repeated) >= 1  # the email being answered at the kill had arrived: it went again
    # An in-app notice is written in the transaction that marks its delivery sent: never twice.
    assert sorted(notices) == sorted((registration_id, 1) for registration_id in emails)
    cluster.timings["scheduler_kill"] = {
        "in_flight": len(in_flight),
        "sent_before_kill": sent_before,
        "emails_repeated": len(repeated),
    }
