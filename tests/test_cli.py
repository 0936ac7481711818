from datetime import timedelta

from sqlalchemy import func, select

from workshop.auth.models import Role, User
from workshop.db import utcnow
from workshop.programs.models import Organization, OrgKind, Program
from workshop.registration.models import Mode, Registration, Status


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


def test_seed_demo_loads_the_taput_bimtek_with_tahap_i_running_now(app, session):
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
    assert sum(statuses.values()) >= 290
    assert statuses[Status.WAITLISTED] > 0
    assert statuses[Status.PENDING] > 0
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
    assert "Staff accounts (username / password):" in result.output


def test_seed_demo_if_empty_leaves_existing_data_alone(app, session):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo"])

    again = runner.invoke(args=["seed-demo", "--if-empty"])

    assert again.output.strip() == "Demo data already present; nothing to do."
    assert session.scalar(select(func.count()).select_from(Program)) == 1
