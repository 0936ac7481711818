"""The bulk run: every valid certificate of a programme as PDF, into one ZIP, with progress.

The view issues the certificates and opens the run (services.start_job), commits, and starts
`run` in the background (a greenlet when serving on gevent; at once otherwise: tests, commands).
The PDFs are drawn in batches in a process of their own (workshop/offload.py), so the scanners and
the live sockets of this process keep their answers coming; after each batch the run's progress
is written in a short transaction of its own, and no transaction stays open while a batch is
drawn. The ZIP is written beside the previous one and takes its place when complete.
"""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path

from flask import Flask
from sqlalchemy import update

from workshop import clock, offload
from workshop.certificates import documents, pdf, services
from workshop.certificates.models import CertificateJob, JobStatus
from workshop.db import db, sqlite_write_intent
from workshop.programs.models import Program

BATCH = 100
log = logging.getLogger(__name__)


def zip_path(app: Flask, program_id: int) -> Path:
    return Path(app.instance_path) / "certificates" / f"program-{program_id}.zip"


def start(app: Flask, job_id: int) -> None:
    from gevent import monkey

    if monkey.is_module_patched("socket"):
        from workshop.extensions import socketio

        socketio.start_background_task(run, app, job_id)
    else:
        run(app, job_id)


def _write(job_id: int, **values) -> None:
    sqlite_write_intent.set(True)
    db.session.execute(update(CertificateJob).where(CertificateJob.id == job_id).values(**values))
    db.session.commit()


def run(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            _run(app, job_id)
        except Exception as error:
            log.exception("certificate run %s failed", job_id)
            db.session.rollback()
            _write(job_id, status=JobStatus.FAILED, error=repr(error)[-2000:], finished_at=clock.now())
        finally:
            db.session.remove()


def _run(app: Flask, job_id: int) -> None:
    sqlite_write_intent.set(False)  # read first, without the write lock
    job = db.session.get(CertificateJob, job_id)
    program = db.session.get(Program, job.program_id)
    settings = services.settings_for(db.session, program)
    template = documents.template(program, settings)
    batch_facts = [
        documents.facts(certificate, settings, app.config)
        for certificate in services.valid_certificates(db.session, program.id)
    ]
    program_id = program.id
    # No transaction stays open while the PDFs are drawn (and no row is read again after this: a
    # read would begin a read transaction that could not write the progress on SQLite).
    db.session.commit()
    target = zip_path(app, program_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{job_id}.part")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            for start_at in range(0, len(batch_facts), BATCH):
                batch = batch_facts[start_at : start_at + BATCH]
                for name, content in offload.off_the_loop(pdf.render_many, template, batch):
                    archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), content)
                _write(job_id, done=start_at + len(batch), total=len(batch_facts))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write(job_id, status=JobStatus.DONE, done=len(batch_facts), finished_at=clock.now())
