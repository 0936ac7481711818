"""Benchmark: bench/live_poll.py's live poll against 1 to K gunicorn web processes behind nginx.

    .venv/bin/python bench/live_poll_cluster.py [--sizes 1000,2000] [--processes 1,2] [--rounds 1]
                                                [--ramp 200] [--spread 5] [--sources 200] [--keep]

As deployed for more than one process (docs/deploy.md): a throwaway PostgreSQL (tests/postgres.py),
redis-server (Socket.IO message queue db 0, rate-limit storage db 1), K web processes
`gunicorn -c deploy/gunicorn.conf.py 'workshop:create_app()'` (one gevent worker each,
BIMTEK_ENV=production, EMBEDDED_SCHEDULER=0, COOKIE_SECURE=0, PROXY_FIX_HOPS=1, access log off,
rate limits off as in bench/live_poll.py) and nginx in front (deploy/render.py,
`hash $remote_addr consistent`). Both configurations go through nginx, on the same database kind.

Per N: one database seeded with bench/live_poll.py's `seed` (N participants, the signed session
cookies, a poll per run); per run a fresh set of servers, the poll opened, and bench/live_poll.py's
load generator (--loadgen) through nginx, each client's socket from one of --sources loopback
addresses 127.0.0.N (client i from address i mod --sources), so nginx spreads them over the
processes. Server CPU, RSS and run-queue wait are summed over the web processes' gunicorn workers.
After the run: the votes stored (poll_vote rows), the clients per upstream from nginx's access
log, and the CPU of nginx, redis and PostgreSQL over the load generator's whole run.
Prints a markdown table per N (a column per K, medians over the rounds, and the ratios K / 1), PASS or
FAIL for 0 lost votes and for CPU per vote flat in K (at most 1.2x the 1-process figure), and writes
bench/results/live_poll_cluster-<timestamp>.md and .json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from common import (
    PYTHON,
    RESULTS,
    ROOT,
    as_installed,
    environment,
    free_port,
    make_database,
    server_cpu,
    verdict,
)
from live_poll import FIGURES, figure, fmt, open_poll, raise_open_files, seed, summarise

sys.path.insert(0, str(ROOT))
from deploy import render
from tests.postgres import PostgresServer

GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
GUNICORN_CONFIG = str(ROOT / "deploy" / "gunicorn.conf.py")


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def wait_listening(url: str, process: subprocess.Popen | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer 200 within {timeout} s")


def stored_votes(database_url: str, poll_id: int) -> set[int]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text("SELECT registration_id FROM poll_vote WHERE poll_id = :poll"),
                {"poll": poll_id},
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


class Cluster:
    """redis, K gunicorn web processes and nginx for one run (PostgreSQL lives for the whole N)."""

    def __init__(self, database_url: str, processes: int, workdir: Path, broadcast_seconds: str = ""):
        self.broadcast_seconds = broadcast_seconds
        self.database_url = database_url
        self.workdir = workdir
        self.redis_port = free_port()
        self.web_ports = [free_port() for _ in range(processes)]
        self.nginx_port = free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        self.nginx_prefix = Path(tempfile.mkdtemp(prefix="bimtek-nginx-bench-"))
        self.nginx_prefix.chmod(0o755)

    def start(self, name: str, command: list[str], env: dict | None = None) -> subprocess.Popen:
        log = (self.workdir / f"{name}.log").open("w")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def up(self) -> None:
        redis_url = f"redis://127.0.0.1:{self.redis_port}"
        self.start(
            "redis",
            [
                shutil.which("redis-server"),
                *("--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "no", "--dir", str(self.workdir)),
            ],
        )
        for index, port in enumerate(self.web_ports):
            env = environment(
                self.database_url,
                port,
                COOKIE_SECURE="0",
                PROXY_FIX_HOPS="1",
                SOCKETIO_MESSAGE_QUEUE=f"{redis_url}/0",
                RATELIMIT_STORAGE_URI=f"{redis_url}/1",
                EMBEDDED_SCHEDULER="0",
                ACCESS_LOG="",
                **({"LIVE_BROADCAST_SECONDS": self.broadcast_seconds} if self.broadcast_seconds else {}),
            )
            self.start(
                f"web{index + 1}",
                as_installed([GUNICORN, "-c", GUNICORN_CONFIG, "workshop:create_app()"]),
                env,
            )
        render.write_nginx_config(
            self.nginx_prefix,
            listen=f"127.0.0.1:{self.nginx_port}",
            upstreams=[f"127.0.0.1:{port}" for port in self.web_ports],
            balance="hash $remote_addr consistent",
        )
        self.start("nginx", render.nginx_command(self.nginx_prefix, "-g", "daemon off;"))
        for index, port in enumerate(self.web_ports):
            wait_listening(f"http://127.0.0.1:{port}/login", self.processes[f"web{index + 1}"])
        wait_listening(f"http://127.0.0.1:{self.nginx_port}/login", self.processes["nginx"])
        (self.nginx_prefix / "access.log").write_text("")  # only the load generator's requests

    def web_workers(self) -> list[int]:
        return [
            pid
            for index in range(len(self.web_ports))
            for pid in children(self.processes[f"web{index + 1}"].pid)
        ]

    def infra_pids(self) -> dict[str, list[int]]:
        nginx = self.processes["nginx"].pid
        return {"nginx": [nginx, *children(nginx)], "redis": [self.processes["redis"].pid]}

    def upstream_split(self) -> dict[str, int]:
        """Websocket requests per upstream (web1, web2) from nginx's JSON access log."""
        names = {f"127.0.0.1:{port}": f"web{index + 1}" for index, port in enumerate(self.web_ports)}
        counts: dict[str, int] = {}
        for line in (self.nginx_prefix / "access.log").read_text().splitlines():
            entry = json.loads(line)
            upstream = names.get(entry["upstream"].split(",")[-1].strip(), entry["upstream"])
            counts[upstream] = counts.get(upstream, 0) + 1
        return counts

    def down(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(25)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.nginx_prefix, ignore_errors=True)


def postgres_pids(postgres: PostgresServer) -> list[int]:
    head = int((postgres.directory / "data" / "postmaster.pid").read_text().split()[0])
    return [head, *children(head)]


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):  # a PostgreSQL backend that ended
            total += server_cpu(pid)
    return total


def run(
    n: int, processes: int, seeded: dict, poll: dict, database_url: str, postgres, workdir: Path, args
) -> dict:
    cluster = Cluster(
        database_url, processes, workdir / f"k{processes}-{n}-{poll['id']}", args.broadcast_seconds
    )
    cluster.workdir.mkdir()
    try:
        cluster.up()
        sources = [f"127.0.{1 + index // 250}.{1 + index % 250}" for index in range(args.sources)]
        job = {
            "url": f"http://127.0.0.1:{cluster.nginx_port}",
            "server_pids": cluster.web_workers(),
            "stage_id": seeded["stage_id"],
            "poll_id": poll["id"],
            "option_ids": poll["option_ids"],
            "cookies": seeded["cookies"][:n],
            "ramp": args.ramp,
            "spread": args.spread,
            "deflate": False,
            "source_addresses": sources,
        }
        infra = {**cluster.infra_pids(), "postgres": postgres_pids(postgres)}
        before = {name: cpu_of(pids) for name, pids in infra.items()}
        began = time.perf_counter()
        completed = subprocess.run(
            [PYTHON, str(ROOT / "bench" / "live_poll.py"), "--loadgen"],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        wall = time.perf_counter() - began
        infra["postgres"] = postgres_pids(postgres)  # backends come and go: the later set
        infra_cpu = {name: cpu_of(pids) - before[name] for name, pids in infra.items()}
        sys.stderr.write(completed.stderr)
        if completed.returncode != 0:
            raise SystemExit(f"load generator failed ({completed.returncode}); logs in {cluster.workdir}")
        raw = json.loads(completed.stdout)
        split = cluster.upstream_split()
    finally:
        cluster.down()
    registrations = stored_votes(database_url, poll["id"])
    ids = seeded["registration_ids"]
    acked_not_stored = sum(1 for v in raw["votes"] if v["ok"] and ids[v["index"]] not in registrations)
    result = summarise(raw, len(registrations), acked_not_stored)
    result.update(
        upstream_split=split,
        loadgen_wall_s=wall,
        **{f"{name}_cpu_s": value for name, value in infra_cpu.items()},
    )
    return result


EXTRA = [
    ("nginx_cpu_s", "nginx CPU over the whole run (connect + vote), s", "{:.2f}", True),
    ("redis_cpu_s", "redis CPU over the whole run, s", "{:.2f}", True),
    ("postgres_cpu_s", "PostgreSQL CPU over the whole run, s", "{:.2f}", True),
]


FLAT = 1.2  # "per-process CPU per vote stays flat from 1 to 4 processes" (issue 15), within noise


def report(results: dict[int, dict[int, list[dict]]], meta: dict, args) -> str:
    lines = [
        f"Run {meta['started']} on {meta['machine']}; load average {meta['load']} at the start; open-file "
        f"limit {meta['nofile'][0]}; {args.rounds} round(s), medians over them; connect ramp {args.ramp:g}/s; "
        f"votes over {args.spread:g} s; {args.sources} client source addresses; LIVE_BROADCAST_SECONDS "
        f"{args.broadcast_seconds or 'the default'}. Server figures summed over "
        "the web processes; a ratio is the figure with K processes over the figure with 1.",
        "",
    ]
    for n, by_k in results.items():
        counts = sorted(by_k)
        base = by_k.get(1)
        others = [k for k in counts if k != 1] if base else []
        lines += [
            f"### N = {n:,}",
            "",
            "| figure | "
            + " | ".join(f"{k} process{'es' if k > 1 else ''}" for k in counts)
            + "".join(f" | {k} / 1" for k in others)
            + " |",
            "| --- |" + " ---: |" * (len(counts) + len(others)),
        ]
        for key, label, pattern, with_ratio in FIGURES + EXTRA:
            cells = [fmt(figure(by_k[k], key), pattern) for k in counts]
            for k in others:
                one = figure(base, key)
                cells.append(fmt(figure(by_k[k], key) / one, "{:.2f}x") if with_ratio and one else "-")
            lines.append(f"| {label.replace('(sum)', '')} | " + " | ".join(cells) + " |")
        lines.append("")
        for k in counts:
            for index, r in enumerate(by_k[k], 1):
                lines.append(
                    f"- {k} process(es), round {index}: connected {r['connected']}/{r['clients']}; stored "
                    f"{r['stored']}/{r['votes_sent']}; CPU per vote {r['server_cpu_ms_per_vote']:.2f} ms; "
                    f"nginx upstream split {r['upstream_split']}; connect errors {r['connect_errors']}; "
                    f"ack errors {r['error_samples']}; other events {r['unhandled_events']}"
                )
        lines.append("")
        lost = {k: sum(r["lost"] + r["acked_not_stored"] for r in by_k[k]) for k in counts}
        lines.append(
            verdict(
                not any(lost.values()),
                f"N = {n:,}: 0 votes lost",
                ", ".join(f"{k} process(es) {value}" for k, value in lost.items()),
            )
        )
        if base:
            one = figure(base, "server_cpu_ms_per_vote")
            worst = max((figure(by_k[k], "server_cpu_ms_per_vote") / one for k in others), default=1.0)
            lines.append(
                verdict(
                    worst <= FLAT,
                    f"N = {n:,}: CPU per vote flat from 1 to {counts[-1]} processes (at most {FLAT:g}x the "
                    "1-process figure)",
                    ", ".join(f"{figure(by_k[k], 'server_cpu_ms_per_vote'):.2f} ms on {k}" for k in counts)
                    + f"; worst {worst:.2f}x",
                )
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,2000")
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--ramp", type=float, default=200.0)
    parser.add_argument("--spread", type=float, default=5.0)
    parser.add_argument("--sources", type=int, default=200, help="loopback source addresses")
    parser.add_argument(
        "--broadcast-seconds",
        default="",
        help="LIVE_BROADCAST_SECONDS for every process (default: the app's 0.3 s, longer with more sockets "
        "per process); a value above N / K / 8,000 gives every K the same ticks",
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    counts = [int(k) for k in args.processes.split(",")]
    nofile = raise_open_files()
    meta = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "nofile": list(nofile),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
    workdir = Path(tempfile.mkdtemp(prefix="bimtek-live-cluster-"))
    results: dict[int, dict[int, list[dict]]] = {}
    postgres = PostgresServer().start()
    try:
        for n in sizes:
            database_url = postgres.create_database(f"live{n}")
            began = time.perf_counter()
            make_database(database_url)
            seeded = seed(database_url, n, args.rounds * len(counts))
            print(f"N = {n}: database ready in {time.perf_counter() - began:.1f} s", file=sys.stderr)
            polls = iter(seeded["polls"])
            results[n] = {}
            for _ in range(args.rounds):
                for k in counts:
                    poll = next(polls)
                    open_poll(database_url, poll["id"], seeded["organiser_id"])
                    print(f"N = {n}: {k} process(es)", file=sys.stderr)
                    result = run(n, k, seeded, poll, database_url, postgres, workdir, args)
                    results[n].setdefault(k, []).append(result)
                    print(
                        f"  ack p50/p99 {result['ack_p50_ms']:.0f}/{result['ack_p99_ms']:.0f} ms, converged "
                        f"{fmt(result['converge_s'], '{:.2f}')} s, lost {result['lost']}, server CPU "
                        f"{result['server_cpu_pct']:.0f}%, split {result['upstream_split']}",
                        file=sys.stderr,
                    )
    finally:
        postgres.stop()
        text = report(results, meta, args)
        print(text)
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        command = " ".join([".venv/bin/python", *sys.argv])
        (RESULTS / f"live_poll_cluster-{stamp}.md").write_text(f"Command: `{command}`\n\n{text}\n")
        (RESULTS / f"live_poll_cluster-{stamp}.json").write_text(
            json.dumps({"meta": meta, "args": vars(args), "results": results}, indent=1)
        )
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
