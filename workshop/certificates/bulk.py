"""The bulk run: issue what is due, then every valid certificate of the programme as PDF, into
one ZIP, with progress.

The view opens the run (issuing.start_job), commits, and starts `run` in the background (a
greenlet when serving on gevent; at once otherwise: tests, commands). The heavy parts run in a
process of their own (workshop/offload.py), so the scanners and the live sockets served by this
process keep their answers coming:

1. who earned a certificate: every approved participant's attendance at every ended stage, read
   and judged by `standings_apart` (seconds of CPU for 2,000 participants), in a process that
   opens the database itself;
2. the certificates are issued here, in one short write transaction (the numbers: issuing.issue);
3. the PDFs are drawn in batches; each batch's certificates are read in a short read transaction,
   and after each batch the run's progress is written in a short transaction of its own. No
   transaction stays open while a batch is drawn. The ZIP is written beside the previous one and
   takes its place when complete.
"""

from __future__ import annotations

import logging
import os
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, has_app_context
from sqlalchemy import func, select, update

from workshop import clock, offload
from workshop.certificates import documents, issuing, services
from workshop.certificates.models import Certificate, CertificateJob, JobStatus
from workshop.db import db, sqlite_write_intent
from workshop.programs.models import Program

if TYPE_CHECKING:  # reportlab is loaded by the run, not at start-up (documents.py)
    from workshop.certificates import pdf

BATCH = 250
log = logging.getLogger(__name__)


def zip_path(app: Flask, program_id: int) -> Path:
    return Path(app.config["CERTIFICATE_DIR"]) / f"program-{program_id}.zip"


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


def _read_standings(program_id: int, now: datetime) -> list[services.Candidate]:
    sqlite_write_intent.set(False)
    candidates = services.standings(db.session, db.session.get_one(Program, program_id), now=now)
    db.session.commit()
    return candidates


def standings_apart(database_uri: str, program_id: int, now: datetime) -> list[services.Candidate]:
    """The programme's standings as plain values. Here, with the app at hand (tests, commands);
    in the offloaded process, through an app of its own on the same database."""
    if has_app_context():
        return _read_standings(program_id, now)
    from workshop import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri})
    with app.app_context():
        try:
            return _read_standings(program_id, now)
        finally:
            db.session.remove()
            db.engine.dispose()


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


def _issue(job_id: int, program_id: int, candidates: list[services.Candidate], now: datetime) -> int:
    """Issue in one short write transaction; returns how many valid certificates there are now."""
    sqlite_write_intent.set(True)
    job = db.session.get_one(CertificateJob, job_id)
    program = db.session.get_one(Program, program_id)
    actor = job.started_by
    issued = issuing.issue(db.session, program, candidates, actor=actor, now=now)
    total = db.session.execute(
        select(func.count())
        .select_from(Certificate)
        .where(Certificate.program_id == program_id, Certificate.revoked_at.is_(None))
    ).scalar_one()
    job.issued = issued
    job.total = total
    db.session.commit()
    return total


def _batch(program_id: int, after: int, config) -> tuple[list[pdf.Facts], int]:
    """The facts of the next BATCH valid certificates numbered after `after`, in a short read."""
    sqlite_write_intent.set(False)
    program = db.session.get_one(Program, program_id)
    settings = services.settings_for(db.session, program)
    certificates = db.session.scalars(
        select(Certificate)
        .where(
            Certificate.program_id == program_id,
            Certificate.revoked_at.is_(None),
            Certificate.number > after,
        )
        .order_by(Certificate.number)
        .limit(BATCH)
    ).all()
    facts = [documents.facts(certificate, settings, config) for certificate in certificates]
    last = certificates[-1].number if certificates else after
    db.session.commit()
    return facts, last


def _run(app: Flask, job_id: int) -> None:
    from workshop.certificates import pdf

    sqlite_write_intent.set(False)
    job = db.session.get_one(CertificateJob, job_id)
    program_id = job.program_id
    program = db.session.get_one(Program, program_id)
    template = documents.template(program, services.settings_for(db.session, program))
    now = clock.now()
    db.session.commit()  # no transaction stays open while the work is done elsewhere

    candidates = offload.off_the_loop(standings_apart, app.config["SQLALCHEMY_DATABASE_URI"], program_id, now)
    total = _issue(job_id, program_id, candidates, now)

    target = zip_path(app, program_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{job_id}.part")
    done, after = 0, 0
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as archive:
            while True:
                facts, after = _batch(program_id, after, app.config)
                if not facts:
                    break
                for name, content in offload.off_the_loop(pdf.render_many, template, facts):
                    archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), content)
                done += len(facts)
                _write(job_id, done=done)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _write(job_id, status=JobStatus.DONE, done=done, total=max(total, done), finished_at=clock.now())
