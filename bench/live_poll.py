"""Benchmark: N participants vote in one live poll over Socket.IO, against a bare Flask-SocketIO server.

    .venv/bin/python bench/live_poll.py [--sizes 500,1000,2000,4000] [--rounds 3] [--servers bare,app]
                                        [--ramp 200] [--spread 5] [--deflate] [--max-other 30]
                                        [--retries 2] [--app-script app.py] [--base-script PATH] [--keep]

For each N, in the same run:
1. Makes a temporary SQLite database with `flask db upgrade` and seeds, with the project's own
   services: one programme whose Tahap I is running now, N approved participants (about 15%
   luring, the rest daring; from OPD, kecamatan and villages) with their participant users, a
   panitia account, and per round one single-choice poll with 4 options and live results
   (workshop.live.services.create_poll), opened (open_poll) just before its round.
2. Each participant is logged in with a real Flask session cookie, signed with the app's own
   session interface: {"_user_id": user.get_id(), "_fresh": False}, the user id the personal-link
   POST stores in the session (that POST also stores "_fresh": True, "_remember" and the
   session identifier "_id"; with Flask-Login's "basic" session protection a session without "_id"
   is only marked not fresh, and the socket needs nothing else).
3. Each round starts, each in its own process, the bare server (bench/bare_live_server.py: join,
   vote with ack, a coalesced tally every 300 ms, no app logic) and then the real server as the
   single-machine production mode does (`python app.py`: gevent, Flask-SocketIO; production
   settings, rate limits off), each fresh, and runs the load generator against it: this script
   with --loadgen, in its own process, one asyncio loop holding N lean Engine.IO/Socket.IO websocket
   clients (bench/socketio_client.py):
   - connect: N websockets, ramped at --ramp per second with at most 100 handshakes in flight,
     each `join_stage` with an ack; time per client from the handshake to the join ack;
   - vote: every client votes once, the N votes spread evenly over --spread seconds in a shuffled
     order, each with its own client_id, and waits for its ack (ack latency from the send; more
     than 8 s, the page's own ack timeout after which it would retry over HTTP, counts as a timeout);
   - convergence: the time from the last vote sent until every client has received a
     `poll_results` whose results.total is the number of votes sent;
   - server CPU (% of one core) over the vote phase (first vote sent to the last ack or convergence,
     whichever is later) from /proc/<pid>/stat, its RSS at the end and peak (VmHWM), the time it
     waited for a CPU (/proc/<pid>/schedstat), and the load generator's own CPU.
   With --base-script PATH (A/B), each round also starts that app server (e.g. app.py of a
   checkout of main, run with this checkout's venv and the same seeded database, a fresh poll
   per round), reported as the column "base" with the ratios base / bare and app / base.
   Then counts the votes stored (the poll_vote rows of the round's poll; the bare server's dict)
   and the acks {ok: true} whose vote is not stored. Before each run the script waits (up to
   --quiet-wait s) until other processes at normal priority use less than --max-other % of a
   core, and repeats a run during whose vote phase they used more (--retries): other people's
   tests share the machine. Niced processes are reported but not counted: they yield the CPU.
4. Prints a markdown table per N (medians over the rounds, app vs bare, and the median of the
   per-round ratios app / bare), the machine's load average per round, and PASS or FAIL for each
   target of issue 15 (TARGETS: N = 2,000: ack p99 <= 1.2x bare, converged <= 0.5 s, 0 lost;
   N = 4,000: ack p99 <= 1.5x bare, converged <= 1 s, 0 lost, CPU per vote <= 1.3x bare, RSS
   <= 100 KiB per connected participant), and writes bench/results/live_poll-<timestamp>.json and
   .md (gitignored).

The open-file limit of this script, and so of the servers it starts and of the load generator,
is raised to the hard limit. The machine is shared and noisy (2 cores, load generator and server
on the same cores): compare ratios to the bare server of the same round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from common import (
    BENCH,
    CLOCK_TICKS,
    PYTHON,
    RESULTS,
    ROOT,
    environment,
    make_database,
    percentile,
    process_memory,
    run_queue_wait,
    seed_programme,
    server_cpu,
    start_server,
)

SLUG = "bench-live"
SIZES = (500, 1000, 2000, 4000)
SERVERS = ("bare", "base", "app")  # base: --base-script, the app at another commit (A/B)
APP_SERVERS = ("base", "app")  # both serve the app from the seeded database
ACK_TIMEOUT = 8.0  # the page's ack timeout (then it retries over HTTP): later acks count as timeouts
ACK_WAIT = 30.0  # how long the load generator waits for an ack at all
CONVERGE_WAIT = 30.0  # after the last vote: give up waiting for every client to see the tally
CONNECT_TIMEOUT = 30.0
STOP_WAIT = 120  # seconds a server gets to stop after SIGTERM (at N = 4,000 on a loaded machine, > 20 s)
CONNECT_ATTEMPTS = 3
MAX_PENDING_CONNECTS = 100
SETTLE = 2.0  # seconds between the last join and the first vote
OPTION_WEIGHTS = (4, 3, 2, 1)  # how the votes spread over the 4 options
# Targets (issue 15) per N: ack p99 at most this many times the bare server's (same round),
# every client converged within this many seconds of the last vote, no vote lost; at N = 4,000
# also server CPU per vote at most 1.3x the bare server's and at most 100 KiB of server RSS per
# connected participant.
TARGETS = {
    2000: {"ack_p99_ratio": 1.2, "converge_s": 0.5},
    4000: {"ack_p99_ratio": 1.5, "converge_s": 1.0, "cpu_per_vote_ratio": 1.3, "rss_kib_per_client": 100},
}


def machine_busy() -> tuple[float, float]:
    """CPU seconds the machine has used (/proc/stat), (at normal priority, niced). Niced processes
    (other people's test runs) yield most of the CPU to the server and the load generator."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(v) / CLOCK_TICKS for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return user + system + irq + softirq + steal, nice


def raise_open_files() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# Database


def seed(database_url: str, participants: int, polls: int) -> dict:
    """Seed the programme, the participants and the polls; return what the runs need: the stage,
    the poll ids with their option ids, and per participant the cookie and registration id."""
    os.environ.update(environment(database_url))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))

    from workshop import create_app
    from workshop.auth.models import Role
    from workshop.auth.services import create_staff_user
    from workshop.db import db
    from workshop.live import services as live
    from workshop.live.models import PollKind
    from workshop.programs.models import Organization, OrgKind
    from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status
    from workshop.registration.services import ensure_participant_user

    rng = random.Random(participants)
    app = create_app()
    with app.app_context():
        session = db.session
        program, agencies = seed_programme(
            session,
            slug=SLUG,
            title="Bimtek Masterplan Smart City (live poll benchmark)",
            capacity=participants,
            meeting_provider="Zoom",
            meeting_url="https://zoom.us/j/81200012001",
        )
        villages = session.scalars(db.select(Organization).where(Organization.kind == OrgKind.DESA)).all()
        districts = session.scalars(
            db.select(Organization).where(Organization.kind == OrgKind.KECAMATAN)
        ).all()
        registrations = []
        for index in range(participants):
            pick = index % 20
            organization = (
                rng.choice(agencies)
                if pick < 3
                else rng.choice(districts)
                if pick < 5
                else rng.choice(villages)
            )
            person = Person(
                name=f"Peserta {index:04d}",
                position={OrgKind.OPD: "Kepala Bidang", OrgKind.KECAMATAN: "Camat"}.get(
                    organization.kind, "Kepala Desa"
                ),
                organization=organization,
                phone=f"+62812{5000_0000 + index:08d}",
            )
            mode = Mode.LURING if index % 7 == 0 else Mode.DARING
            registration = Registration(
                program=program, person=person, status=Status.APPROVED, source="bench"
            )
            registration.stage_modes = [RegistrationStage(stage=stage, mode=mode) for stage in program.stages]
            registrations.append(registration)
        session.add_all(registrations)
        session.flush()
        with session.no_autoflush:  # the people are new: no user exists yet for any of them
            users = [ensure_participant_user(session, registration.person) for registration in registrations]
        organiser = create_staff_user(
            session,
            username="panitia-bench",
            name="Panitia",
            role=Role.PANITIA,
            password="bench-password-123",
        )
        stage = program.stages[0]
        draft = live.PollDraft(
            kind=PollKind.SINGLE,
            question="Layanan mana yang paling dibutuhkan desa Anda?",
            options=["Internet desa", "Aplikasi layanan", "CCTV", "Pelatihan aparatur"],
        )
        made = [live.create_poll(session, stage, draft, actor=organiser) for _ in range(polls)]
        session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        cookie_name = app.config["SESSION_COOKIE_NAME"]
        cookies = [
            f"{cookie_name}={serializer.dumps({'_user_id': user.get_id(), '_fresh': False})}"
            for user in users
        ]
        return {
            "stage_id": stage.id,
            "polls": [{"id": poll.id, "option_ids": [option.id for option in poll.options]} for poll in made],
            "organiser_id": organiser.id,
            "cookies": cookies,
            "registration_ids": [registration.id for registration in registrations],
            "luring": sum(1 for index in range(participants) if index % 7 == 0),
        }


def open_poll(database_url: str, poll_id: int, organiser_id: int) -> None:
    """Open the round's poll (closing the previous one) while no server runs."""
    from workshop import create_app
    from workshop.auth.models import User
    from workshop.db import db
    from workshop.live import services as live
    from workshop.live.models import Poll

    os.environ.update(environment(database_url))
    app = create_app()
    with app.app_context():
        poll = db.session.get(Poll, poll_id)
        live.open_poll(db.session, poll, actor=db.session.get(User, organiser_id), now=datetime.now(UTC))
        db.session.commit()


def stored_votes(database_url: str, poll_id: int) -> set[int]:
    """The registration ids with a vote on the poll."""
    import sqlite3

    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT registration_id FROM poll_vote WHERE poll_id = ?", (poll_id,))
        return {row[0] for row in rows}


# The load generator (its own process: this script with --loadgen, a JSON job on stdin)


class Participant:
    def __init__(self, index: int, job: dict, http, expected: list[int]):
        from socketio_client import SocketIOClient

        self.index = index
        self.job = job
        self.sio = SocketIOClient(
            http, job["url"], job["cookies"][index], compress=15 if job["deflate"] else 0
        )
        self.expected = expected  # one-element list: the number of votes sent, set before the votes
        self.sio.on("poll_results", self.on_results)
        self.connect_time: float | None = None
        self.connect_error: str | None = None
        self.attempts = 0
        self.client_id = "lp-" + uuid.uuid4().hex
        self.scheduled = self.sent = self.acked = None
        self.ack: dict | None = None
        self.ack_error: str | None = None
        self.converged_at: float | None = None
        self.results_seen = 0
        self.max_total = 0

    def on_results(self, data, now: float) -> None:
        if not isinstance(data, dict) or data.get("poll_id") != self.job["poll_id"]:
            return
        self.results_seen += 1
        total = (data.get("results") or {}).get("total") or 0
        self.max_total = max(self.max_total, total)
        if self.converged_at is None and self.expected[0] and total >= self.expected[0]:
            self.converged_at = now

    async def connect(self) -> None:
        import aiohttp
        from socketio_client import ConnectError, Disconnected

        started = time.perf_counter()
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            self.attempts = attempt
            try:
                await self.sio.connect(timeout=CONNECT_TIMEOUT)
                ack, _, _ = await self.sio.call(
                    "join_stage", {"stage_id": self.job["stage_id"]}, CONNECT_TIMEOUT
                )
            except (ConnectError, Disconnected, TimeoutError, aiohttp.ClientError, OSError) as error:
                self.connect_error = f"{type(error).__name__}: {error}"[:120]
                await self.sio.close()
                await asyncio.sleep(1.0)
                continue
            if isinstance(ack, dict) and ack.get("ok"):
                self.connect_time = time.perf_counter() - started
                self.connect_error = None
            else:
                self.connect_error = f"join_stage refused: {ack}"[:120]
            return

    async def vote(self, at: float, option_id: int) -> None:
        from socketio_client import Disconnected

        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        self.scheduled = at
        payload = {
            "stage_id": self.job["stage_id"],
            "client_id": self.client_id,
            "poll_id": self.job["poll_id"],
            "answer": {"option_ids": [option_id]},
        }
        self.sent = time.perf_counter()
        try:
            self.ack, self.sent, self.acked = await self.sio.call("vote", payload, ACK_WAIT)
        except TimeoutError:
            self.ack_error = "timeout"
        except (Disconnected, ConnectionError, RuntimeError) as error:
            self.ack_error = f"{type(error).__name__}: {error}"[:120]


def _server_pids(job: dict) -> list[int]:
    """The server processes whose CPU and memory are summed: job["server_pids"] (several web
    processes, bench/live_poll_cluster.py) or the one job["server_pid"]."""
    return job.get("server_pids") or [job["server_pid"]]


def _sum_cpu(pids: list[int]) -> float:
    return sum(server_cpu(pid) for pid in pids)


def _sum_wait(pids: list[int]) -> float:
    return sum(run_queue_wait(pid) for pid in pids)


def _sum_memory(pids: list[int]) -> dict:
    memories = [process_memory(pid) for pid in pids]
    return {key: sum(memory[key] for memory in memories) for key in ("rss", "hwm")}


async def run_loadgen(job: dict) -> dict:
    import contextlib

    import aiohttp

    pids = _server_pids(job)
    # job["source_addresses"] (optional): client i connects from address i % len (127.0.0.N), so
    # nginx's `hash $remote_addr` spreads the clients over the web processes
    sources = job.get("source_addresses") or [None]
    async with contextlib.AsyncExitStack() as stack:
        sessions = []
        for source in sources:
            connector = aiohttp.TCPConnector(
                limit=0, force_close=True, local_addr=(source, 0) if source else None
            )
            sessions.append(
                await stack.enter_async_context(
                    aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())
                )
            )
        expected = [0]
        clients = [
            Participant(index, job, sessions[index % len(sessions)], expected)
            for index in range(len(job["cookies"]))
        ]

        # Connect, ramped
        pending = asyncio.Semaphore(MAX_PENDING_CONNECTS)

        async def connect(client: Participant) -> None:
            try:
                await client.connect()
            finally:
                pending.release()

        idle_rss = _sum_memory(pids)["rss"]
        cpu0, wall0 = _sum_cpu(pids), time.perf_counter()
        tasks = []
        for position, client in enumerate(clients):
            await asyncio.sleep(max(0.0, wall0 + position / job["ramp"] - time.perf_counter()))
            await pending.acquire()
            tasks.append(asyncio.create_task(connect(client)))
        await asyncio.gather(*tasks)
        connect_wall = time.perf_counter() - wall0
        connect_server_cpu = _sum_cpu(pids) - cpu0
        voters = [client for client in clients if client.connect_time is not None and client.sio.connected]
        print(f"  connected {len(voters)}/{len(clients)} in {connect_wall:.1f} s", file=sys.stderr)
        await asyncio.sleep(SETTLE)

        # Vote, spread evenly, and wait for the acks and for every client to see the full tally
        rng = random.Random(len(clients))
        rng.shuffle(voters)
        expected[0] = len(voters)
        options = [
            option
            for option, weight in zip(job["option_ids"], OPTION_WEIGHTS, strict=True)
            for _ in range(weight)
        ]
        spacing = job["spread"] / max(len(voters), 1)
        cpu0, lg0, wait0, busy0 = _sum_cpu(pids), time.process_time(), _sum_wait(pids), machine_busy()
        start = time.perf_counter()
        votes = asyncio.gather(
            *(
                client.vote(start + position * spacing, options[client.index % len(options)])
                for position, client in enumerate(voters)
            )
        )
        last_scheduled = start + max(len(voters) - 1, 0) * spacing
        peak_rss = 0.0
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            if int(now * 10) != int((now - 0.01) * 10):  # about every 100 ms
                peak_rss = max(peak_rss, _sum_memory(pids)["rss"])
            converged = all(client.converged_at is not None for client in voters)
            if votes.done() and (converged or now > last_scheduled + ACK_WAIT + CONVERGE_WAIT):
                break
            if converged and now > last_scheduled + ACK_WAIT + 1:
                break
        end = time.perf_counter()
        vote_server_cpu, vote_loadgen_cpu = _sum_cpu(pids) - cpu0, time.process_time() - lg0
        vote_server_wait = _sum_wait(pids) - wait0
        busy1 = machine_busy()
        vote_other_cpu = busy1[0] - busy0[0] - vote_server_cpu - vote_loadgen_cpu
        vote_niced_cpu = busy1[1] - busy0[1]
        memory = _sum_memory(pids)
        if not votes.done():
            votes.cancel()
        last_sent = max((client.sent for client in voters if client.sent is not None), default=start)
        last_event = max(
            [last_sent]
            + [client.acked for client in voters if client.acked is not None]
            + [client.converged_at for client in voters if client.converged_at is not None]
        )
        unhandled: dict[str, int] = {}
        for client in clients:
            for name, count in client.sio.unhandled.items():
                unhandled[name] = unhandled.get(name, 0) + count
        await asyncio.gather(*(client.sio.close() for client in clients), return_exceptions=True)

    errors: dict[str, int] = {}
    for client in clients:
        if client.connect_time is None:
            errors[client.connect_error or "?"] = errors.get(client.connect_error or "?", 0) + 1
    return {
        "clients": len(clients),
        "connected": len(voters),
        "connect_errors": errors,
        "connect_retries": sum(client.attempts - 1 for client in clients),
        "connect_wall": connect_wall,
        "connect_server_cpu": connect_server_cpu,
        "connect_times": [client.connect_time for client in voters],
        "votes": [
            {
                "index": client.index,
                "client_id": client.client_id,
                "lag": client.sent - client.scheduled if client.sent is not None else None,
                "latency": client.acked - client.sent if client.acked is not None else None,
                "ok": bool(isinstance(client.ack, dict) and client.ack.get("ok")),
                "error": client.ack_error
                or (None if isinstance(client.ack, dict) and client.ack.get("ok") else str(client.ack)[:120]),
                "converged": client.converged_at - last_sent if client.converged_at is not None else None,
                "seen": client.results_seen,
                "max_total": client.max_total,
            }
            for client in voters
        ],
        "vote_spread": last_sent - start,
        "vote_window": last_event - start,
        "vote_wall": end - start,
        # CPU over [first vote, end of the wait loop]; the loop ends within ~10 ms of the last
        # event unless some client never converged (then it waited CONVERGE_WAIT, idle)
        "server_cpu": vote_server_cpu,
        "server_wait": vote_server_wait,
        "other_cpu": vote_other_cpu,
        "niced_cpu": vote_niced_cpu,
        "loadgen_cpu": vote_loadgen_cpu,
        "idle_rss": idle_rss,
        "rss": memory["rss"],
        "peak_rss": max(peak_rss, memory["rss"]),
        "hwm": memory["hwm"],
        "unhandled_events": unhandled,
        "nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
    }


def loadgen_main() -> None:
    raise_open_files()
    job = json.load(sys.stdin)
    result = asyncio.run(run_loadgen(job))
    json.dump(result, sys.stdout)


# One round against one server


def wait_until_quiet(max_other: float, patience: float) -> None:
    """Wait (at most `patience` s) until other processes use less than `max_other` % of a core."""
    deadline = time.monotonic() + patience
    while True:
        before, began = machine_busy()[0], time.monotonic()
        time.sleep(2.0)
        other = 100 * (machine_busy()[0] - before) / (time.monotonic() - began)
        if other <= max_other or time.monotonic() > deadline:
            return
        print(f"  machine busy ({other:.0f}% of a core): waiting", file=sys.stderr)


def run_round(server: str, n: int, seeded: dict, poll: dict, database_url: str, workdir: Path, args) -> dict:
    script = {"bare": str(BENCH / "bare_live_server.py"), "base": args.base_script}.get(
        server, args.app_script
    )
    log = workdir / f"{server}-{n}.log"
    process, port = start_server([script], database_url, log, "/")
    try:
        job = {
            "url": f"http://127.0.0.1:{port}",
            "server_pid": process.pid,
            "stage_id": seeded["stage_id"],
            "poll_id": poll["id"],
            "option_ids": poll["option_ids"],
            "cookies": seeded["cookies"][:n],
            "ramp": args.ramp,
            "spread": args.spread,
            "deflate": args.deflate,
        }
        completed = subprocess.run(
            [PYTHON, str(Path(__file__).resolve()), "--loadgen"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        sys.stderr.write(completed.stderr)
        if completed.returncode != 0:
            raise SystemExit(f"load generator failed ({completed.returncode}); server log {log}")
        raw = json.loads(completed.stdout)
        if server == "bare":
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=30) as response:
                stored_ids = set(json.load(response)["client_ids"])
            stored = len(stored_ids)
            acked_not_stored = sum(1 for v in raw["votes"] if v["ok"] and v["client_id"] not in stored_ids)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:  # a loaded machine: still handling N disconnects; measured already
            print(f"  {server} did not stop within {STOP_WAIT} s of SIGTERM: killed", file=sys.stderr)
            process.kill()
            process.wait()
    if server in APP_SERVERS:
        registrations = stored_votes(database_url, poll["id"])
        stored = len(registrations)
        ids = seeded["registration_ids"]
        acked_not_stored = sum(1 for v in raw["votes"] if v["ok"] and ids[v["index"]] not in registrations)
    return summarise(raw, stored, acked_not_stored)


def summarise(raw: dict, stored: int, acked_not_stored: int) -> dict:
    connect = sorted(t * 1000 for t in raw["connect_times"])
    votes = raw["votes"]
    latencies = sorted(v["latency"] * 1000 for v in votes if v["latency"] is not None)
    lags = sorted(v["lag"] * 1000 for v in votes if v["lag"] is not None)
    converged = [v["converged"] for v in votes if v["converged"] is not None]
    window = raw["vote_wall"] if raw["vote_wall"] > 0 else math.nan
    return {
        "clients": raw["clients"],
        "connected": raw["connected"],
        "connect_failed": raw["clients"] - raw["connected"],
        "connect_errors": raw["connect_errors"],
        "connect_retries": raw["connect_retries"],
        "connect_wall_s": raw["connect_wall"],
        "connect_p50_ms": percentile(connect, 50),
        "connect_p95_ms": percentile(connect, 95),
        "connect_p99_ms": percentile(connect, 99),
        "connect_server_cpu_pct": 100 * raw["connect_server_cpu"] / raw["connect_wall"],
        "connect_server_cpu_ms": 1000 * raw["connect_server_cpu"] / max(raw["connected"], 1),
        "votes_sent": len(votes),
        "acks_ok": sum(1 for v in votes if v["ok"]),
        "ack_errors": sum(1 for v in votes if not v["ok"] and v["error"] != "timeout"),
        "ack_timeouts": sum(
            1
            for v in votes
            if v["error"] == "timeout" or (v["latency"] is not None and v["latency"] > ACK_TIMEOUT)
        ),
        "error_samples": sorted({v["error"] for v in votes if v["error"]})[:5],
        "ack_p50_ms": percentile(latencies, 50),
        "ack_p95_ms": percentile(latencies, 95),
        "ack_p99_ms": percentile(latencies, 99),
        "ack_max_ms": latencies[-1] if latencies else math.nan,
        "send_lag_p99_ms": percentile(lags, 99),
        "vote_spread_s": raw["vote_spread"],
        "converged_clients": len(converged),
        "converge_s": max(converged) if len(converged) == len(votes) and votes else math.nan,
        "converge_p50_s": statistics.median(converged) if converged else math.nan,
        "max_total_seen": max((v["max_total"] for v in votes), default=0),
        "results_per_client": statistics.median(v["seen"] for v in votes) if votes else 0,
        "stored": stored,
        "lost": len(votes) - stored,
        "acked_not_stored": acked_not_stored,
        "server_cpu_pct": 100 * raw["server_cpu"] / window,
        "server_cpu_ms_per_vote": 1000 * raw["server_cpu"] / max(len(votes), 1),
        "server_wait_s": raw["server_wait"],
        "loadgen_cpu_pct": 100 * raw["loadgen_cpu"] / window,
        # /proc/stat and the per-process figures are read a few ms apart: clamp the jitter
        "other_cpu_pct": max(0.0, 100 * raw["other_cpu"] / window),
        "niced_cpu_pct": 100 * raw["niced_cpu"] / window,
        "vote_window_s": raw["vote_window"],
        "rss_mib": raw["rss"],
        "peak_rss_mib": raw["peak_rss"],
        "rss_kib_per_client": 1024 * max(raw["peak_rss"], raw["rss"]) / max(raw["connected"], 1),
        "added_rss_kib_per_client": 1024
        * (max(raw["peak_rss"], raw["rss"]) - raw["idle_rss"])
        / max(raw["connected"], 1),
        "hwm_mib": raw["hwm"],
        "unhandled_events": raw["unhandled_events"],
        "nofile": raw["nofile"],
    }


# Report

# (key, label, format, ratio?) ; counts are summed over the rounds, the rest are medians
FIGURES = [
    ("connect_wall_s", "connect all N (ramped), s", "{:.1f}", True),
    ("connect_p50_ms", "connect + join p50, ms", "{:.0f}", True),
    ("connect_p95_ms", "connect + join p95, ms", "{:.0f}", True),
    ("connect_p99_ms", "connect + join p99, ms", "{:.0f}", True),
    ("connect_server_cpu_pct", "server CPU while connecting, % of a core", "{:.0f}", True),
    ("connect_server_cpu_ms", "server CPU per connection (connect + join), ms", "{:.2f}", True),
    ("connect_failed", "clients not connected (sum)", "{:.0f}", False),
    ("ack_p50_ms", "vote ack p50, ms", "{:.0f}", True),
    ("ack_p95_ms", "vote ack p95, ms", "{:.0f}", True),
    ("ack_p99_ms", "vote ack p99, ms", "{:.0f}", True),
    ("ack_max_ms", "vote ack max, ms", "{:.0f}", True),
    ("ack_errors", "ack errors (sum)", "{:.0f}", False),
    ("ack_timeouts", "ack timeouts > 8 s (sum)", "{:.0f}", False),
    ("converge_s", "all clients saw total = N, s after last vote", "{:.2f}", True),
    ("converge_p50_s", "median client saw total = N, s after last vote", "{:.2f}", True),
    ("lost", "lost votes: sent - stored (sum)", "{:.0f}", False),
    ("acked_not_stored", "acked but not stored (sum)", "{:.0f}", False),
    ("server_cpu_pct", "server CPU, vote phase, % of a core", "{:.0f}", True),
    ("server_cpu_ms_per_vote", "server CPU per vote (incl. tallies, broadcasts), ms", "{:.2f}", True),
    ("server_wait_s", "server waited for a CPU, vote phase, s", "{:.2f}", False),
    ("peak_rss_mib", "server RSS peak in vote phase, MiB", "{:.0f}", True),
    ("hwm_mib", "server VmHWM at the end, MiB", "{:.0f}", True),
    ("rss_kib_per_client", "server RSS peak per connected client, KiB", "{:.0f}", True),
    ("added_rss_kib_per_client", "server RSS added per connected client (peak - idle), KiB", "{:.0f}", True),
    ("loadgen_cpu_pct", "load generator CPU, vote phase, % of a core", "{:.0f}", True),
    ("other_cpu_pct", "other processes' CPU, vote phase, % of a core", "{:.0f}", False),
    ("niced_cpu_pct", "niced processes' CPU, vote phase, % of a core", "{:.0f}", False),
    ("send_lag_p99_ms", "load generator send lag p99, ms", "{:.0f}", False),
    ("results_per_client", "poll_results received per client", "{:.0f}", True),
]
COUNTS = {key for key, *_ in FIGURES if "(sum)" in _[0]}


def figure(rounds: list[dict], key: str) -> float:
    values = [r[key] for r in rounds]
    if key in COUNTS:
        return sum(values)
    if any(isinstance(v, float) and math.isnan(v) for v in values):
        return math.nan  # e.g. not converged in some round
    return statistics.median(values)


def ratio(app: list[dict], bare: list[dict], key: str) -> float:
    pairs = [(a[key], b[key]) for a, b in zip(app, bare, strict=False)]
    values = [a / b for a, b in pairs if b and not (math.isnan(a) or math.isnan(b))]
    if len(values) < len(pairs):
        return math.nan
    return statistics.median(values) if values else math.nan


def fmt(value: float, pattern: str) -> str:
    return "n/a" if isinstance(value, float) and math.isnan(value) else pattern.format(value)


def targets(results: dict[int, dict[str, list[dict]]]) -> list[str]:
    """One line per target of issue 15 that this run measured: PASS or FAIL, with the figures."""
    lines = []
    for n, by_server in results.items():
        app, bare = by_server.get("app"), by_server.get("bare")
        goal = TARGETS.get(n)
        if not app or goal is None:
            continue

        def check(label: str, ok: bool, detail: str, n: int = n) -> None:
            lines.append(f"- {'PASS' if ok else 'FAIL'} N = {n:,}: {label} ({detail}).")

        lost = [r["lost"] + r["acked_not_stored"] for r in app]
        check(
            "0 votes lost", not any(lost), f"lost or acked-not-stored per round: {', '.join(map(str, lost))}"
        )
        converge = figure(app, "converge_s")
        check(
            f"every client converged <= {goal['converge_s']:g} s after the last vote",
            converge <= goal["converge_s"],
            f"median {fmt(converge, '{:.2f}')} s; rounds {', '.join(fmt(r['converge_s'], '{:.2f}') for r in app)} s"
            + (f"; bare {fmt(figure(bare, 'converge_s'), '{:.2f}')} s" if bare else ""),
        )
        if bare:
            p99 = ratio(app, bare, "ack_p99_ms")
            check(
                f"ack p99 <= {goal['ack_p99_ratio']:g}x bare",
                p99 <= goal["ack_p99_ratio"],
                f"{fmt(p99, '{:.2f}')}x; app {fmt(figure(app, 'ack_p99_ms'), '{:.0f}')} ms, "
                f"bare {fmt(figure(bare, 'ack_p99_ms'), '{:.0f}')} ms; per round "
                + ", ".join(
                    fmt(a["ack_p99_ms"] / b["ack_p99_ms"], "{:.2f}x") for a, b in zip(app, bare, strict=False)
                ),
            )
            if "cpu_per_vote_ratio" in goal:
                cpu = ratio(app, bare, "server_cpu_ms_per_vote")
                check(
                    f"server CPU per vote <= {goal['cpu_per_vote_ratio']:g}x bare",
                    cpu <= goal["cpu_per_vote_ratio"],
                    f"{fmt(cpu, '{:.2f}')}x; app {fmt(figure(app, 'server_cpu_ms_per_vote'), '{:.2f}')} ms, "
                    f"bare {fmt(figure(bare, 'server_cpu_ms_per_vote'), '{:.2f}')} ms",
                )
        if "rss_kib_per_client" in goal:
            kib = figure(app, "rss_kib_per_client")
            check(
                f"server RSS <= {goal['rss_kib_per_client']} KiB per connected participant",
                kib <= goal["rss_kib_per_client"],
                f"peak RSS / N = {fmt(kib, '{:.0f}')} KiB; added by the clients (peak - idle) / N = "
                f"{fmt(figure(app, 'added_rss_kib_per_client'), '{:.0f}')} KiB"
                + (f"; bare {fmt(figure(bare, 'rss_kib_per_client'), '{:.0f}')} KiB" if bare else ""),
            )
    return lines


def report(results: dict[int, dict[str, list[dict]]], args, meta: dict) -> str:
    lines = [
        f"Run {meta['started']} on {meta['machine']}, load average {meta.get('load_average', '?')} "
        f"at the start; open-file limit {meta['nofile'][0]} (hard "
        f"{meta['nofile'][1]}); {args.rounds} round(s) per N, each against a fresh bare server and a "
        f"fresh app server{' and a fresh base server (' + args.base_script + ')' if args.base_script else ''}; connect ramp {args.ramp}/s; votes spread over {args.spread:g} s; "
        f"permessage-deflate {'on' if args.deflate else 'off'}. Medians over the rounds; a ratio is the "
        "median of the per-round ratios app / bare. A run during which other processes at normal priority "
        f"used more than {args.max_other:g}% of a core was repeated (at most {args.retries} times; the last attempt counts).",
        "",
    ]
    for n, by_server in results.items():
        app, bare = by_server.get("app", []), by_server.get("bare", [])
        base = by_server.get("base", [])
        lines += [
            f"### N = {n:,}",
            "",
            "| figure | app | bare | app / bare |" + (" base | base / bare | app / base |" if base else ""),
            "| --- | ---: | ---: | ---: |" + (" ---: | ---: | ---: |" if base else ""),
        ]
        for key, label, pattern, with_ratio in FIGURES:
            a = fmt(figure(app, key), pattern) if app else "-"
            b = fmt(figure(bare, key), pattern) if bare else "-"
            r = fmt(ratio(app, bare, key), "{:.2f}x") if app and bare and with_ratio else "-"
            row = f"| {label} | {a} | {b} | {r} |"
            if base:
                row += f" {fmt(figure(base, key), pattern)} |"
                row += f" {fmt(ratio(base, bare, key), '{:.2f}x') if bare and with_ratio else '-'} |"
                row += f" {fmt(ratio(app, base, key), '{:.2f}x') if app and with_ratio else '-'} |"
            lines.append(row)
        lines.append("")
        for server in SERVERS:
            for index, r in enumerate(by_server.get(server, []), start=1):
                extra = ""
                if r["connect_errors"]:
                    extra += f"; connect errors {r['connect_errors']}"
                if r["error_samples"]:
                    extra += f"; ack errors e.g. {r['error_samples']}"
                lines.append(
                    f"- {server} round {index}: connected {r['connected']}/{r['clients']} in "
                    f"{r['connect_wall_s']:.1f} s; ack p50/p95/p99 {r['ack_p50_ms']:.0f}/{r['ack_p95_ms']:.0f}/"
                    f"{r['ack_p99_ms']:.0f} ms; converged {fmt(r['converge_s'], '{:.2f}')} s "
                    f"({r['converged_clients']} clients, max total seen {r['max_total_seen']}); stored "
                    f"{r['stored']}/{r['votes_sent']}; server CPU {r['server_cpu_pct']:.0f}%, waited "
                    f"{r['server_wait_s']:.2f} s for a CPU; load generator {r['loadgen_cpu_pct']:.0f}%; other "
                    f"processes {r['other_cpu_pct']:.0f}% (niced {r['niced_cpu_pct']:.0f}%); load average "
                    f"{r.get('load_average', math.nan):.2f} before; attempt {r.get('attempt', 1)}; other events "
                    f"{r['unhandled_events']}{extra}"
                )
        lines.append("")
    checks = targets(results)
    if checks:
        lines += ["Targets (issue 15; ratios are medians of the per-round ratios app / bare):", "", *checks]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated N")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--servers", default="bare,app", help="bare,app or one of them (base comes with --base-script)"
    )
    parser.add_argument("--ramp", type=float, default=200.0, help="new connections per second")
    parser.add_argument("--spread", type=float, default=5.0, help="seconds over which the N votes are sent")
    parser.add_argument(
        "--deflate", action="store_true", help="offer permessage-deflate, as browsers do (default: off)"
    )
    parser.add_argument(
        "--app-script",
        default="app.py",
        help="the app server to start (default app.py; e.g. a wrapper that profiles it)",
    )
    parser.add_argument(
        "--base-script",
        help="A/B: also start this app server each round (e.g. app.py of a checkout of main), the column 'base'",
    )
    parser.add_argument(
        "--max-other",
        type=float,
        default=30.0,
        help="CPU of other processes (%% of a core) above which a run counts as disturbed and is repeated",
    )
    parser.add_argument("--retries", type=int, default=2, help="repeats of a disturbed run")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="seconds to wait at most for a quiet machine before a run",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary databases and server logs")
    parser.add_argument("--loadgen", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        loadgen_main()
        return
    sizes = [int(size) for size in args.sizes.split(",")]
    servers = [name for name in args.servers.split(",") if name]
    if args.base_script and "base" not in servers:
        servers.insert(1 if servers[:1] == ["bare"] else 0, "base")
    if not set(servers) <= set(SERVERS):
        parser.error(f"--servers: choose from {', '.join(SERVERS)}")
    if "base" in servers and not args.base_script:
        parser.error("--servers base needs --base-script")
    nofile = raise_open_files()  # inherited by the servers and the load generator
    meta = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "nofile": list(nofile),
        "load_average": " ".join(f"{load:.2f}" for load in os.getloadavg()),
    }
    clock = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="bimtek-live-bench-"))
    results: dict[int, dict[str, list[dict]]] = {}
    discarded: dict[str, list[dict]] = {}  # the disturbed attempts that were repeated
    try:
        for n in sizes:
            database_url = f"sqlite:///{workdir / f'live-{n}.sqlite3'}"
            began = time.perf_counter()
            if set(servers) & set(APP_SERVERS):
                make_database(database_url)
                seeded = seed(
                    database_url, n, args.rounds * (args.retries + 1) * len(set(servers) & set(APP_SERVERS))
                )
            else:
                seeded = bare_seed(n)
            print(f"N = {n}: database ready in {time.perf_counter() - began:.1f} s", file=sys.stderr)
            results[n] = {server: [] for server in servers}
            polls = iter(seeded["polls"])
            for round_index in range(args.rounds):
                for server in servers:
                    for attempt in range(1, args.retries + 2):
                        wait_until_quiet(args.max_other, args.quiet_wait)
                        poll = next(polls) if server in APP_SERVERS else seeded["polls"][0]
                        if server in APP_SERVERS:
                            open_poll(database_url, poll["id"], seeded["organiser_id"])
                        print(
                            f"N = {n} round {round_index + 1}/{args.rounds}: {server} (attempt {attempt})",
                            file=sys.stderr,
                        )
                        load = os.getloadavg()[0]
                        result = run_round(server, n, seeded, poll, database_url, workdir, args)
                        result["attempt"] = attempt
                        result["load_average"] = load
                        print(
                            f"  ack p50/p99 {result['ack_p50_ms']:.0f}/{result['ack_p99_ms']:.0f} ms, converged "
                            f"{fmt(result['converge_s'], '{:.2f}')} s, lost {result['lost']}, server CPU "
                            f"{result['server_cpu_pct']:.0f}%, load generator {result['loadgen_cpu_pct']:.0f}%, "
                            f"other processes {result['other_cpu_pct']:.0f}% (niced {result['niced_cpu_pct']:.0f}%)",
                            file=sys.stderr,
                        )
                        if result["error_samples"]:
                            print(f"  errors, e.g. {result['error_samples']}", file=sys.stderr)
                        if result["other_cpu_pct"] <= args.max_other:
                            break
                        if attempt > args.retries:
                            print("  disturbed by other processes; no retry left: it counts", file=sys.stderr)
                            break
                        print("  disturbed by other processes: again", file=sys.stderr)
                        discarded.setdefault(f"{n} {server}", []).append(result)
                    results[n][server].append(result)
    finally:
        text = report(results, args, meta)
        print(text)
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        command = " ".join([".venv/bin/python", *sys.argv])
        (RESULTS / f"live_poll-{stamp}.md").write_text(f"Command: `{command}`\n\n{text}\n", encoding="utf-8")
        (RESULTS / f"live_poll-{stamp}.json").write_text(
            json.dumps(
                {"meta": meta, "args": vars(args), "results": results, "discarded": discarded}, indent=1
            ),
            encoding="utf-8",
        )
        print(f"Total {time.perf_counter() - clock:.0f} s; results in {RESULTS}", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(workdir)


def bare_seed(n: int) -> dict:
    """Without the app: no database, no login (the bare server takes any socket)."""
    return {
        "stage_id": 1,
        "polls": [{"id": 1, "option_ids": [1, 2, 3, 4]}],
        "cookies": [None] * n,
        "registration_ids": [],
    }


if __name__ == "__main__":
    main()
