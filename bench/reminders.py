"""Benchmark: 10,000 due email reminders through the real SMTP channel and the engine's send loop.

    .venv/bin/python bench/reminders.py [--deliveries 10000] [--rounds 3] [--profile]

1. Makes a temporary SQLite database with `flask db upgrade` and seeds one programme with one
   stage and N approved participants (half in the hall, half online), each with an email
   address and a personal link. The programme gets one reminder rule: email only, 1 day before
   the start, 12-hour window; the stage starts 1 day minus 1 minute from now, so the rule is due.
2. Each round starts a real SMTP server (aiosmtpd, this script with --smtp-server) in its own
   process, deletes the deliveries of the previous round, and then runs what the scheduler runs,
   in this process, on the real clock and the production settings (REMINDER_BATCH_SIZE etc.):
   - expand: workshop.reminders.services.expand_due -> N delivery rows (timed on its own);
   - send: services.tick -> claim 50 at a time, render each message (Indonesian text and HTML,
     the stage's .ics), send it over REMINDER_SENDERS kept SMTP connections at once
     (workshop.reminders.channels.EmailChannel; --senders N to try another number), mark it sent
     with its Message-ID, batch after batch until none is left.
3. Checks that the database holds N sent deliveries (no failure, no retry) and that the SMTP
   server accepted exactly N messages for N distinct recipients.
4. Prints the medians over the rounds (and every round) and writes them to bench/results/
   (gitignored). --profile runs one more round under cProfile and prints the top functions.
5. Baseline, in every round: a bare send loop (one smtplib connection, one prebuilt mail of the
   same mean size, no database) against a fresh server of the same kind; the result is given as a
   ratio to it, and the last line says PASS or FAIL for the target (all sent within 60 s).

The SMTP server and the sender share the machine's 2 cores; the CPU seconds of each are reported.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from common import PYTHON, RESULTS, ROOT, SECRET_KEY, free_port, make_database, server_cpu, verdict

sys.path.insert(0, str(ROOT))  # the workshop package

MAIL_FROM = "Panitia Bimtek <bimtek@tapanuliutarakab.go.id>"
TARGET_SECONDS = 60


# --- The SMTP server, in its own process ---------------------------------------------------------


def smtp_server(port: int) -> None:
    """Accept and count messages until stdin closes, then print the counts as JSON."""
    import asyncio

    from aiosmtpd.controller import Controller

    # --smtp-latency: each of MAIL, RCPT and DATA answers this much later, like a relay far away.
    latency = float(os.environ.get("BENCH_SMTP_LATENCY_MS", "0")) / 1000

    class Counter:
        def __init__(self):
            self.received = 0
            self.size = 0
            self.recipients: set[str] = set()
            self.with_calendar = 0

        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            await asyncio.sleep(latency)
            envelope.mail_from = address
            return "250 OK"

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            await asyncio.sleep(latency)
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            await asyncio.sleep(latency)
            self.received += 1
            self.size += len(envelope.content)
            self.recipients.update(envelope.rcpt_tos)
            if b"Content-Type: text/calendar" in envelope.content:
                self.with_calendar += 1
            return "250 Message accepted for delivery"

    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()
    print(
        json.dumps(
            {
                "received": counter.received,
                "bytes": counter.size,
                "recipients": len(counter.recipients),
                "with_calendar": counter.with_calendar,
            }
        ),
        flush=True,
    )


def start_smtp_server() -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, __file__, "--smtp-server", str(port)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError("the SMTP server did not start")
    return process, port


def stop_smtp_server(process: subprocess.Popen) -> tuple[dict, float]:
    cpu = server_cpu(process.pid)
    process.stdin.close()
    counts = json.loads(process.stdout.readline())
    process.wait(timeout=30)
    return counts, cpu


# --- Seeding -------------------------------------------------------------------------------------


def seed(app, deliveries: int):
    from workshop.db import db, utcnow
    from workshop.programs.models import Organization, OrgKind, Program, Stage
    from workshop.registration import links
    from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status
    from workshop.reminders import services
    from workshop.reminders.models import Audience, ReminderSettings

    session = db.session
    now = utcnow()
    starts = now + timedelta(days=1) - timedelta(minutes=1)
    program = Program(
        slug="bimtek-bench", title="Bimtek Smart City Tapanuli Utara", organiser="Dinas Kominfo"
    )
    stage = Stage(
        position=1,
        title="Penyusunan Masterplan",
        starts_at=starts,
        ends_at=starts + timedelta(days=1, hours=7),
        venue_name="Aula Martua",
        venue_address="Kantor Bupati, Tarutung",
        meeting_provider="Zoom",
        meeting_url="https://zoom.us/j/81200001",
        meeting_id="812 000 1",
        meeting_passcode="tahap1",
    )
    program.stages.append(stage)
    session.add(program)
    kecamatan = Organization(kind=OrgKind.KECAMATAN, name="Tarutung")
    session.add(kecamatan)
    session.flush()
    villages = [Organization(kind=OrgKind.DESA, name=f"Desa {i}", parent=kecamatan) for i in range(50)]
    session.add_all(villages)
    session.flush()
    registrations = []
    for number in range(deliveries):
        person = Person(
            name=f"Peserta Bimtek {number}",
            position="Kepala Desa",
            organization=villages[number % len(villages)],
            phone=f"+62812{number:08d}",
            email=f"peserta{number}@desa.tapanuliutarakab.go.id",
        )
        registration = Registration(program=program, person=person, status=Status.APPROVED)
        registration.stage_modes = [
            RegistrationStage(stage=stage, mode=Mode.DARING if number % 2 else Mode.LURING)
        ]
        registrations.append(registration)
    session.add_all(registrations)
    session.flush()
    for registration in registrations:
        links.issue(registration, SECRET_KEY)
    # Only the benchmark's rule: no default rules (they would add WhatsApp and in-app messages).
    session.add(ReminderSettings(program_id=program.id, created_at=now - timedelta(days=7)))
    services.create_rule(
        session,
        program,
        stage=None,
        offset_minutes=24 * 60,
        window_minutes=12 * 60,
        channels=["email"],
        audience=Audience.ALL,
        actor=None,
        now=now - timedelta(days=7),
    )
    session.commit()


# --- The baseline: a bare SMTP send loop ---------------------------------------------------------


def bare_send_loop(deliveries: int, message_bytes: int) -> dict:
    """The floor under the engine: one smtplib connection sends `deliveries` copies of one mail
    of the engine's mean size, built once with the email package, to as many recipients, against
    a fresh SMTP server of the same kind. No database, no rendering, one connection."""
    import email.policy
    import smtplib
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = MAIL_FROM, "peserta@desa.example", "Pengingat"
    mail.set_content("Pengingat Bimtek Smart City Tapanuli Utara.\n" * max(message_bytes // 45 - 4, 1))
    raw = mail.as_bytes(policy=email.policy.SMTP)  # CRLF line ends
    smtp, port = start_smtp_server()
    try:
        cpu_before = time.process_time()
        started = time.perf_counter()
        connection = smtplib.SMTP("127.0.0.1", port)
        for number in range(deliveries):
            connection.sendmail("bimtek@tapanuliutarakab.go.id", [f"peserta{number}@desa.example"], raw)
        connection.quit()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
    finally:
        counts, smtp_cpu = stop_smtp_server(smtp)
    if counts["received"] != deliveries or counts["recipients"] != deliveries:
        raise RuntimeError(f"the bare loop's SMTP server got {counts}, expected {deliveries} messages")
    return {
        "bare_s": round(seconds, 2),
        "bare_cpu_s": round(cpu, 2),
        "bare_smtp_server_cpu_s": round(smtp_cpu, 2),
    }


# --- One round -----------------------------------------------------------------------------------


def run_round(app, deliveries: int, profile: bool = False) -> dict:
    from sqlalchemy import delete, func, select

    from workshop.db import db, utcnow
    from workshop.reminders import services
    from workshop.reminders.channels import EmailChannel
    from workshop.reminders.models import Delivery, DeliveryStatus, ReminderExpansion

    session = db.session
    session.execute(delete(Delivery))
    session.execute(delete(ReminderExpansion))
    session.commit()
    smtp, port = start_smtp_server()
    app.config["SMTP_PORT"] = port
    profiler = cProfile.Profile() if profile else None
    try:
        cpu_before = time.process_time()
        started = time.perf_counter()
        expanded = services.expand_due(session, utcnow())
        session.commit()
        expanded_at = time.perf_counter()
        if profiler:
            profiler.enable()
        result = services.tick(session, app.config, clock=utcnow)
        if profiler:
            profiler.disable()
        finished = time.perf_counter()
        cpu = time.process_time() - cpu_before
        EmailChannel.close_all()
    finally:
        counts, smtp_cpu = stop_smtp_server(smtp)
    statuses = dict(
        session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).tuples().all()
    )
    session.rollback()
    if expanded != deliveries or statuses != {DeliveryStatus.SENT: deliveries}:
        raise RuntimeError(f"expected {deliveries} sent deliveries, got {expanded} expanded and {statuses}")
    if counts["received"] != deliveries or counts["recipients"] != deliveries:
        raise RuntimeError(f"the SMTP server got {counts}, expected {deliveries} messages")
    if counts["with_calendar"] != deliveries:
        raise RuntimeError(f"only {counts['with_calendar']} messages carried the .ics")
    send_seconds = finished - expanded_at
    total_seconds = finished - started
    row = {
        "deliveries": deliveries,
        "expand_s": round(expanded_at - started, 2),
        "send_s": round(send_seconds, 2),
        "total_s": round(total_seconds, 2),
        "per_second": round(deliveries / total_seconds, 1),
        "send_per_second": round(deliveries / send_seconds, 1),
        "sender_cpu_s": round(cpu, 2),
        "smtp_server_cpu_s": round(smtp_cpu, 2),
        "mean_message_bytes": round(counts["bytes"] / counts["received"]),
        "sent": result.drained.sent,
    }
    row.update(bare_send_loop(deliveries, row["mean_message_bytes"]))
    row["ratio"] = round(total_seconds / row["bare_s"], 2)
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        row["profile"] = out.getvalue()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="one more round under cProfile")
    parser.add_argument("--senders", type=int, default=None, help="REMINDER_SENDERS (default: the setting's)")
    parser.add_argument(
        "--smtp-latency",
        type=float,
        default=0,
        metavar="MS",
        help="delay each SMTP answer (a relay far away)",
    )
    parser.add_argument("--smtp-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smtp_server:
        smtp_server(args.smtp_server)
        return
    os.environ["BENCH_SMTP_LATENCY_MS"] = str(args.smtp_latency)  # the SMTP servers' processes inherit it

    workdir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    try:
        make_database(database_url)
        from workshop import create_app

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "SECRET_KEY": SECRET_KEY,
                "PUBLIC_BASE_URL": "https://bimtek.tapanuliutarakab.go.id",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": 25,
                "SMTP_USE_TLS": False,
                "MAIL_FROM": MAIL_FROM,
                **({"REMINDER_SENDERS": args.senders} if args.senders else {}),
            }
        )
        with app.app_context():
            seeded = time.perf_counter()
            seed(app, args.deliveries)
            print(
                f"seeded {args.deliveries} participants in {time.perf_counter() - seeded:.1f} s", flush=True
            )
            senders = app.config["REMINDER_SENDERS"]
            load_before = f"{os.getloadavg()[0]:.2f}"
            rounds = []
            for number in range(1, args.rounds + 1):
                row = run_round(app, args.deliveries)
                rounds.append(row)
                print(f"round {number}: {json.dumps(row)}", flush=True)
            profile = run_round(app, args.deliveries, profile=True)["profile"] if args.profile else ""
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    keys = [key for key in rounds[0] if key != "sent"]
    medians = {key: statistics.median(row[key] for row in rounds) for key in keys}
    lines = [
        f"{args.deliveries} due email reminders, {args.rounds} rounds (medians), {senders} sender(s), "
        f"SMTP answers delayed {args.smtp_latency:g} ms; "
        f"load average {load_before} before, {os.getloadavg()[0]:.2f} after:",
        "",
        "| deliveries | expand s | send s | total s | deliveries/s | sender CPU s | SMTP server CPU s "
        "| mean message bytes | bare loop s | total / bare |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| {deliveries} | {expand_s} | {send_s} | {total_s} | {per_second} | {sender_cpu_s} | {smtp_server_cpu_s} "
        "| {mean_message_bytes} | {bare_s} | {ratio}x |".format(**{k: medians[k] for k in keys}),
        "",
        "Per round (total s, deliveries/s, bare loop s, ratio): "
        + "; ".join(
            f"{row['total_s']}, {row['per_second']}, {row['bare_s']}, {row['ratio']}x" for row in rounds
        ),
        "Every round: all deliveries sent once, the SMTP server got exactly one mail per recipient, each with its .ics.",
        verdict(
            medians["total_s"] <= TARGET_SECONDS,
            f"all {args.deliveries:,} sent within {TARGET_SECONDS} s",
            f"median {medians['total_s']} s, {medians['ratio']}x the bare send loop of the same rounds",
        ),
    ]
    report = "\n".join(lines)
    print()
    print(report)
    if profile:
        print()
        print(profile)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"reminders-{stamp}.json").write_text(
        json.dumps({"rounds": rounds, "medians": medians}, indent=2)
    )
    (RESULTS / f"reminders-{stamp}.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
