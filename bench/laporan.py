"""Benchmark: the laporan kegiatan of the demo programme (about 300 registrations, four stages, its
polls and questions), with 4 photos of 1600 x 1200 pixels per stage, made in the request.

    .venv/bin/python bench/laporan.py [--photos N]

Seeds a temporary SQLite database with `workshop.demo.seed`, adds the photos, then downloads the
whole programme's DOCX and PDF and one stage's, through the app (a logged-in organiser), 3 times
each; prints the median time and the size. The machine is shared: look at the load average.

Baseline, in the same run: the libraries alone writing the same photos (python-docx: a document
with the photos, one a page; reportlab: a canvas with one photo a page), no database, no text, no
charts; each report is given as a ratio to it. No issue sets a target for these reports yet, so
the last lines give the ratios, no PASS or FAIL.
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


def bare_docx(photos: list[bytes]) -> bytes:
    from docx import Document
    from docx.shared import Cm

    document = Document()
    for data in photos:
        document.add_picture(io.BytesIO(data), width=Cm(15))
        document.add_page_break()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def bare_pdf(photos: list[bytes]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    for data in photos:
        canvas.drawImage(ImageReader(io.BytesIO(data)), 50, 300, width=480, height=360)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def median_seconds(make, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        make()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


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
    stage_photos = [photo(index) for index in range(args.photos)]
    bare = {
        ("programme", "docx"): median_seconds(lambda: bare_docx(stage_photos * 4)),
        ("programme", "pdf"): median_seconds(lambda: bare_pdf(stage_photos * 4)),
        ("stage", "docx"): median_seconds(lambda: bare_docx(stage_photos)),
        ("stage", "pdf"): median_seconds(lambda: bare_pdf(stage_photos)),
    }
    ratios = []
    for scope, kind, url in [
        ("programme", "docx", f"/admin/programs/{program_id}/laporan.docx"),
        ("programme", "pdf", f"/admin/programs/{program_id}/laporan.pdf"),
        ("stage", "docx", f"/admin/programs/{program_id}/laporan.docx?tahap={stage_id}"),
        ("stage", "pdf", f"/admin/programs/{program_id}/laporan.pdf?tahap={stage_id}"),
    ]:
        size = 0

        def download(url: str = url) -> None:
            nonlocal size
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            size = len(response.data)

        seconds = median_seconds(download)
        ratio = seconds / bare[scope, kind]
        ratios.append(f"{scope} {kind.upper()} {ratio:.1f}x")
        print(
            f"{'programme' if scope == 'programme' else 'stage I'} {kind.upper()}: median {seconds * 1000:.0f} ms, "
            f"{size / 1024:.0f} KB; the libraries alone with the same photos {bare[scope, kind] * 1000:.0f} ms "
            f"({ratio:.1f}x)"
        )
    print(
        f"No target set (ratio to the libraries alone: {', '.join(ratios)}); load {os.getloadavg()[0]:.1f} after."
    )


if __name__ == "__main__":
    main()
