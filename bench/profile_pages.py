"""Profile the participant page and the registration POST in-process (Flask test client).

    .venv/bin/python bench/profile_pages.py [--requests N] [--sort cumulative|tottime] [--limit L]

Seeds the same 5,000-registration database as bench/participant_page.py, logs in one
participant, prints the SQL statements of one request of each kind, the mean CPU time per
request without a profiler, and a cProfile listing. Uses pyinstrument instead of cProfile when
it can be imported (it is not a project dependency: `pip install --target /tmp/pyi pyinstrument`
and `PYTHONPATH=/tmp/pyi`), because cProfile's overhead exaggerates many small calls such as
SQLAlchemy attribute loads.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import participant_page as bench

CSRF_RE = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bimtek-profile-"))
    try:
        database_url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        bench.make_database(database_url)
        seeded = bench.seed(database_url, bench.REGISTRATIONS)
        profile(seeded, args)
    finally:
        shutil.rmtree(workdir)


def profile(seeded: dict, args) -> None:
    from sqlalchemy import event

    from workshop import create_app
    from workshop.db import db

    app = create_app()
    statements: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(" ".join(a[2].split())))
    client = app.test_client()
    token = seeded["tokens"][0]
    csrf = CSRF_RE.search(client.get(f"/p/{token}").get_data(as_text=True)).group(1)
    assert client.post(f"/p/{token}", data={"csrf_token": csrf}).status_code == 302
    page = f"/saya/{bench.SLUG}"
    form_path = f"/daftar/{bench.SLUG}"
    form = dict(seeded["form"])
    form["csrf_token"] = CSRF_RE.search(client.get(form_path).get_data(as_text=True)).group(1)
    counter = iter(range(10**6))

    def participant() -> None:
        assert client.get(page).status_code == 200

    def register() -> None:
        seq = next(counter)
        data = {**form, "name": f"Profil {seq}", "phone": f"0{81280000000 + seq}"}
        assert client.post(form_path, data=data).status_code == 302

    for title, request in (("Participant page GET", participant), ("Registration POST", register)):
        request()
        statements.clear()
        request()
        print(f"\n## {title}: {len(statements)} SQL statements")
        for statement in statements:
            print(f"   {statement[:120]}")
        started = time.process_time()
        for _ in range(args.requests):
            request()
        print(
            f"   {(time.process_time() - started) / args.requests * 1000:.2f} ms CPU per request, no profiler"
        )
        run_profiler(request, args)


def run_profiler(request, args) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.requests):
            request()
        profiler.disable()
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.limit)
        return
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.requests):
        request()
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    main()
