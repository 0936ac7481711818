import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from tests import factories
from workshop.auth.models import AuditEntry, Role
from workshop.checkin import services
from workshop.checkin.models import CheckIn, ScanAttempt, ScanMethod, ScanResult
from workshop.db import db
from workshop.programs.models import Stage
from workshop.registration.models import Mode, RegistrationStage, Status
from workshop.tickets import codes

# Tahap I of the factory programme: Kamis 24 Juni 2021, 09.00 WIB (02.00 UTC) to Jumat 16.00 WIB.
MORNING = datetime(2021, 6, 24, 1, 45, tzinfo=UTC)  # 08.45 WIB


def wib(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A WIB time of June 2021 (any hour, the small hours too), in UTC."""
    return datetime(2021, 6, day, tzinfo=UTC) + timedelta(hours=hour - 7, minutes=minute, seconds=second)


@pytest.fixture
def hall(session):
    program = factories.program(session, stages=2)
    petugas = factories.staff(session, Role.PETUGAS)
    return program, program.stages[0], petugas


def scan(
    session, stage, code, *, desk="Meja 1", actor=None, nonce=None, at=MORNING, method=ScanMethod.CAMERA
):
    return services.check_in(
        session,
        stage=stage,
        code=code,
        desk=desk,
        actor=actor,
        client_nonce=nonce,
        secret_key=current_app.config["SECRET_KEY"],
        scanned_at=at,
        method=method,
        now=at + timedelta(seconds=1),
    )


def test_first_scan_is_green_with_the_person(session, hall):
    program, stage, petugas = hall
    registration = factories.registration(session, program, status=Status.APPROVED, name="Nelson Pardede")

    outcome = scan(session, stage, codes.qr_payload(registration.ticket_secret), actor=petugas)

    assert (outcome.result, outcome.colour) == (ScanResult.OK, "green")
    assert (outcome.ticket.registration_id, outcome.ticket.name) == (registration.id, "Nelson Pardede")
    row = session.scalar(select(CheckIn))
    assert (row.registration_id, row.stage_id, row.scanned_at, row.desk, row.staff_id) == (
        registration.id,
        stage.id,
        MORNING,
        "Meja 1",
        petugas.id,
    )
    assert str(row.day) == "2021-06-24"


def test_second_scan_is_amber_with_the_first_time_and_desk(session, hall):
    program, stage, _ = hall
    registration = factories.registration(session, program, status=Status.APPROVED)
    scan(session, stage, registration.ticket_secret, desk="Meja 2", at=wib(24, 9, 12))

    outcome = scan(session, stage, registration.ticket_code, desk="Meja 1", at=wib(24, 9, 30))

    assert (outcome.result, outcome.colour) == (ScanResult.ALREADY_CHECKED_IN, "amber")
    assert (outcome.check_in.scanned_at, outcome.check_in.desk) == (wib(24, 9, 12), "Meja 2")
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.PENDING, ScanResult.NOT_APPROVED),
        (Status.WAITLISTED, ScanResult.NOT_APPROVED),
        (Status.REJECTED, ScanResult.NOT_APPROVED),
        (Status.CANCELLED, ScanResult.CANCELLED),
    ],
)
def test_tickets_that_are_not_approved_are_red(session, hall, status, expected):
    program, stage, _ = hall
    registration = factories.registration(session, program, status=status)

    outcome = scan(session, stage, registration.ticket_secret)

    assert (outcome.result, outcome.colour) == (expected, "red")
    assert session.scalar(select(CheckIn)) is None


def test_a_ticket_of_another_programme_is_not_registered_for_this_stage(session, hall):
    _, stage, _ = hall
    other = factories.registration(session, factories.program(session, stages=1), status=Status.APPROVED)

    assert scan(session, stage, other.ticket_secret).result == ScanResult.NOT_REGISTERED


def test_unknown_codes_are_red_and_logged(session, hall):
    _, stage, petugas = hall

    outcome = scan(session, stage, "https://example.com/not-a-ticket", actor=petugas, method=ScanMethod.TYPED)

    assert (outcome.result, outcome.ticket) == (ScanResult.UNKNOWN_CODE, None)
    attempt = session.scalar(select(ScanAttempt))
    assert (attempt.result, attempt.code, attempt.method, attempt.staff_id) == (
        ScanResult.UNKNOWN_CODE,
        "http",  # the first characters only: a log of scans is no list of what opens the door
        ScanMethod.TYPED,
        petugas.id,
    )


def test_a_scan_on_a_day_after_the_stage_is_refused(session, hall):
    program, stage, _ = hall
    registration = factories.registration(session, program, status=Status.APPROVED)

    assert scan(session, stage, registration.ticket_secret, at=wib(26, 9)).result == ScanResult.STAGE_ENDED


@pytest.mark.parametrize(
    ("scanned_at", "result", "colour"),
    [
        (wib(24, 6, 59, 59), ScanResult.STAGE_NOT_STARTED, "amber"),  # check-in opens 07.00 for 09.00
        (wib(23, 20), ScanResult.STAGE_NOT_STARTED, "amber"),  # the evening before the stage
        (wib(25, 1), ScanResult.TOO_EARLY, "amber"),  # eight hours before day 2
        (wib(24, 16), ScanResult.DAY_ENDED, "red"),
        (wib(24, 23, 30), ScanResult.DAY_ENDED, "red"),
        (wib(25, 16), ScanResult.STAGE_ENDED, "red"),  # the end of the last day
        (wib(26, 9), ScanResult.STAGE_ENDED, "red"),
    ],
)
def test_a_scan_outside_the_check_in_window_is_refused_with_its_reason_and_credits_nothing(
    session, hall, scanned_at, result, colour
):
    program, stage, _ = hall
    registration = factories.registration(session, program, status=Status.APPROVED)

    outcome = scan(session, stage, registration.ticket_secret, at=scanned_at)

    assert (outcome.result, outcome.colour, outcome.check_in) == (result, colour, None)
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 0
    assert session.scalar(select(ScanAttempt.result)) == result


def test_the_window_runs_from_its_opening_to_just_before_the_end_of_the_day(session, hall):
    program, stage, _ = hall
    opening, closing = (factories.registration(session, program, status=Status.APPROVED) for _ in range(2))

    first = scan(session, stage, opening.ticket_secret, at=wib(24, 7))
    last = scan(session, stage, closing.ticket_secret, at=wib(25, 15, 59, 59))

    assert (first.result, str(first.check_in.day)) == (ScanResult.OK, "2021-06-24")
    assert (last.result, str(last.check_in.day)) == (ScanResult.OK, "2021-06-25")


def test_the_opening_is_set_per_stage(session, hall):
    program, stage, _ = hall
    stage.check_in_opens_before_minutes = 30
    registration = factories.registration(session, program, status=Status.APPROVED)

    before = scan(session, stage, registration.ticket_secret, at=wib(24, 8, 29)).result
    assert before == ScanResult.STAGE_NOT_STARTED
    assert scan(session, stage, registration.ticket_secret, at=wib(24, 8, 30)).result == ScanResult.OK


def test_a_check_in_opening_the_evening_before_counts_for_the_stage_day(session, hall):
    program, stage, _ = hall
    stage.starts_at, stage.ends_at = wib(24, 1), wib(24, 6)  # 01.00-06.00 WIB: opens 23.00 the day before
    registration = factories.registration(session, program, status=Status.APPROVED)

    outcome = scan(session, stage, registration.ticket_secret, at=wib(23, 23, 30))

    assert (outcome.result, str(outcome.check_in.day)) == (ScanResult.OK, "2021-06-24")


def test_each_day_of_a_stage_has_its_own_check_in(session, hall):
    program, stage, _ = hall
    registration = factories.registration(session, program, status=Status.APPROVED)

    first = scan(session, stage, registration.ticket_secret, at=wib(24, 8, 50))
    second = scan(session, stage, registration.ticket_secret, at=wib(25, 8, 40))

    assert (first.result, second.result) == (ScanResult.OK, ScanResult.OK)
    assert [str(c.day) for c in session.scalars(select(CheckIn).order_by(CheckIn.day))] == [
        "2021-06-24",
        "2021-06-25",
    ]


def test_a_stage_given_by_its_id_is_read_with_the_ticket(session, hall):
    program, stage, _ = hall
    registration = factories.registration(session, program, status=Status.APPROVED)
    first = scan(session, stage.id, registration.ticket_code, at=wib(24, 8, 45))
    second_day = scan(session, stage.id, registration.ticket_code, at=wib(25, 8, 45))
    again = scan(session, stage.id, registration.ticket_code, at=wib(25, 9))

    assert [outcome.result for outcome in (first, second_day, again)] == [
        ScanResult.OK,
        ScanResult.OK,
        ScanResult.ALREADY_CHECKED_IN,
    ]
    assert (again.first.day, again.first.scanned_at) == (date(2021, 6, 25), wib(25, 8, 45))
    assert (again.stage.id, again.stage.program_id, again.stage.program.timezone) == (
        stage.id,
        program.id,
        "Asia/Jakarta",
    )
    with pytest.raises(services.CheckInError) as refused:
        scan(session, 9999, registration.ticket_code)
    assert refused.value.code == "unknown_stage"
    assert session.scalar(select(func.count()).select_from(ScanAttempt)) == 3


def test_an_online_participant_in_the_hall_is_admitted_and_the_mode_recorded(session, hall):
    program, stage, petugas = hall
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)

    outcome = scan(session, stage, registration.ticket_secret, actor=petugas)

    assert (outcome.result, outcome.colour) == (ScanResult.OK_MODE_CHANGED, "green")
    assert [registration.mode_for(s) for s in program.stages] == [Mode.LURING, Mode.DARING]
    stored = select(RegistrationStage.mode).where(RegistrationStage.registration_id == registration.id)
    assert session.scalars(stored.order_by(RegistrationStage.stage_id)).all() == [Mode.LURING, Mode.DARING]
    assert session.execute(select(AuditEntry.action, AuditEntry.subject, AuditEntry.detail)).all() == [
        ("checkin.mode_changed", f"registration:{registration.id}", f"stage:{stage.id} daring -> luring")
    ]


def test_the_same_nonce_twice_counts_once_and_answers_the_same(session, hall):
    program, stage, _ = hall
    registration = factories.registration(session, program, status=Status.APPROVED)

    first = scan(session, stage, registration.ticket_secret, nonce="desk1-0001")
    retry = scan(
        session, stage, registration.ticket_secret, nonce="desk1-0001", at=MORNING + timedelta(minutes=3)
    )

    assert (first.result, retry.result) == (ScanResult.OK, ScanResult.OK)
    assert retry.attempt.id == first.attempt.id
    assert session.scalar(select(func.count()).select_from(ScanAttempt)) == 1
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 1


def test_two_desks_scanning_one_ticket_at_the_same_moment_check_in_once(app):
    desks = 6
    with app.app_context():
        program = factories.program(db.session, stages=1)
        registration = factories.registration(db.session, program, status=Status.APPROVED)
        stage_id, secret = program.stages[0].id, registration.ticket_secret
        db.session.commit()

    barrier = threading.Barrier(desks, timeout=10)
    results, errors = [], []

    def desk(number):
        with app.app_context():
            try:
                stage = db.session.get(Stage, stage_id)
                db.session.commit()  # end the read before waiting: SQLite writers queue on BEGIN IMMEDIATE
                barrier.wait()
                outcome = scan(db.session, stage, secret, desk=f"Meja {number}", nonce=f"desk{number}-1")
                db.session.commit()
                results.append(outcome.result)
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(desks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(results) == [ScanResult.ALREADY_CHECKED_IN] * (desks - 1) + [ScanResult.OK]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CheckIn)) == 1
        assert db.session.scalar(select(func.count()).select_from(ScanAttempt)) == desks


def test_an_offline_batch_out_of_order_keeps_the_earliest_scan_once(session, hall):
    program, stage, _ = hall
    people = [factories.registration(session, program, status=Status.APPROVED) for _ in range(2)]
    batch = [  # as an offline desk uploads its queue: not in time order, one retried
        (people[0], wib(24, 9, 5), "q-3"),
        (people[0], wib(24, 8, 55), "q-1"),
        (people[1], wib(24, 9, 1), "q-2"),
        (people[0], wib(24, 9, 5), "q-3"),
    ]

    results = [scan(session, stage, p.ticket_secret, nonce=n, at=t).result for p, t, n in batch]

    assert results == [ScanResult.OK, ScanResult.EARLIER_SCAN_KEPT, ScanResult.OK, ScanResult.OK]
    rows = {row.registration_id: row.scanned_at for row in session.scalars(select(CheckIn))}
    assert rows == {people[0].id: wib(24, 8, 55), people[1].id: wib(24, 9, 1)}
    assert session.scalar(select(func.count()).select_from(ScanAttempt)) == 3


def test_an_earlier_offline_scan_moves_the_check_in_back_and_records_what_it_replaced(session, hall):
    program, stage, _ = hall
    registration = factories.registration(session, program, status=Status.APPROVED)
    scan(session, stage, registration.ticket_secret, desk="Meja 2", at=wib(24, 9, 10))

    outcome = scan(session, stage, registration.ticket_code, desk="Meja 3 (luring)", at=wib(24, 8, 50))

    assert (outcome.result, outcome.colour) == (ScanResult.EARLIER_SCAN_KEPT, "amber")
    assert (outcome.check_in.scanned_at, outcome.check_in.desk) == (wib(24, 8, 50), "Meja 3 (luring)")
    assert (outcome.attempt.replaced_scanned_at, outcome.attempt.replaced_desk) == (wib(24, 9, 10), "Meja 2")
    later = scan(session, stage, registration.ticket_code, desk="Meja 1", at=wib(24, 9, 30))
    assert (later.result, later.attempt.replaced_scanned_at) == (ScanResult.ALREADY_CHECKED_IN, None)


def test_undo_within_five_minutes_then_the_ticket_scans_green_again(session, hall):
    program, stage, petugas = hall
    registration = factories.registration(session, program, status=Status.APPROVED)
    outcome = scan(session, stage, registration.ticket_secret, at=wib(24, 9))

    services.undo_check_in(session, outcome.check_in, actor=petugas, now=wib(24, 9, 4))
    again = scan(session, stage, registration.ticket_secret, at=wib(24, 9, 10))

    assert again.result == ScanResult.OK
    assert again.check_in.scanned_at == wib(24, 9, 10)
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 1


def test_undo_after_five_minutes_is_refused(session, hall):
    program, stage, petugas = hall
    registration = factories.registration(session, program, status=Status.APPROVED)
    outcome = scan(session, stage, registration.ticket_secret, at=wib(24, 9))

    with pytest.raises(services.CheckInError, match="undo_too_late"):
        services.undo_check_in(session, outcome.check_in, actor=petugas, now=wib(24, 9, 7))
    assert outcome.check_in.undone_at is None


def test_a_nonce_reused_for_another_ticket_is_refused(session, hall):
    program, stage, _ = hall
    first, other = (factories.registration(session, program, status=Status.APPROVED) for _ in range(2))
    scan(session, stage, first.ticket_secret, nonce="desk1-0007")

    with pytest.raises(services.CheckInError, match="nonce_reused"):
        scan(session, stage, other.ticket_secret, nonce="desk1-0007")
    assert session.scalar(select(func.count()).select_from(CheckIn)) == 1
