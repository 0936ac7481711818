"""Benchmark: the laporan kegiatan of the demo programme (about 300 registrations, four stages, its
polls and questions), with 4 photos of 1600 x 1200 pixels per stage, made in the request.

    .venv/bin/python bench/laporan.py [--photos N]

Seeds a temporary SQLite database with `workshop.demo.seed`, adds the photos, then downloads the
whole programme's DOCX and PDF and one stage's, through the app (a logged-in organiser), 3 times
each; prints the median time and the size. The machine is shared: look at the load average.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from workshop import create_app
from workshop.db import db


def photo(seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.effect_noise((1600, 1200), 60).convert("RGB")
    image.paste((rng.randrange(256), rng.randrange(256), rng.randrange(256)), (200, 200, 1400, 1000))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=4, help="photos per stage")
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="bench-laporan-")
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/bench.db",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            "SCHEDULER_ENABLED": False,
        }
    )
    from workshop import demo
    from workshop.laporan import services
    from workshop.programs.models import Program
    from workshop.registration.models import Registration

    with app.app_context():
        db.create_all()
        passwords = {role: "bench-password" for role in ("admin", "panitia", "narasumber", "petugas")}
        demo.seed(db.session, passwords=passwords, config=app.config)
        program = db.session.query(Program).one()
        for stage in program.stages:
            for index in range(args.photos):
                services.add_photo(
                    db.session, stage, photo(index), f"Foto {index + 1}", actor=None, now=stage.ends_at
                )
        db.session.commit()
        program_id, stage_id = program.id, program.stages[0].id
        registrations = db.session.query(Registration).count()
    client = app.test_client()
    client.post("/login", data={"username": "panitia", "password": "bench-password"})
    print(
        f"{registrations} registrations, 4 stages, {args.photos} photos per stage; load {os.getloadavg()[0]:.1f}"
    )
    for label, url in [
        ("programme DOCX", f"/admin/programs/{program_id}/laporan.docx"),
        ("programme PDF", f"/admin/programs/{program_id}/laporan.pdf"),
        ("stage I DOCX", f"/admin/programs/{program_id}/laporan.docx?tahap={stage_id}"),
        ("stage I PDF", f"/admin/programs/{program_id}/laporan.pdf?tahap={stage_id}"),
    ]:
        times, size = [], 0
        for _ in range(3):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
            size = len(response.data)
        print(f"{label}: median {statistics.median(times) * 1000:.0f} ms, {size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
