from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from workshop.attendance.models import OnlineEvidence, OnlineKind
from workshop.auth.models import Role, User
from workshop.checkin.models import CheckIn
from workshop.db import utcnow
from workshop.live.models import Poll, PollStatus, PollVote, Question
from workshop.programs.models import Organization, OrgKind, Program
from workshop.registration import links
from workshop.registration.models import Mode, Registration, Status
from workshop.reminders.models import Delivery, DeliveryStatus, OutboxMessage


@pytest.fixture(autouse=True)
def _own_instance_folder(app, tmp_path):
    """seed-demo writes instance/demo-accounts.txt: not over the developer's own."""
    app.instance_path = str(tmp_path / "instance")


def test_create_user_makes_a_staff_account_that_can_log_in(app, session, client):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "rina",
            "--name",
            "Rina Situmorang",
            "--role",
            "petugas",
            "--password",
            "pintu-masuk-2",
        ]
    )

    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.username == "rina"))
    assert (user.name, user.role) == ("Rina Situmorang", Role.PETUGAS)
    assert user.password_hash.startswith("scrypt:")
    assert client.post("/login", data={"username": "rina", "password": "pintu-masuk-2"}).status_code == 302


def test_create_user_refuses_a_short_password_and_a_participant_role(app):
    runner = app.test_cli_runner()

    short = runner.invoke(
        args=["create-user", "rina", "--name", "R", "--role", "admin", "--password", "pendek"]
    )
    participant = runner.invoke(
        args=["create-user", "rina", "--name", "R", "--role", "participant", "--password", "cukup-panjang-1"]
    )

    assert short.exit_code == 1
    assert "password must have at least 10 characters" in short.output
    assert participant.exit_code == 2


def test_import_regions_creates_15_kecamatan_and_252_desa_once(app, session):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["import-regions"])
    second = runner.invoke(args=["import-regions"])

    assert first.output.strip() == "Imported 15 new kecamatan and 252 new desa/kelurahan."
    assert second.output.strip() == "Imported 0 new kecamatan and 0 new desa/kelurahan."
    counts = dict(session.execute(select(Organization.kind, func.count()).group_by(Organization.kind)).all())
    assert counts == {OrgKind.KECAMATAN: 15, OrgKind.DESA: 252}
    village = session.scalar(select(Organization).where(Organization.code == "1205030001"))
    assert village.parent.kind == OrgKind.KECAMATAN
    assert (village.name, village.parent.name, village.parent.code) == (
        "Manalu Purba",
        "Parmonangan",
        "1205030",
    )


def test_seed_demo_loads_the_taput_bimtek_with_tahap_i_running_now(app, session, client, monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    program = session.scalar(select(Program))
    assert [stage.number for stage in program.stages] == ["I", "II", "III", "IV"]
    now = utcnow()
    assert program.stages[0].starts_at <= now < program.stages[0].ends_at
    assert all(stage.starts_at > now for stage in program.stages[1:])
    assert program.stages[1].starts_at - program.stages[0].starts_at == timedelta(weeks=3)
    statuses = dict(
        session.execute(select(Registration.status, func.count()).group_by(Registration.status)).all()
    )
    assert statuses == {Status.APPROVED: 295, Status.PENDING: 14, Status.WAITLISTED: 8}
    approved_in_hall = session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.status == Status.APPROVED,
            Registration.stage_modes.any(mode=Mode.LURING, stage_id=program.stages[0].id),
        )
    )
    assert approved_in_hall == program.stages[0].capacity
    assert {u.username for u in session.scalars(select(User).where(User.username.is_not(None)))} == {
        "admin",
        "panitia",
        "narasumber",
        "petugas",
    }
    assert result.output.count("Staff accounts (username / password):") == 1
    # One participant's personal link, printed once: it opens their page.
    (line,) = [line for line in result.output.splitlines() if line.startswith("Participant view: ")]
    assert line.startswith("Participant view: http://127.0.0.1:5000/p/")
    path = line.removeprefix("Participant view: http://127.0.0.1:5000")
    response = client.post(path)
    assert response.status_code == 302
    page = client.get(response.location, follow_redirects=True).get_data(as_text=True)
    registration = links.find(session, path.removeprefix("/p/"))
    assert (registration.person.position, registration.mode_for(program.stages[0])) == (
        "Kepala Desa",
        Mode.DARING,
    )
    assert registration.person.name in page
    assert f"(the personal link of {registration.person.name}, Kepala Desa " in result.output


def test_the_demos_tahap_i_is_a_day_in_progress(app, session):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    program = session.scalar(select(Program))
    tahap_i = program.stages[0]
    approved = session.scalars(select(Registration).where(Registration.status == Status.APPROVED)).all()
    in_hall = [r for r in approved if r.mode_for(tahap_i) == Mode.LURING]
    online = [r for r in approved if r.mode_for(tahap_i) == Mode.DARING]

    # Four in five of the hall checked in, before and just after the opening, at two desks.
    check_ins = session.scalars(select(CheckIn).where(CheckIn.stage_id == tahap_i.id)).all()
    assert len(check_ins) == len(in_hall) * 4 // 5 == 32
    assert {c.desk for c in check_ins} == {"Meja 1", "Meja 2"}
    assert all(tahap_i.starts_at - timedelta(minutes=30) <= c.scanned_at <= utcnow() for c in check_ins)
    # Three in five of the village and sub-district heads followed online.
    presence = session.scalars(
        select(OnlineEvidence).where(
            OnlineEvidence.stage_id == tahap_i.id, OnlineEvidence.kind == OnlineKind.PRESENCE
        )
    ).all()
    assert len(presence) == len(online) * 3 // 5 == 153
    assert all(p.ended_at >= p.started_at for p in presence)
    # A poll answered by three in four of those present, closed; the next one ready as a draft.
    answered, ready = session.scalars(select(Poll).where(Poll.stage_id == tahap_i.id).order_by(Poll.position))
    assert (answered.status, ready.status) == (PollStatus.CLOSED, PollStatus.DRAFT)
    votes = session.scalar(select(func.count()).select_from(PollVote).where(PollVote.poll_id == answered.id))
    assert votes == (32 + 153) * 3 // 4
    # Questions: three answered, one pinned, two waiting for the moderator.
    questions = session.scalars(select(Question).where(Question.stage_id == tahap_i.id)).all()
    assert sorted((q.status.value, q.pinned) for q in questions) == [
        ("answered", False),
        ("answered", False),
        ("answered", False),
        ("approved", True),
        ("pending", False),
        ("pending", False),
    ]
    assert [q.upvotes for q in sorted(questions, key=lambda q: q.id)] == [4, 7, 10, 13, 0, 0]
    # The three default reminders of Tahap I went out at their moments; later stages: nothing yet.
    sent = dict(
        session.execute(
            select(Delivery.channel, func.count())
            .where(Delivery.stage_id == tahap_i.id, Delivery.status == DeliveryStatus.SENT)
            .group_by(Delivery.channel)
        ).all()
    )
    with_email = sum(1 for r in approved if r.person.email)
    assert sent == {"whatsapp": 3 * len(approved), "inapp": 3 * len(approved), "email": 2 * with_email}
    assert (
        session.scalar(select(func.count()).select_from(Delivery).where(Delivery.stage_id != tahap_i.id)) == 0
    )
    assert session.scalar(select(func.max(Delivery.sent_at))) < tahap_i.starts_at
    assert session.scalar(select(func.max(OutboxMessage.created_at))) < tahap_i.starts_at


def test_seed_demo_if_empty_leaves_existing_data_alone_and_prints_the_accounts_once(app, session):
    factories.program(session, stages=1)
    session.commit()
    accounts = "Staff accounts (username / password):\n  admin       rahasia-123\n"
    credentials = Path(app.instance_path) / "demo-accounts.txt"
    credentials.parent.mkdir(parents=True)
    credentials.write_text(accounts)

    again = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])

    assert again.exit_code == 0, again.output
    assert (
        again.output
        == f"Demo data already present.\n{accounts}(The staff accounts are kept in {credentials}.)\n"
    )
    assert session.scalar(select(func.count()).select_from(Program)) == 1
