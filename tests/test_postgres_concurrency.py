"""The concurrency guarantees on PostgreSQL, where writers really run at the same time
(on SQLite, BEGIN IMMEDIATE makes them take turns)."""

import threading
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from tests import factories
from tests.postgres import PostgresServer
from workshop import create_app
from workshop.auth.models import Role
from workshop.checkin import services as checkin
from workshop.checkin.models import CheckIn, ScanAttempt, ScanResult
from workshop.db import db
from workshop.live import services as live
from workshop.live.carry import carry_due
from workshop.live.models import Question
from workshop.programs.models import Stage
from workshop.registration import services as registration
from workshop.registration.models import Registration, Status
from workshop.reminders.models import Delivery, Kind

WORKERS = 8


@pytest.fixture(scope="module")
def postgres():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def pg_app(postgres, request):
    url = postgres.create_database(f"concurrency_{request.node.name[:40].lower()}")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret-key", "TESTING": True})
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


def _run_together(app, work, shares):
    barrier = threading.Barrier(len(shares), timeout=20)
    results, errors = [], []

    def worker(share):
        with app.app_context():
            try:
                barrier.wait()
                results.extend(work(share))
                db.session.commit()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_concurrent_approvals_never_exceed_capacity(pg_app):
    capacity, candidates = 5, 24
    with pg_app.app_context():
        program = factories.program(db.session, stages=2, capacity=capacity)
        ids = [factories.registration(db.session, program).id for _ in range(candidates)]
        db.session.commit()

    def approve(share):
        changes = []
        for registration_id in share:
            found = db.session.get(Registration, registration_id)
            changes.append(
                registration.change_status(
                    db.session, found, Status.APPROVED, actor=None, secret_key="test-secret-key"
                ).status
            )
            db.session.commit()
        return changes

    _run_together(pg_app, approve, [ids[i::WORKERS] for i in range(WORKERS)])

    with pg_app.app_context():
        counts = dict(
            db.session.execute(select(Registration.status, func.count()).group_by(Registration.status)).all()
        )
        assert counts == {Status.APPROVED: capacity, Status.WAITLISTED: candidates - capacity}


def _one_ticket(app):
    """A one-stage programme with one approved ticket: (stage id, ticket secret, stage start)."""
    with app.app_context():
        program = factories.program(db.session, stages=1)
        ticket = factories.registration(db.session, program, status=Status.APPROVED).ticket_secret
        stage = program.stages[0]
        facts = stage.id, ticket, stage.starts_at
        db.session.commit()
    return facts


def _scan(stage_id, ticket, moment, *, desk, nonce):
    outcome = checkin.check_in(
        db.session,
        stage=db.session.get(Stage, stage_id),
        code=ticket,
        desk=desk,
        actor=None,
        client_nonce=nonce,
        secret_key=current_app.config["SECRET_KEY"],
        scanned_at=moment,
        now=moment,
    )
    return [outcome.result]


def test_two_desks_scanning_one_ticket_at_once_check_in_once(pg_app):
    stage_id, ticket, moment = _one_ticket(pg_app)

    results = _run_together(
        pg_app,
        lambda number: _scan(stage_id, ticket, moment, desk=f"Meja {number}", nonce=f"desk-{number}-0001"),
        list(range(WORKERS)),
    )

    assert sorted(results) == [ScanResult.ALREADY_CHECKED_IN] * (WORKERS - 1) + [ScanResult.OK]
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 1
        assert db.session.scalar(select(func.count()).select_from(ScanAttempt)) == WORKERS


def test_the_same_nonce_sent_by_several_threads_at_once_counts_once(pg_app):
    stage_id, ticket, moment = _one_ticket(pg_app)

    results = _run_together(
        pg_app,
        lambda _: _scan(stage_id, ticket, moment, desk="Meja 1", nonce="desk-1-retried"),
        list(range(WORKERS)),
    )

    assert len(results) == WORKERS
    assert len(set(results)) == 1  # every retry gets the one recorded answer
    with pg_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 1
        assert db.session.scalar(select(func.count()).select_from(ScanAttempt)) == 1


def test_questions_carried_by_several_processes_at_once_are_carried_once_and_told_once(pg_app):
    """Each worker is a process's reminder tick (signals.reminders_due): they read the same open
    questions of the ended stage at once; the unique carried_from_id lets one carry them and the
    others roll back their savepoint whole, their notices too."""
    with pg_app.app_context():
        program = factories.program(db.session, stages=2)
        tahap_i, tahap_ii = program.stages
        moderator = factories.staff(db.session, Role.NARASUMBER)
        askers = [factories.registration(db.session, program, status=Status.APPROVED) for _ in range(3)]
        for number, asker in enumerate(askers):
            question = live.ask(
                db.session,
                tahap_i,
                asker,
                f"Pertanyaan {number}",
                anonymous=False,
                now=tahap_i.starts_at,
                per_minute=5,
            )
            live.moderate(
                db.session, tahap_i, question.id, "approve", None, actor=moderator, now=tahap_i.starts_at
            )
        later = tahap_i.ends_at + timedelta(minutes=1)
        tahap_ii_id = tahap_ii.id
        db.session.commit()

    queued = _run_together(pg_app, lambda _: [carry_due(db.session, later)], list(range(WORKERS)))

    with pg_app.app_context():
        carried = db.session.scalars(
            select(Question.text).where(Question.stage_id == tahap_ii_id).order_by(Question.text)
        ).all()
        assert carried == ["Pertanyaan 0", "Pertanyaan 1", "Pertanyaan 2"]
        told = db.session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.kind == Kind.QUESTION_CARRIED)
        )
        assert told == 3 * 2  # three askers, by email and WhatsApp
    assert sorted(queued) == [0] * (WORKERS - 1) + [6]
