"""Participants picking the same group at once on PostgreSQL, where the joins really run at the
same time: a cap of N never gives N+1 members."""

from sqlalchemy import func, select

from tests import factories
from tests.test_postgres_concurrency import _run_together, pg_app, postgres  # noqa: F401 (fixtures)
from workshop.db import db
from workshop.groups import services
from workshop.groups.models import GroupMember, GroupMode, GroupOutput, StageGroup
from workshop.groups.services import GroupError
from workshop.programs.models import Stage
from workshop.registration.models import Registration, Status

CAP, CANDIDATES, WORKERS = 3, 16, 8


def test_concurrent_joins_never_exceed_the_cap(pg_app):  # noqa: F811 (the fixture)
    with pg_app.app_context():
        program = factories.program(db.session, stages=1)
        stage = program.stages[0]
        ids = [
            factories.registration(db.session, program, status=Status.APPROVED).id for _ in range(CANDIDATES)
        ]
        services.set_up(
            db.session, stage, dimensions=["economy", "living"], mode=GroupMode.CHOICE, cap=CAP, actor=None
        )
        economy = next(g for g in services.groups_of(db.session, stage.id) if g.dimension == "economy")
        stage_id, group_id, stage_start = stage.id, economy.id, stage.starts_at
        db.session.commit()

    def join(share):
        outcomes = []
        for registration_id in share:
            try:
                services.join(
                    db.session,
                    db.session.get_one(Stage, stage_id),
                    db.session.get_one(Registration, registration_id),
                    group_id,
                    now=stage_start,
                )
                db.session.commit()
                outcomes.append("joined")
            except GroupError as error:
                db.session.rollback()
                outcomes.append(error.code)
        return outcomes

    outcomes = _run_together(pg_app, join, [ids[i::WORKERS] for i in range(WORKERS)])

    assert sorted(outcomes) == ["full"] * (CANDIDATES - CAP) + ["joined"] * CAP
    with pg_app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(GroupMember).where(GroupMember.group_id == group_id)
        )
        assert count == CAP


def test_concurrent_saves_of_one_field_from_one_version_keep_exactly_one(pg_app):  # noqa: F811 (the fixture)
    with pg_app.app_context():
        program = factories.program(db.session, stages=1)
        stage = program.stages[0]
        ids = [factories.registration(db.session, program, status=Status.APPROVED).id for _ in range(WORKERS)]
        services.set_up(
            db.session, stage, dimensions=["economy"], mode=GroupMode.ORGANISER, cap=None, actor=None
        )
        group = services.groups_of(db.session, stage.id)[0]
        services.assign(db.session, stage, dict.fromkeys(ids, group.id), actor=None)
        group_id = group.id
        db.session.commit()

    def save(share):
        outcomes = []
        for registration_id in share:
            try:
                row = services.save_output(
                    db.session,
                    db.session.get_one(StageGroup, group_id),
                    db.session.get_one(Registration, registration_id),
                    field="problems",
                    text=f"Teks {registration_id}",
                    version=0,
                    now=factories.TAHAP_I_START,
                )
                db.session.commit()
                outcomes.append(("saved", row.text))
            except GroupError as error:
                db.session.rollback()
                outcomes.append((error.code, ""))
        return outcomes

    outcomes = _run_together(pg_app, save, [[registration_id] for registration_id in ids])

    saved = [text for code, text in outcomes if code == "saved"]
    assert len(saved) == 1 and [code for code, _ in outcomes].count("changed") == WORKERS - 1
    with pg_app.app_context():
        row = db.session.get_one(GroupOutput, (group_id, "problems"))
        assert (row.text, row.version) == (saved[0], 1)
