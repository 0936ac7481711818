"""Benchmark: a village head's phone on Slow 3G, through `python app.py` alone and behind nginx.

    .venv/bin/python bench/slow_phone.py [--runs N] [--tree PATH ...]

For each checkout given with --tree (default: this one; give an older checkout too to compare
before/after in the same run; its static/vendor and compiled catalogs must exist), and for each
way of serving it (`python app.py` alone, and nginx from deploy/ in front of it serving /static):

1. Makes a temporary SQLite database with `flask db upgrade` and seeds one programme whose stage
   runs now, with an open poll (three options, live results), five shown questions and an online
   participant with a personal link (that participant's page then records presence).
2. Drives Debian's Chromium (Playwright) as a phone: 390x844, Slow 3G as the issue measures it
   (400 kbps both ways, 400 ms latency, DevTools network emulation) and a 4x slower CPU.
3. Measures, from the browser's own network events (bytes on the wire, headers included):
   - flow: the whole first visit, empty cache: the link's confirm page, confirming (the personal
     page), then the live page until it is live (socket joined);
   - cold live: the live page alone with an empty cache (logged in): bytes, and the time from
     navigation to the first moment an answer can be chosen (an enabled option on screen);
   - second visit: the personal page and the live page again with the cache of the first visit;
   - the Socket.IO messages the flow received over its WebSocket (not in the bytes above), and
     their size had permessage-deflate compressed them (gevent-websocket does not offer it).
4. Prints a markdown table of the medians over the runs and writes it to bench/results/.

The machine is shared: times vary with its load; compare the rows of one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from common import PYTHON, RESULTS, ROOT, SECRET_KEY, free_port, load_average, verdict

sys.path.insert(0, str(ROOT))
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.network import PHONE_390, Transfer
from tests.browser.test_page_weight import VOTABLE_PROBE

TARGET_FLOW_KB = 100  # issue 13: the whole first visit through app.py alone
TARGET_VOTABLE_S = 3.0  # issue 13: the cold live page votable within this, on Slow 3G

SEED = """
import sys
from datetime import UTC, datetime, timedelta
from tests import factories
from workshop import create_app
from workshop.db import db
from workshop.auth.models import Role
from workshop.live import services as live
from workshop.live.models import PollKind
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

app = create_app()
now = datetime.now(UTC)
with app.app_context():
    session = db.session
    program = factories.program(session, stages=1, title="Bimtek Smart City Tapanuli Utara")
    stage = program.stages[0]
    stage.starts_at = now - timedelta(minutes=10)
    stage.ends_at = now + timedelta(hours=3)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
    ensure_participant_user(session, registration.person)
    token = links.issue(registration, app.config["SECRET_KEY"])
    organiser = factories.staff(session, Role.PANITIA)
    live.update_settings(session, stage, questions_moderated=False, anonymous_allowed=True, actor=organiser)
    for number in range(5):
        asker = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
        live.ask(session, stage, asker, f"Pertanyaan nomor {number + 1}: bagaimana jaringan internet desa "
                 "akan dibangun?", anonymous=False, now=now, per_minute=10)
    poll = live.create_poll(session, stage, live.PollDraft(kind=PollKind.SINGLE,
        question="Layanan mana yang paling dibutuhkan desa Anda?",
        options=["Internet desa", "Aplikasi surat", "CCTV"]), actor=organiser)
    live.open_poll(session, poll, actor=organiser, now=now)
    session.commit()
    print(program.slug, stage.id, token)
"""


def serve(tree: Path, database_url: str, logs: Path, *, behind_nginx: bool):
    """Start the tree's `python app.py` (and nginx in front); returns (base URL, processes)."""
    port = free_port()
    env = {
        **os.environ,
        "FLASK_APP": "workshop",
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "RATELIMIT_ENABLED": "false",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PYTHONUNBUFFERED": "1",
        "PROXY_FIX_HOPS": "1" if behind_nginx else "0",
    }
    env.pop("BIMTEK_ENV", None)  # production cookies are HTTPS-only
    app = subprocess.Popen(
        [PYTHON, "app.py"], cwd=tree, env=env, stdout=(logs / "app.log").open("w"), stderr=subprocess.STDOUT
    )
    processes = [app]
    base = f"http://127.0.0.1:{port}"
    if behind_nginx:
        render = subprocess.run(
            [PYTHON, "-c", RENDER, str(tree), str(logs / "nginx"), str(port)],
            check=True,
            capture_output=True,
            text=True,
        )
        nginx_port = int(render.stdout.strip())
        processes.append(
            subprocess.Popen(
                [
                    "nginx",
                    "-p",
                    f"{logs / 'nginx'}/",
                    "-c",
                    str(logs / "nginx" / "nginx.conf"),
                    "-e",
                    "stderr",
                    "-g",
                    "daemon off;",
                ],
                stdout=(logs / "nginx.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        base = f"http://127.0.0.1:{nginx_port}"
    _wait(base + "/healthz")
    return base, processes


RENDER = """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from deploy import render
from bench.common import free_port
port = free_port()
prefix = Path(sys.argv[2])
prefix.mkdir(parents=True, exist_ok=True)
prefix.chmod(0o755)
render.write_nginx_config(prefix, listen=f"127.0.0.1:{port}", upstreams=[f"127.0.0.1:{sys.argv[3]}"],
                          static_root=Path(sys.argv[1]) / "static")
print(port)
"""


def _wait(url: str) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within 60 s")


def measure(browser, base: str, slug: str, stage_id: int, token: str) -> dict:
    def phone(**options):
        context = browser.new_context(
            base_url=base, locale="id-ID", timezone_id="Asia/Jakarta", **PHONE_390, **options
        )
        page = context.new_page()
        page.add_init_script(VOTABLE_PROBE)
        transfer = Transfer.watch(page)
        transfer.emulate_slow_phone()
        return context, page, transfer

    def until_live(page) -> None:
        page.wait_for_selector("[data-live-status][data-status=live]", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=60_000)

    context, page, transfer = phone()
    page.goto(f"/p/{token}", timeout=60_000)
    page.click("[data-testid=confirm-link]")
    page.wait_for_url(f"**/saya/{slug}", timeout=60_000)
    page.wait_for_load_state("networkidle", timeout=60_000)
    page.goto(f"/live/{stage_id}", timeout=60_000)
    until_live(page)
    flow = transfer.total
    socket = transfer.websocket_messages[:]
    transfer.clear()
    page.goto(f"/saya/{slug}", timeout=60_000)
    page.wait_for_load_state("networkidle", timeout=60_000)
    page.goto(f"/live/{stage_id}", timeout=60_000)
    until_live(page)
    second = transfer.total
    cookies = context.storage_state()
    context.close()

    context, page, transfer = phone(storage_state=cookies)
    page.goto(f"/live/{stage_id}", timeout=60_000)
    page.wait_for_function("window.votableAt !== undefined", timeout=60_000)
    votable = page.evaluate("window.votableAt")
    until_live(page)
    cold_live = transfer.total
    context.close()
    return {
        "flow_kb": flow / 1024,
        "cold_live_kb": cold_live / 1024,
        "votable_s": votable / 1000,
        "second_kb": second / 1024,
        "socket_kb": sum(len(message.encode()) for message in socket) / 1024,
        "socket_deflated_kb": sum(len(deflated(message)) for message in socket) / 1024,
    }


def deflated(message: str) -> bytes:
    """The message as permessage-deflate (RFC 7692) would send it without context takeover, which
    gevent-websocket does not offer: the figure to weigh what its absence costs."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(message.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)[:-4]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tree", type=Path, action="append", help="a checkout to measure (repeat)")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.tree or [ROOT]]

    from playwright.sync_api import sync_playwright

    rows = []
    load_before = load_average()
    with sync_playwright() as playwright:
        arguments = [*CHROMIUM_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=arguments)
        for tree in trees:
            commit = subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=tree, capture_output=True, text=True
            )
            label = f"{tree.name} ({commit.stdout.strip()})" if commit.returncode == 0 else tree.name
            for behind_nginx in (False, True):
                runs = []
                for _ in range(args.runs):
                    with tempfile.TemporaryDirectory(prefix="bench-slow-phone-") as scratch:
                        logs = Path(scratch)
                        database_url = f"sqlite:///{logs / 'bench.sqlite3'}"
                        env = {
                            **os.environ,
                            "FLASK_APP": "workshop",
                            "DATABASE_URL": database_url,
                            "SECRET_KEY": SECRET_KEY,
                        }
                        env.pop("BIMTEK_ENV", None)
                        flask = str(Path(PYTHON).with_name("flask"))
                        subprocess.run(
                            [flask, "db", "upgrade"], cwd=tree, env=env, check=True, capture_output=True
                        )
                        seeded = subprocess.run(
                            [PYTHON, "-c", SEED],
                            cwd=tree,
                            env=env,
                            check=True,
                            capture_output=True,
                            text=True,
                        )
                        slug, stage_id, token = seeded.stdout.split()[-3:]
                        base, processes = serve(tree, database_url, logs, behind_nginx=behind_nginx)
                        try:
                            runs.append(measure(browser, base, slug, int(stage_id), token))
                        finally:
                            for process in reversed(processes):
                                process.terminate()
                                process.wait(timeout=30)
                row = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                row.update(tree=label, serving="nginx + app.py" if behind_nginx else "app.py")
                rows.append(row)
                print(json.dumps(row), flush=True)
        browser.close()

    lines = [
        "| checkout | serving | flow (KB) | cold live page (KB) | votable after (s) | second visit (KB) "
        "| socket messages in the flow (KB; deflated) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['tree']} | {row['serving']} | {row['flow_kb']:.0f} | {row['cold_live_kb']:.0f} | "
            f"{row['votable_s']:.2f} | {row['second_kb']:.0f} | "
            f"{row['socket_kb']:.1f}; {row['socket_deflated_kb']:.1f} |"
        )
    # The baseline of a checkout's app.py row: the same checkout behind nginx (static files from
    # nginx), measured in the same run; the targets hold for app.py alone (issue 13).
    lines += ["", f"Load average {load_before} before, {load_average()} after."]
    for alone, proxied in zip(rows[::2], rows[1::2], strict=True):
        ratio = f"{alone['votable_s'] / proxied['votable_s']:.2f}x behind nginx"
        lines.append(
            verdict(
                alone["flow_kb"] <= TARGET_FLOW_KB,
                f"{alone['tree']}: first visit through app.py alone at most {TARGET_FLOW_KB} KB",
                f"{alone['flow_kb']:.0f} KB, {alone['flow_kb'] / proxied['flow_kb']:.2f}x behind nginx",
            )
        )
        lines.append(
            verdict(
                alone["votable_s"] <= TARGET_VOTABLE_S,
                f"{alone['tree']}: cold live page votable within {TARGET_VOTABLE_S:.0f} s through app.py alone",
                f"{alone['votable_s']:.2f} s, {ratio}",
            )
        )
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"slow_phone-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
