"""Tahap I as a day in progress, each feature's part of it: the hall check-ins, online presence,
a poll answered and closed, questions asked and answered, and the reminders that went out before."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from workshop.attendance.models import OnlineEvidence, OnlineKind
from workshop.auth.models import User
from workshop.checkin import services as checkin_services
from workshop.checkin.models import ScanMethod
from workshop.db import Session
from workshop.demo.names import DEMO_QUESTIONS
from workshop.live import services as live_services
from workshop.live import votes as live_votes
from workshop.live.models import PollKind
from workshop.programs.models import Program, Stage
from workshop.registration.models import Mode, Notice, Registration, Status
from workshop.reminders import services as reminders
from workshop.reminders.models import OutboxMessage
from workshop.tickets import codes

DEMO_MORNING = timedelta(hours=4)  # how much of Tahap I the demo has lived through, at most


def day_in_progress(
    session: Session, stage: Stage, *, now: datetime, rng: random.Random, secret_key: str
) -> None:
    """Tahap I from its first morning to now (at most the first four hours): check-ins, online
    presence, a poll answered and closed, a second poll ready, questions asked and answered."""
    staff = {user.username: user for user in session.scalars(select(User).where(User.username.is_not(None)))}
    start = stage.starts_at
    span = min(now - start, DEMO_MORNING)

    def at(fraction: float) -> datetime:
        return start + span * fraction

    approved = session.scalars(
        select(Registration)
        .where(Registration.program_id == stage.program_id, Registration.status == Status.APPROVED)
        .order_by(Registration.id)
    ).all()
    hall = [r for r in approved if r.mode_for(stage) == Mode.LURING]
    online = [r for r in approved if r.mode_for(stage) == Mode.DARING]
    arrived = _hall_check_ins(
        session,
        stage,
        hall[: len(hall) * 4 // 5],
        first=start - timedelta(minutes=30),
        last=at(0.3),
        petugas=staff["petugas"],
        secret_key=secret_key,
    )
    following = _online_presence(
        session, stage, rng.sample(online, len(online) * 3 // 5), at=at, now=now, rng=rng
    )
    narasumber = staff["narasumber"]
    _answered_poll(
        session, stage, arrived + following, opened=at(0.45), closed=at(0.6), actor=narasumber, rng=rng
    )
    live_services.create_poll(
        session,
        stage,
        live_services.PollDraft(
            kind=PollKind.WORDCLOUD,
            question="Satu kata: apa yang paling dibutuhkan desa Anda dari smart city?",
        ),
        actor=narasumber,
    )
    _questions(
        session, stage, arrived + following, asked=at(0.25), answered=at(0.7), actor=narasumber, rng=rng
    )


def reminders_sent(session: Session, program: Program, config: Mapping, start: datetime) -> None:
    """The default reminders of Tahap I, sent at their moments (3 days, 1 day and 1 hour before)
    by the real engine, to the dev outbox and in-app notices whatever SMTP or gateway is set."""
    outbox_only = {**config, "SMTP_HOST": "", "WHATSAPP_API_URL": ""}
    reminders.ensure_default_rules(session, program, start - timedelta(days=7))
    for offset in (timedelta(days=3), timedelta(days=1), timedelta(hours=1)):
        moment = start - offset + timedelta(minutes=1)
        last_outbox = session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
        last_notice = session.scalar(select(func.coalesce(func.max(Notice.id), 0)))
        reminders.tick(session, outbox_only, clock=_stopped_at(moment))
        # The outbox and the notices stamp their rows with the wall clock: give them the send time.
        session.execute(update(OutboxMessage).where(OutboxMessage.id > last_outbox).values(created_at=moment))
        session.execute(update(Notice).where(Notice.id > last_notice).values(created_at=moment))
        session.commit()


def _hall_check_ins(
    session: Session,
    stage: Stage,
    people: list[Registration],
    *,
    first: datetime,
    last: datetime,
    petugas: User,
    secret_key: str,
) -> list[Registration]:
    """Scanned at two desks, one after the other between `first` and `last`."""
    step = (last - first) / max(1, len(people))
    for index, registration in enumerate(people):
        scanned_at = first + step * index
        checkin_services.check_in(
            session,
            stage=stage,
            code=codes.qr_payload(registration.ticket_secret_with(secret_key)),
            desk=f"Meja {index % 2 + 1}",
            actor=petugas,
            client_nonce=f"demo-{registration.id}",
            secret_key=secret_key,
            scanned_at=scanned_at,
            method=ScanMethod.CAMERA,
            now=scanned_at,
        )
    session.flush()
    return people


def _online_presence(
    session: Session, stage: Stage, people: list[Registration], *, at, now: datetime, rng: random.Random
) -> list[Registration]:
    """A join-link click, then live presence on the participant page until they left (or now)."""
    for registration in people:
        joined = at(rng.uniform(0, 0.25)) - timedelta(minutes=10)
        left = now if rng.random() < 0.7 else max(joined, at(rng.uniform(0.5, 1)))
        for kind, started, ended in (
            (OnlineKind.JOIN_CLICK, joined, joined),
            (OnlineKind.PRESENCE, joined, left),
        ):
            session.add(
                OnlineEvidence(
                    registration_id=registration.id,
                    stage_id=stage.id,
                    kind=kind,
                    started_at=started,
                    ended_at=ended,
                    source="join_link" if kind == OnlineKind.JOIN_CLICK else "presence",
                    recorded_at=ended,
                )
            )
    session.flush()
    return people


def _answered_poll(
    session: Session,
    stage: Stage,
    present: list[Registration],
    *,
    opened: datetime,
    closed: datetime,
    actor: User,
    rng: random.Random,
) -> None:
    poll = live_services.create_poll(
        session,
        stage,
        live_services.PollDraft(
            kind=PollKind.SINGLE,
            question="Apakah kantor Anda sudah terhubung internet yang stabil?",
            options=["Ya, stabil", "Ada, tetapi sering putus", "Belum ada"],
        ),
        actor=actor,
    )
    live_services.open_poll(session, poll, actor=actor, now=opened)
    session.commit()
    users = {
        user.person_id: user for user in session.scalars(select(User).where(User.person_id.is_not(None)))
    }
    options = [option.id for option in poll.options]
    voters = rng.sample(present, len(present) * 3 // 4)
    requests = [
        live_votes.VoteRequest(
            user_id=users[registration.person_id].id,
            session_epoch=users[registration.person_id].session_epoch,
            registration_id=registration.id,
            stage_id=stage.id,
            poll_id=poll.id,
            client_id=f"demo-{registration.id}",
            answer={"option_ids": rng.choices(options, weights=(35, 50, 15))},
            received_at=opened + (closed - opened) * index / max(1, len(voters)),
        )
        for index, registration in enumerate(voters)
    ]
    live_votes.record_votes(session, requests, now=closed)
    live_services.close_poll(session, poll, actor=actor, now=closed)


def _questions(
    session: Session,
    stage: Stage,
    present: list[Registration],
    *,
    asked: datetime,
    answered: datetime,
    actor: User,
    rng: random.Random,
) -> None:
    """Six questions from the hall and online: three answered, one pinned, two waiting for moderation."""
    askers = rng.sample(present, len(DEMO_QUESTIONS))
    questions = [
        live_services.ask(
            session,
            stage,
            registration,
            text,
            anonymous=False,
            now=asked + timedelta(minutes=7 * index),
            per_minute=3,
        )
        for index, (registration, text) in enumerate(zip(askers, DEMO_QUESTIONS, strict=True))
    ]
    for index, question in enumerate(questions[:4]):
        live_services.moderate(session, stage, question.id, "approve", "", actor=actor, now=answered)
        for voter in rng.sample(present, 4 + 3 * index):
            if voter.id != question.registration_id:
                live_services.upvote(session, stage, voter, question.id, now=answered)
    for question in questions[:3]:
        live_services.moderate(session, stage, question.id, "answered", "", actor=actor, now=answered)
    live_services.moderate(session, stage, questions[3].id, "pin", "", actor=actor, now=answered)
    session.flush()


def _stopped_at(moment: datetime) -> Callable[[], datetime]:
    """A clock that always reads `moment`."""
    return lambda: moment
