"""Benchmark: CPU instructions per hall check-in scan, per participant page and per socket event's
request context, counted by valgrind's callgrind, which no other load on the machine moves (issue 15's
fixed per-request cost).

    .venv/bin/python bench/instructions.py [--compare REV] [--requests N] [--warmup W] [--profile DIR]

1. Seeds the SQLite databases once, with this checkout's bench seeds (`flask db upgrade`, then
   bench/checkin.py's programme with 2 petugas and bench/participant_page.py's with 5,000
   registrations): the schema must be the same in every tree compared.
2. For each tree (this checkout; with --compare REV also `git archive REV`, its catalogs compiled
   and static files built as an installation does) and each scenario, runs a child process under
   `valgrind --tool=callgrind --instr-atstart=no` on a fresh copy of the database, with
   PYTHONHASHSEED=0 and the production settings of bench/common.py. The child creates the app,
   logs in with the test client (a petugas with its password; a participant with a personal link),
   then hands each request straight to the app's WSGI callable (no HTTP server, no test client):
   - scan: POST /api/stages/<id>/checkin, the first scan of a new ticket each time (green);
   - page: GET /saya/<slug>, the same participant each time;
   - socket-event-context: that participant's socket (connected with Flask-SocketIO's test client,
     its handshake at Engine.IO's path `/socket.io/` as a browser's) gets an event whose handler does
     nothing: Flask-SocketIO's `_handle_event`, i.e. the request context it pushes and pops around
     every event of the socket (the app's own handlers measured apart from it);
   - vote-event, vote-batch, broadcast-tick (bench/live_poll.py's seed: 2,000 participants, one
     poll open): a vote through a joined socket with its batch of one and its ack; `record_votes`
     on batches of 10 new votes (per vote); one broadcaster tick after 10 new votes, its results
     handed to a room of 2,000 sockets whose sends do nothing (`_measure_live`).
   W unmeasured requests warm the caches up; callgrind counts the N after them only (switched on
   and off through callgrind.h's client requests, from a small C library built here with gcc).
3. Prints the M instructions per request for each tree and scenario and the ratio to the first
   tree. With --profile DIR it keeps the callgrind files there: read them with
   `callgrind_annotate --inclusive=yes FILE`.

Needs valgrind (`apt-get install -y valgrind`: callgrind and its callgrind.h) and gcc. A run of
both scenarios on two trees takes about two minutes per 100 requests.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from common import BENCH, CSRF_RE, PYTHON, ROOT, environment, make_database

SCENARIOS = ("scan", "page", "socket-event-context", "vote-event", "vote-batch", "broadcast-tick")
LIVE_SCENARIOS = ("vote-event", "vote-batch", "broadcast-tick")
DATABASE_OF = {  # the seeded database
    "scan": "scan",
    "page": "page",
    "socket-event-context": "page",
    **dict.fromkeys(LIVE_SCENARIOS, "live"),
}
LIVE_PARTICIPANTS = 2_000  # bench/live_poll.py's N = 2,000
LIVE_SOCKETS = 2_000  # in the stage's room at a tick (fake ones but the first: nothing is sent)
BATCH = 10  # votes a batch (at N = 2,000 over 5 s, 400 votes a second: a batch every 20-30 ms)
PAGE_SLUG = "bench-smart-city"  # bench/participant_page.py's programme
CALLGRIND_C = r"""
#include <valgrind/callgrind.h>
void measure_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void measure_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT("measured"); }
void measure_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
"""


def build_library(directory: Path) -> Path:
    source, library = directory / "measure.c", directory / "libmeasure.so"
    source.write_text(CALLGRIND_C)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    return library


def seed(directory: Path, scenarios: list[str]) -> dict:
    """The databases the scenarios need; what the children need to log in and to scan."""
    needed = {DATABASE_OF[scenario] for scenario in scenarios}
    states = {}
    for scenario, module, args in (
        ("scan", "checkin", (400, 2)),
        ("page", "participant_page", (5_000,)),
        ("live", "live_poll", (LIVE_PARTICIPANTS, 1)),
    ):
        if scenario not in needed:
            continue
        database = directory / f"{scenario}.sqlite3"
        url = f"sqlite:///{database}"
        make_database(url)
        code = (
            f"import json, sys; sys.path.insert(0, {str(BENCH)!r}); import {module} as bench; "
            f"state = bench.seed({url!r}, *{args!r}); "
            "state.pop('secret_of_hash', None); "
            + (
                f"bench.open_poll({url!r}, state['polls'][0]['id'], state['organiser_id']); "
                if scenario == "live"
                else ""
            )
            + "print(json.dumps(state))"
        )
        done = subprocess.run(
            [PYTHON, "-c", code], cwd=ROOT, env=environment(url), check=True, capture_output=True, text=True
        )
        states[scenario] = {"database": str(database), **json.loads(done.stdout.splitlines()[-1])}
    return states


def export_tree(revision: str, directory: Path) -> Path:
    """`git archive` of a revision, ready to serve: its catalogs compiled, its static files built."""
    tree = directory / f"tree-{re.sub(r'[^A-Za-z0-9_.-]', '_', revision)}"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    (tree / "node_modules").symlink_to(ROOT / "node_modules")
    venv_bin = Path(PYTHON).parent
    subprocess.run(
        [str(venv_bin / "pybabel"), "compile", "--use-fuzzy", "-d", "workshop/translations", "-f"],
        cwd=tree,
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "FLASK_APP": "workshop", "SECRET_KEY": "export"}
    subprocess.run([str(venv_bin / "flask"), "assets"], cwd=tree, env=env, check=True, capture_output=True)
    return tree


def measure(tree: Path, scenario: str, state: dict, args, work: Path, label: str) -> float:
    """M instructions per request of one scenario on one tree."""
    database = work / f"{label}-{scenario}.sqlite3"
    shutil.copyfile(state["database"], database)
    out = work / f"{label}-{scenario}.callgrind"
    job = {
        "tree": str(tree),
        "scenario": scenario,
        "state": state,
        "warmup": args.warmup,
        "requests": args.requests,
        "library": str(work / "libmeasure.so"),
    }
    job_file = work / f"{label}-{scenario}.json"
    job_file.write_text(json.dumps(job))
    env = environment(f"sqlite:///{database}", PYTHONHASHSEED="0", BENCH_INSTRUCTIONS_JOB=str(job_file))
    env.pop("BENCH_ABSENT_MODULES", None)
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        PYTHON,
        str(Path(__file__).resolve()),
        "--child",
    ]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{label} {scenario}: the child failed:\n{done.stderr[-3000:]}")
    dumps = [
        path for path in work.glob(f"{out.name}*") if "measured" in path.read_text(errors="replace")[:2000]
    ]
    if len(dumps) != 1:
        raise SystemExit(f"{label} {scenario}: expected one measured dump, found {dumps}")
    totals = re.search(r"^totals: (\d+)", dumps[0].read_text(errors="replace"), re.MULTILINE)
    assert totals is not None
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(dumps[0], args.profile / f"{label}-{scenario}.callgrind")
    return int(totals.group(1)) / args.requests / 1e6  # vote-batch: per vote


# The child, under valgrind


def child() -> None:
    job = json.loads(Path(os.environ["BENCH_INSTRUCTIONS_JOB"]).read_text())
    sys.path.insert(0, job["tree"])
    from werkzeug.test import EnvironBuilder

    from workshop import create_app

    app = create_app()
    base_url = "https://bimtek.example.org"
    client = app.test_client()
    referer = {"Referer": f"{base_url}/"}  # HTTPS: Flask-WTF checks that a POST comes from the site
    state = job["state"]
    headers: dict[str, str]
    if job["scenario"] == "scan":
        csrf = _csrf(client.get("/login", base_url=base_url).get_data(as_text=True))
        form = {"username": state["usernames"][0], "password": "bench-password-123", "csrf_token": csrf}
        assert client.post("/login", data=form, base_url=base_url, headers=referer).status_code == 302
        path = f"/api/stages/{state['stage_id']}/checkin"
        headers = {"Accept": "application/json", "X-CSRFToken": csrf, **referer}
        tickets = iter(state["tickets"])

        def environ() -> dict:
            body = {
                "code": f"BH1:{next(tickets)}",
                "desk": "Meja 1",
                "nonce": os.urandom(16).hex(),
                "method": "camera",
            }
            return EnvironBuilder(
                path,
                base_url=base_url,
                method="POST",
                json=body,
                headers={**headers, "Cookie": cookie()},
                environ_base=client.environ_base,  # the address and browser it logged in with
            ).get_environ()

        expected = 200
    elif job["scenario"] in LIVE_SCENARIOS:
        _measure_live(app, job)
        return
    elif job["scenario"] == "socket-event-context":
        _login_participant(client, state, base_url, referer)
        _measure_socket_event_context(app, client, job)
        return
    else:
        _login_participant(client, state, base_url, referer)
        path = f"/saya/{PAGE_SLUG}"

        def environ() -> dict:
            return EnvironBuilder(
                path, base_url=base_url, headers={"Cookie": cookie()}, environ_base=client.environ_base
            ).get_environ()

        expected = 200

    def cookie() -> str:
        return "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())

    statuses: list[str] = []

    def start_response(status, headers, _exc_info=None):
        statuses.append(status)
        if any(name.lower() == "set-cookie" for name, _value in headers):
            statuses.append("a new session cookie: the session changed")

    def serve(environ_of_request: dict) -> None:
        body = app(environ_of_request, start_response)
        for _chunk in body:
            pass
        if hasattr(body, "close"):
            body.close()

    measuring = ctypes.CDLL(job["library"])
    for _ in range(job["warmup"]):
        serve(environ())
    environs = [environ() for _ in range(job["requests"])]
    measuring.measure_start()
    for one in environs:
        serve(one)
    measuring.measure_stop()
    wrong = [status for status in statuses if not status.startswith(str(expected))]
    if wrong:
        raise SystemExit(f"unexpected answers: {wrong[:5]}")


def _login_participant(client, state: dict, base_url: str, referer: dict) -> None:
    link = f"/p/{state['tokens'][0]}"
    csrf = _csrf(client.get(link, base_url=base_url).get_data(as_text=True))
    response = client.post(link, data={"csrf_token": csrf}, base_url=base_url, headers=referer)
    assert response.status_code == 302


def _measure_socket_event_context(app, client, job: dict) -> None:
    from workshop.extensions import socketio

    host = {"Host": "bimtek.example.org"}  # the host the client's cookies belong to
    socket = socketio.test_client(
        app, flask_test_client=client, query_string="EIO=4&transport=websocket", headers=host
    )
    assert socket.is_connected(), "the participant's socket was refused"
    sid = socketio.server.manager.sid_from_eio_sid(socket.eio_sid, "/")
    environ = socketio.server.get_environ(sid)
    environ["PATH_INFO"] = "/socket.io/"  # as a browser's handshake (the test client asks for /socket.io)
    handled: list[str] = []

    def handler(_data) -> None:
        handled.append(sid)

    measuring = ctypes.CDLL(job["library"])
    for _ in range(job["warmup"]):
        socketio._handle_event(handler, "bench", "/", sid, {})
    measuring.measure_start()
    for _ in range(job["requests"]):
        socketio._handle_event(handler, "bench", "/", sid, {})
    measuring.measure_stop()
    if len(handled) != job["warmup"] + job["requests"]:
        raise SystemExit(f"{len(handled)} events handled")


def _measure_live(app, job: dict) -> None:
    """vote-event: a participant's socket that joined the stage votes through Flask-SocketIO's test
    client (decoding, the event's request context, the handler, its vote written by the batcher
    as a batch of one, the ack); a new participant each event. vote-batch: `record_votes` on
    batches of BATCH new votes, in an app context, as the batcher calls it; counted per vote.
    broadcast-tick: BATCH votes written, then one broadcaster tick (`flush`: its reads, the tally,
    the results message encoded and handed to the stage's room of LIVE_SOCKETS sockets, all fake
    but one, whose Engine.IO sends do nothing)."""
    from workshop import clock
    from workshop.db import db
    from workshop.extensions import socketio
    from workshop.live.votes import VoteRequest, record_votes

    state, scenario = job["state"], job["scenario"]
    stage_id, poll = state["stage_id"], state["polls"][0]
    broadcaster = app.extensions["live_broadcaster"]
    broadcaster._soon = lambda: None  # the ticks only when called, as measured
    voters = iter(range(LIVE_PARTICIPANTS))
    measuring = ctypes.CDLL(job["library"])

    def socket_of(voter: int):
        socket = socketio.test_client(
            app,
            headers={"Cookie": state["cookies"][voter], "Host": "bimtek.example.org"},
            query_string="EIO=4&transport=websocket",
        )
        sid = socketio.server.manager.sid_from_eio_sid(socket.eio_sid, "/")
        socketio.server.get_environ(sid)["PATH_INFO"] = "/socket.io/"  # as a browser's handshake
        assert socket.emit("join_stage", {"stage_id": stage_id}, callback=True)["ok"]
        return socket

    def payload(voter: int) -> dict:
        option_ids = poll["option_ids"]
        return {
            "stage_id": stage_id,
            "poll_id": poll["id"],
            "client_id": f"bench-vote-{voter:012d}",
            "answer": {"option_ids": [option_ids[voter % len(option_ids)]]},
        }

    if scenario == "vote-event":
        sockets = [(voter, socket_of(voter)) for voter in range(job["warmup"] + job["requests"])]

        def vote(voter: int, socket) -> None:
            reply = socket.emit("vote", payload(voter), callback=True)
            assert reply.get("ok"), reply

        for voter, socket in sockets[: job["warmup"]]:
            vote(voter, socket)
        measuring.measure_start()
        for voter, socket in sockets[job["warmup"] :]:
            vote(voter, socket)
        measuring.measure_stop()
        return

    from sqlalchemy import text

    with app.app_context():
        voter_rows = db.session.execute(
            text(
                'SELECT registration.id, "user".id, "user".session_epoch FROM registration '
                'JOIN "user" ON "user".person_id = registration.person_id ORDER BY registration.id'
            )
        ).all()
        db.session.rollback()

    def batch() -> list:
        rows = [voter_rows[next(voters)] for _ in range(BATCH)]
        return [
            VoteRequest(
                user_id,
                epoch,
                registration_id,
                stage_id,
                poll["id"],
                f"bench-vote-{registration_id:012d}",
                payload(registration_id)["answer"],
                clock.now(),
            )
            for registration_id, user_id, epoch in rows
        ]

    def write(requests: list) -> None:
        with app.app_context():
            replies = record_votes(db.session, requests, clock.now())
        assert all(reply["ok"] for reply in replies), replies[:3]

    if scenario == "vote-batch":
        batches = [batch() for _ in range(job["warmup"] + job["requests"] // BATCH)]
        for requests in batches[: job["warmup"]]:
            write(requests)
        measuring.measure_start()
        for requests in batches[job["warmup"] :]:
            write(requests)
        measuring.measure_stop()
        return

    moment = [clock.now()]
    clock.set_source(lambda: moment[0])
    socket_of(next(voters))  # the one real socket: the process listens to the stage
    sent = [0]

    def send_nothing(_eio_sid, _packet) -> None:
        sent[0] += 1

    socketio.server._send_eio_packet = send_nothing
    manager = socketio.server.manager
    for fake in range(LIVE_SOCKETS - 1):
        sid = manager.connect(f"fake-{fake}", "/")
        manager.enter_room(sid, "/", f"stage:{stage_id}")
    for _ in range(job["warmup"]):
        write(batch())
        moment[0] += timedelta(seconds=0.3)
        broadcaster.flush()
    rounds = [batch() for _ in range(job["requests"])]
    sent[0] = 0
    measuring.measure_start()
    for requests in rounds:
        measuring.measure_toggle()  # the votes are not counted: vote-batch counts them
        write(requests)
        measuring.measure_toggle()
        moment[0] += timedelta(seconds=0.3)  # the app's tick period (a full recount every 30 s)
        broadcaster.flush()
    measuring.measure_stop()
    if sent[0] < LIVE_SOCKETS * job["requests"]:
        raise SystemExit(f"{sent[0]} messages sent in {job['requests']} ticks")


def _csrf(page: str) -> str:
    found = CSRF_RE.search(page)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", metavar="REV", help="also measure this git revision (e.g. main)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--profile", type=Path, help="keep the callgrind files in this directory")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install -y valgrind)")
    scenarios = args.scenarios.split(",")
    with tempfile.TemporaryDirectory(prefix="bimtek-instructions-") as temporary:
        work = Path(temporary)
        build_library(work)
        states = seed(work, scenarios)
        trees = [("this", ROOT)]
        if args.compare:
            trees.insert(0, (args.compare, export_tree(args.compare, work)))
        results: dict[tuple[str, str], float] = {}
        for scenario in scenarios:
            for label, tree in trees:
                results[label, scenario] = measure(
                    tree, scenario, states[DATABASE_OF[scenario]], args, work, label
                )
                print(
                    f"{label} {scenario}: {results[label, scenario]:.3f} M instructions a request", flush=True
                )
    first = trees[0][0]
    print(f"\n{args.requests} requests after {args.warmup} unmeasured ones; ratio to {first}.\n")
    print("| scenario | " + " | ".join(label for label, _ in trees) + " | ratio |")
    print("| --- | " + " | ".join("---:" for _ in trees) + " | ---: |")
    for scenario in scenarios:
        values = [results[label, scenario] for label, _ in trees]
        print(
            f"| {scenario} | "
            + " | ".join(f"{value:.3f}" for value in values)
            + f" | {values[-1] / values[0]:.3f}x |"
        )


if __name__ == "__main__":
    main()
