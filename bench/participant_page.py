"""Benchmark: the participant page and the registration POST against a trivial Flask baseline.

    .venv/bin/python bench/participant_page.py [--requests N] [--rounds R] [--concurrency C] [--nodelay]

1. Makes a temporary SQLite database with `flask db upgrade` and seeds one programme with
   4 stages and 5,000 registrations (mostly approved, each approved person with a participant
   user and a personal link).
2. Starts the real server as the single-machine production mode does (`python app.py`:
   gevent, Flask-SocketIO) and the baseline (bench/baseline_app.py, a Flask "ok" endpoint
   served the same way), each in its own process; and the baseline again under bench/nodelay.py,
   which sets TCP_NODELAY on accepted sockets (with --nodelay, app.py too): gevent's pywsgi
   leaves Nagle's algorithm on and writes headers and body separately, so every response after
   the first on a keep-alive connection waits ~40 ms for the client's delayed ACK.
3. For each round, runs bench/loadgen.py (its own process, C keep-alive virtual users, closed
   loop) against: the baseline GET /, the participant page GET /saya/<slug> (each virtual user
   logged in with a different participant's personal link), and the registration POST
   /daftar/<slug> (a new person with a unique phone number each time; anything but 302 is an
   error).
4. Prints a markdown table of the medians over the rounds (p50/p95/p99, requests/s, errors,
   ratios to the baseline of the same round, server CPU per request, server peak RSS) and
   writes them to bench/results/ (gitignored).

The machine is shared and noisy: compare ratios to the baseline, not absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from common import (
    BENCH,
    PYTHON,
    RESULTS,
    ROOT,
    SECRET_KEY,
    environment,
    load_average,
    make_database,
    median,
    percentile,
    process_memory,
    start_server,
    verdict,
)

SLUG = "bench-smart-city"
REGISTRATIONS = 5_000
TARGET_P95_MS = 50.0  # issue 15 (it was 100 ms)
SCENARIOS = ("baseline", "participant", "register")
TITLES = {
    "baseline": "Baseline: trivial Flask GET /",
    "participant": "Participant page GET /saya/<slug>",
    "register": "Registration POST /daftar/<slug>",
}


# Database


def seed(database_url: str, count: int) -> dict:
    """Seed the programme; return what the load generator needs (tokens, form fields)."""
    os.environ.update(environment(database_url))
    sys.path.insert(0, str(ROOT))
    from workshop import create_app
    from workshop.db import db
    from workshop.programs.models import AgendaItem, Organization, OrgKind, Program, Stage
    from workshop.programs.services import import_regions
    from workshop.registration import links
    from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status
    from workshop.registration.services import ensure_participant_user

    rng = random.Random(5000)
    app = create_app()
    with app.app_context():
        session = db.session
        import_regions(session)
        agencies = [Organization(kind=OrgKind.OPD, name=f"Dinas Uji {n:02d}") for n in range(1, 26)]
        session.add_all(agencies)
        session.flush()
        villages = session.scalars(db.select(Organization).where(Organization.kind == OrgKind.DESA)).all()
        zone = ZoneInfo("Asia/Jakarta")
        program = Program(slug=SLUG, title="Bimtek Masterplan Smart City (benchmark)", organiser="Diskominfo")
        first_day = datetime.now(zone).date() + timedelta(days=7)
        for position in range(1, 5):
            starts = datetime.combine(first_day + timedelta(days=21 * (position - 1)), clock_time(8), zone)
            stage = Stage(
                program=program,
                position=position,
                title=f"Tahap {position}: Penyusunan Masterplan Smart City",
                starts_at=starts,
                ends_at=starts + timedelta(days=1, hours=8),
                venue_name="Aula Martua",
                venue_address="Kantor Bupati, Jl. Letjend. Suprapto No. 1, Tarutung",
                capacity=40,
                meeting_provider="Zoom",
                meeting_url=f"https://zoom.us/j/8120001200{position}",
                meeting_id=f"812 0001 200{position}",
                meeting_passcode=f"taput{position}",
            )
            stage.agenda = [
                AgendaItem(
                    starts_at=starts + timedelta(minutes=90 * n), title=f"Sesi {n + 1}", speaker="Narasumber"
                )
                for n in range(5)
            ]
            session.add(stage)
        session.add(program)
        session.flush()

        registrations = []
        luring_left = 40
        for index in range(count):
            organization = rng.choice(villages) if index % 5 else rng.choice(agencies)
            person = Person(
                name=f"Peserta {index:04d}",
                position="Kepala Desa" if organization.kind == OrgKind.DESA else "Kepala Bidang",
                organization=organization,
                phone=f"+62812{6000_0000 + index:08d}",
                email=f"peserta{index:04d}@contoh.go.id" if index % 3 == 0 else "",
            )
            status = (
                Status.PENDING
                if index % 20 == 7
                else Status.WAITLISTED
                if index % 20 == 13
                else Status.APPROVED
            )
            mode = Mode.LURING if status == Status.APPROVED and luring_left > 0 else Mode.DARING
            luring_left -= mode == Mode.LURING
            registration = Registration(program=program, person=person, status=status, source="bench")
            registration.stage_modes = [RegistrationStage(stage=stage, mode=mode) for stage in program.stages]
            registrations.append(registration)
        session.add_all(registrations)
        session.flush()
        tokens = []
        with session.no_autoflush:  # the people are new: no user exists yet for any of them
            for registration in registrations:
                if registration.status == Status.APPROVED:
                    ensure_participant_user(session, registration.person)
                    tokens.append(links.issue(registration, SECRET_KEY))
        session.commit()
        village = villages[0]
        form = {
            "position": "Kepala Desa",
            "organization": village.label,
            "email": "",
            **{f"mode_{stage.id}": Mode.DARING.value for stage in program.stages},
        }
        rng.shuffle(tokens)
        total = session.scalar(db.select(db.func.count()).select_from(Registration))
    return {"tokens": tokens, "form": form, "registrations": total}


# Load


def run_load(job: dict, server_pid: int) -> dict:
    job = {**job, "server_pid": server_pid}
    completed = subprocess.run(
        [PYTHON, str(BENCH / "loadgen.py")], input=json.dumps(job), capture_output=True, text=True, cwd=ROOT
    )
    after = process_memory(server_pid)
    if completed.returncode != 0:
        raise SystemExit(f"load generator failed:\n{completed.stderr}")
    raw = json.loads(completed.stdout)
    if raw["failures"]:
        raise SystemExit(f"{job['scenario']}: set-up failed: {raw['failures'][:3]}")
    latencies = sorted(raw["latencies"])
    n = len(latencies)
    return {
        "n": n,
        "errors": raw["errors"],
        "p50": percentile(latencies, 50) * 1000,
        "p95": percentile(latencies, 95) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "rps": n / raw["wall"] if raw["wall"] else math.nan,
        "server_cpu_ms": raw["server_cpu"] * 1000 / n if n else math.nan,
        "client_cpu_ms": raw["client_cpu"] * 1000 / n if n else math.nan,
        "rss": after["rss"],
        "hwm": after["hwm"],
    }


def row(title: str, rs: list[dict], base: list[dict] | None) -> str:
    if base is None:
        ratios = "| - | - "
    else:
        p50, p95 = (
            statistics.median(r[key] / b[key] for r, b in zip(rs, base, strict=True))
            for key in ("p50", "p95")
        )
        ratios = f"| {p50:.1f}x | {p95:.1f}x "
    return (
        f"| {title} | {median(rs, 'p50'):.1f} | {median(rs, 'p95'):.1f} | {median(rs, 'p99'):.1f} "
        f"| {median(rs, 'rps'):.0f} | {sum(r['errors'] for r in rs)} of {sum(r['n'] for r in rs)} "
        f"{ratios}| {median(rs, 'server_cpu_ms'):.2f} | {median(rs, 'client_cpu_ms'):.2f} "
        f"| {max(r['hwm'] for r in rs):.0f} |"
    )


def report(results: dict[tuple[str, str], list[dict]], args, meta: dict) -> str:
    rounds = len(results["served", "baseline"])
    lines = [
        f"Run {meta['started']} on {meta['machine']}; {meta['registrations']:,} registrations in SQLite "
        f"({meta['registrations_after']:,} after the run); concurrency {args.concurrency}; "
        f"{args.requests} requests per scenario per round; medians of {rounds} rounds after {args.warmup} unmeasured warm-up round(s). Ratios are medians of "
        "the per-round ratios to the baseline served the same way in the same round.",
        "",
        "| scenario | p50 ms | p95 ms | p99 ms | req/s | errors | p50 / base | p95 / base "
        "| server CPU ms/req | client CPU ms/req | server peak RSS MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (variant, name), rs in results.items():
        title = TITLES[name] + (" (TCP_NODELAY)" if variant == "nodelay" else "")
        base = None if name == "baseline" and variant == "nodelay" else results[variant, "baseline"]
        lines.append(row(title, rs, base))
    lines += ["", "Per round (p50 / p95 ms, req/s):", ""]
    for (variant, name), rs in results.items():
        per_round = "; ".join(f"{r['p50']:.1f} / {r['p95']:.1f}, {r['rps']:.0f}" for r in rs)
        lines.append(f"- {TITLES[name]}{' (TCP_NODELAY)' if variant == 'nodelay' else ''}: {per_round}")
    lines.append("")
    lines.append(f"Load average {meta['load_before']} before, {load_average()} after.")
    for variant in ("served", "nodelay"):
        if (variant, "participant") in results:
            rs, base = results[variant, "participant"], results[variant, "baseline"]
            p95 = median(rs, "p95")
            ratio = statistics.median(r["p95"] / b["p95"] for r, b in zip(rs, base, strict=True))
            lines.append(
                verdict(
                    p95 < TARGET_P95_MS,
                    f"participant page p95 < {TARGET_P95_MS:.0f} ms at concurrency {args.concurrency}"
                    + (" (TCP_NODELAY)" if variant == "nodelay" else ""),
                    f"{p95:.1f} ms, {ratio:.1f}x the baseline's p95",
                )
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600, help="requests per scenario per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first (round 0)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--registrations", type=int, default=REGISTRATIONS)
    parser.add_argument(
        "--nodelay",
        action="store_true",
        help="also run the participant page and registration POST against app.py with TCP_NODELAY",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and server logs")
    args = parser.parse_args()
    if not 0 < args.requests < 100_000:
        parser.error("--requests must be between 1 and 99,999 (phone numbers are drawn from that range)")
    # (variant, scenario) in the order they run in each round; the baseline with TCP_NODELAY is
    # cheap and shows what the server stack costs without the delayed-ACK wait.
    plan = [("served", "baseline"), ("nodelay", "baseline"), ("served", "participant")]
    plan += [("nodelay", "participant")] if args.nodelay else []
    plan += [("served", "register")]
    plan += [("nodelay", "register")] if args.nodelay else []

    workdir = Path(tempfile.mkdtemp(prefix="bimtek-bench-"))
    database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    meta = {
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "load_before": load_average(),
    }
    clock = time.perf_counter()
    make_database(database_url)
    seeded = seed(database_url, args.registrations)
    meta["registrations"] = seeded["registrations"]
    total_rounds = args.rounds + args.warmup
    needed = total_rounds * len(plan) * args.concurrency
    if len(seeded["tokens"]) < needed:
        raise SystemExit(f"only {len(seeded['tokens'])} personal links for {needed} virtual users")
    print(f"Database ready in {time.perf_counter() - clock:.1f} s ({workdir})", file=sys.stderr)

    servers: dict[tuple[str, str], tuple[subprocess.Popen, int]] = {}
    results: dict[tuple[str, str], list[dict]] = {step: [] for step in plan}
    posted = 0
    try:
        for variant, name in plan:
            kind = "baseline" if name == "baseline" else "app"
            if (kind, variant) not in servers:
                script = str(BENCH / "baseline_app.py") if kind == "baseline" else "app.py"
                wrapper = [str(BENCH / "nodelay.py")] if variant == "nodelay" else []
                log = workdir / f"{kind}-{variant}.log"
                # The served baseline uses app.py's own connection handler (TCP_NODELAY), as the app does.
                extra = {"BASELINE_HANDLER": "app"} if kind == "baseline" and variant == "served" else {}
                servers[kind, variant] = start_server([*wrapper, script], database_url, log, "/", **extra)
        for round_index in range(total_rounds):
            warming = round_index < args.warmup  # first templates, caches and connections: not counted
            for step_index, (variant, name) in enumerate(plan):
                server, port = servers["baseline" if name == "baseline" else "app", variant]
                first = (round_index * len(plan) + step_index) * args.concurrency
                job = {
                    "host": "127.0.0.1",
                    "port": port,
                    "concurrency": args.concurrency,
                    "requests": args.requests,
                    "scenario": name,
                    "path": "/",
                    "slug": SLUG,
                    "tokens": seeded["tokens"][first : first + args.concurrency],
                    "form": seeded["form"],
                    "phone_base": 81270000000 + (round_index * len(plan) + step_index) * 100_000,
                }
                result = run_load(job, server.pid)
                if name == "register":
                    posted += result["n"] - result["errors"]  # warm-up rounds write too
                if not warming:
                    results[variant, name].append(result)
                print(
                    f"round {round_index + 1 - args.warmup}/{args.rounds} {variant:<7} {name:<11} "
                    f"p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  "
                    f"{result['rps']:6.0f} req/s  errors {result['errors']}",
                    file=sys.stderr,
                )
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=10)
    with sqlite3.connect(workdir / "bench.sqlite3") as connection:
        (meta["registrations_after"],) = connection.execute("SELECT count(*) FROM registration").fetchone()
    if meta["registrations_after"] != meta["registrations"] + posted:
        print(
            f"WARNING: {meta['registrations_after']} registrations in the database, expected "
            f"{meta['registrations']} + {posted} answered with 302",
            file=sys.stderr,
        )
    text = report(results, args, meta)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    command = " ".join([".venv/bin/python", *sys.argv])
    (RESULTS / f"participant_page-{stamp}.md").write_text(
        f"Command: `{command}`\n\n{text}\n", encoding="utf-8"
    )
    (RESULTS / f"participant_page-{stamp}.json").write_text(
        json.dumps({f"{variant} {name}": rs for (variant, name), rs in results.items()}, indent=1),
        encoding="utf-8",
    )
    print(f"Total {time.perf_counter() - clock:.0f} s; results in {RESULTS}", file=sys.stderr)
    if not args.keep:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
