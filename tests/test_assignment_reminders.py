"""An assignment's deadline reminders (H-3, H-1) go, through the reminder engine's tick, to the
contact persons of the organisations that have not handed it in: once each, never after the
deadline, and after a scheduler outage only the nearer one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests import test_assignments, test_reminders_engine
from tests.test_assignments import DEADLINE, _assignment, handed_in_by_kominfo
from tests.test_reminders_engine import SETTINGS, Clock
from workshop.assignments import reminders
from workshop.assignments.models import AssignmentReminder
from workshop.reminders import services
from workshop.reminders.models import Delivery, DeliveryStatus, Kind

world = test_assignments.world
files_dir = test_assignments.files_dir
fakes = test_reminders_engine.fakes  # the engine tests' recording channels
H3 = DEADLINE - timedelta(days=3)  # Rabu, 7 Juli 2021, pukul 23.59 WIB
H1 = DEADLINE - timedelta(days=1)


def _tick(session, app, fakes, now):
    return services.tick(session, app.config, clock=Clock(now), channels=fakes.__getitem__, settings=SETTINGS)


def _reminded(session) -> list[tuple[str, str, DeliveryStatus]]:
    rows = session.execute(
        select(Delivery.registration_id, Delivery.channel, Delivery.status)
        .where(Delivery.kind == Kind.ASSIGNMENT)
        .order_by(Delivery.id, Delivery.registration_id, Delivery.channel)
    ).all()
    return [tuple(row) for row in rows]


def test_h3_and_h1_go_once_each_to_the_organisations_that_have_not_handed_in(
    app, session, world, fakes, set_now
):
    set_now(H3 - timedelta(days=1))
    handed_in_by_kominfo(app, session, world)
    sari = world["bappeda_1"].id

    _tick(session, app, fakes, H3 - timedelta(minutes=1))
    assert _reminded(session) == []
    _tick(session, app, fakes, H3)
    assert sorted(_reminded(session)) == [
        (sari, "email", DeliveryStatus.SENT),
        (sari, "whatsapp", DeliveryStatus.SENT),
    ]
    [mail] = [m for m in fakes["email"].sent if m.subject.startswith("Tugas instansi Anda")]
    assert mail.to == world["bappeda_1"].person.email
    assert (
        'Bappeda belum mengumpulkan "Analisis kondisi saat ini". Batas waktunya Sabtu, 10 Juli 2021, '
        "pukul 23.59 WIB, 3 hari lagi."
    ) in mail.text
    _tick(session, app, fakes, H3 + timedelta(minutes=5))
    _tick(session, app, fakes, H1 - timedelta(minutes=1))
    assert len(_reminded(session)) == 2  # nothing more until H-1

    _tick(session, app, fakes, H1)
    assert len(_reminded(session)) == 4
    [_, second] = [m for m in fakes["email"].sent if m.subject.startswith("Tugas instansi Anda")]
    assert "1 hari lagi." in second.text
    _tick(session, app, fakes, H1 + timedelta(hours=1))
    _tick(session, app, fakes, DEADLINE + timedelta(minutes=1))
    assert len(_reminded(session)) == 4
    assert session.execute(
        select(AssignmentReminder.offset_days, AssignmentReminder.sent).order_by(
            AssignmentReminder.offset_days
        )
    ).all() == [(1, True), (3, True)]


def test_after_an_outage_only_the_nearer_reminder_goes_and_none_after_the_deadline(
    app, session, world, fakes, set_now
):
    set_now(H3 - timedelta(days=1))
    assignment = _assignment(session, world)
    late = _assignment(session, world, title="Formulir data")
    late.deadline = H1 - timedelta(hours=1)  # already past when the scheduler comes back
    session.commit()

    _tick(session, app, fakes, H1 + timedelta(hours=2))  # the scheduler was down from before H-3
    assert session.execute(
        select(
            AssignmentReminder.assignment_id, AssignmentReminder.offset_days, AssignmentReminder.sent
        ).order_by(AssignmentReminder.offset_days)
    ).all() == [(assignment.id, 1, True), (assignment.id, 3, False)]
    texts = [m.text for m in fakes["email"].sent if m.subject.startswith("Tugas instansi Anda")]
    # Two OPDs miss it (Dinas Kominfo, Bappeda); Dinas Kominfo has two contact persons.
    assert len(texts) == 3 and all("1 hari lagi." in text for text in texts)
    assert not any("Formulir data" in text for text in texts)


def test_a_second_scheduler_expanding_the_same_reminder_queues_nothing(app, session, world, set_now):
    set_now(H3 - timedelta(days=1))
    assignment = _assignment(session, world)
    assert reminders.queue_due(session, H3) == 6  # 3 contact persons x WhatsApp and email
    # The other scheduler saw no row yet when it looked (`done` empty): its insert is refused.
    assert reminders._take(session, assignment, [3], set(), H3) is False
    assert reminders.queue_due(session, H3) == 0
    session.commit()
    assert len(_reminded(session)) == 6
