import threading

from sqlalchemy import func, select

from tests import factories
from workshop.auth.models import AuditEntry, Role
from workshop.db import db
from workshop.registration import services
from workshop.registration.models import Mode, Notice, Registration, Status

SECRET = "test-secret-key"


def _approve(session, registration, actor=None):
    return services.change_status(session, registration, Status.APPROVED, actor=actor, secret_key=SECRET)


def test_approval_beyond_capacity_goes_to_the_waitlist(session):
    program = factories.program(session, stages=2, capacity=2)
    first, second, third = (factories.registration(session, program) for _ in range(3))

    assert _approve(session, first).status == Status.APPROVED
    assert _approve(session, second).status == Status.APPROVED
    change = _approve(session, third)

    assert change.status == Status.WAITLISTED
    assert [stage.position for stage in change.full_stages] == [1, 2]
    assert third.waitlisted_at is not None
    assert third.link_token_hash is None


def test_online_participants_do_not_use_hall_places(session):
    program = factories.program(session, stages=1, capacity=1)
    factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
    online = factories.registration(session, program, mode=Mode.DARING)

    assert _approve(session, online).status == Status.APPROVED


def test_cancelling_an_approved_place_promotes_the_first_waitlisted(session):
    program = factories.program(session, stages=1, capacity=1)
    actor = factories.staff(session, Role.PANITIA)
    approved = factories.registration(session, program)
    _approve(session, approved, actor)
    later = factories.registration(session, program)
    earlier = factories.registration(session, program)
    services.change_status(session, earlier, Status.WAITLISTED, actor=actor, secret_key=SECRET)
    services.change_status(session, later, Status.WAITLISTED, actor=actor, secret_key=SECRET)

    change = services.change_status(session, approved, Status.CANCELLED, actor=actor, secret_key=SECRET)
    session.commit()

    assert change.promoted == [earlier]
    assert (approved.status, earlier.status, later.status) == (
        Status.CANCELLED,
        Status.APPROVED,
        Status.WAITLISTED,
    )
    assert earlier.link_token_hash is not None
    notices = session.scalars(select(Notice)).all()
    assert [(n.registration_id, n.kind) for n in notices] == [(earlier.id, "promoted_from_waitlist")]
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["registration.status", "registration.promoted"]


def test_promotion_skips_a_waitlisted_person_whose_stages_are_still_full(session):
    program = factories.program(session, stages=2, capacity=1)
    only_stage_two = factories.registration(session, program, mode=Mode.LURING)
    only_stage_two.stage_modes[0].mode = Mode.DARING  # in the hall for Tahap II only
    both = factories.registration(session, program)
    _approve(session, only_stage_two)
    _approve(session, both)  # Tahap II is full -> waitlisted
    assert both.status == Status.WAITLISTED
    stage_one_only = factories.registration(session, program)
    stage_one_only.stage_modes[1].mode = Mode.DARING
    _approve(session, stage_one_only)
    assert stage_one_only.status == Status.APPROVED

    services.change_status(session, stage_one_only, Status.REJECTED, actor=None, secret_key=SECRET)

    assert both.status == Status.WAITLISTED  # Tahap II still full


def test_concurrent_approvals_from_several_threads_never_exceed_capacity(app):
    capacity, candidates, workers = 5, 24, 8
    with app.app_context():
        program = factories.program(db.session, stages=1, capacity=capacity)
        ids = [factories.registration(db.session, program).id for _ in range(candidates)]
        db.session.commit()

    barrier = threading.Barrier(workers, timeout=10)
    errors = []

    def approve_share(share):
        with app.app_context():
            barrier.wait()
            try:
                for registration_id in share:
                    registration = db.session.get(Registration, registration_id)
                    _approve(db.session, registration)
                    db.session.commit()
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve_share, args=(ids[i::workers],)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with app.app_context():
        statuses = db.session.execute(
            select(Registration.status, func.count()).group_by(Registration.status)
        ).all()
        assert dict(statuses) == {Status.APPROVED: capacity, Status.WAITLISTED: candidates - capacity}


def test_bulk_approval_through_the_view_reports_who_went_to_the_waitlist(session, client, login):
    program = factories.program(session, stages=1, capacity=1)
    first = factories.registration(session, program, name="Ani Hutabarat")
    second = factories.registration(session, program, name="Budi Sitompul")
    login(factories.staff(session, Role.PANITIA))
    session.commit()

    response = client.post(
        f"/admin/programs/{program.id}/registrations/status",
        data={"action": "approve", "ids": [first.id, second.id]},
        follow_redirects=True,
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 pendaftaran kini berstatus disetujui." in page
    assert "Budi Sitompul masuk daftar tunggu: tidak ada lagi tempat luring di Tahap I." in page
    session.expire_all()
    assert (first.status, second.status) == (Status.APPROVED, Status.WAITLISTED)


def test_approving_one_person_into_a_full_hall_offers_approval_as_online(session, client, login):
    program = factories.program(session, stages=2, capacity=1)
    factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
    hall_full = factories.registration(session, program, name="Budi Sitompul", mode=Mode.LURING)
    hall_full.stage_modes[1].mode = Mode.DARING  # in the hall for Tahap I only
    organiser = login(factories.staff(session, Role.PANITIA))
    session.commit()

    offered = client.post(
        f"/admin/programs/{program.id}/registrations/status?one={hall_full.id}",
        data={"action": "approve", "next": f"/admin/programs/{program.id}/registrations"},
    )
    page = client.get(offered.location).get_data(as_text=True)
    unchanged = hall_full.status
    approved = client.post(f"/admin/registrations/{hall_full.id}/approve-online")
    after = client.get(approved.location).get_data(as_text=True)

    assert offered.location == f"/admin/registrations/{hall_full.id}"
    assert unchanged == Status.PENDING
    assert "Tidak ada lagi tempat luring: setujui sebagai daring, atau masukkan ke daftar tunggu." in page
    assert "Tidak ada lagi tempat luring di Tahap I: aula sudah penuh." in page
    assert 'data-testid="approve-online">Setujui sebagai daring untuk Tahap I</button>' in page
    assert 'data-testid="approve"' not in page  # no plain "Approve" that would only waitlist
    assert 'data-testid="waitlist"' in page
    session.expire_all()
    assert hall_full.status == Status.APPROVED
    assert [choice.mode for choice in hall_full.stage_modes] == [Mode.DARING, Mode.DARING]
    assert "1 pendaftaran kini berstatus disetujui." in after
    assert 'data-testid="hall-full"' not in after
    assert session.execute(
        select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.detail)
        .where(AuditEntry.subject == f"registration:{hall_full.id}")
        .order_by(AuditEntry.id)
    ).all() == [
        (organiser.id, "registration.mode", f"daring: {program.stages[0].id}"),
        (organiser.id, "registration.status", "pending -> approved"),
    ]


def test_bulk_approval_into_a_full_hall_says_no_one_was_approved_without_a_green_zero(session, client, login):
    program = factories.program(session, stages=1, capacity=1)
    factories.registration(session, program, status=Status.APPROVED)
    waiting = factories.registration(session, program, name="Budi Sitompul")
    login(factories.staff(session, Role.PANITIA))
    session.commit()

    response = client.post(
        f"/admin/programs/{program.id}/registrations/status",
        data={"action": "approve", "ids": [waiting.id]},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "0 pendaftaran" not in page
    assert "flash-success" not in page
    assert "Budi Sitompul masuk daftar tunggu: tidak ada lagi tempat luring di Tahap I." in page


def test_approving_as_online_a_registration_already_approved_changes_nothing(session, client, login):
    program = factories.program(session, stages=1, capacity=1)
    ani = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING, name="Ani")
    login(factories.staff(session, Role.PANITIA))
    session.commit()

    response = client.post(f"/admin/registrations/{ani.id}/approve-online")  # from a page left open

    assert response.status_code == 302
    session.expire_all()
    assert ani.status == Status.APPROVED
    assert [choice.mode for choice in ani.stage_modes] == [Mode.LURING]
    assert (
        session.scalars(select(AuditEntry.action).where(AuditEntry.subject == f"registration:{ani.id}")).all()
        == []
    )
