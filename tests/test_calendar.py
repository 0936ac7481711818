"""The participant's calendar file (/saya/<slug>/jadwal.ics)."""

from datetime import timedelta

from icalendar import Calendar

from tests import factories
from workshop.programs import services as program_services
from workshop.registration import calendar
from workshop.registration.models import Mode, Status


def test_ics_has_one_event_per_day_of_each_stage_in_utc_with_an_alarm_on_the_first(app, session, client):
    program = factories.program(session)  # four stages, Thursday 09.00 to Friday 16.00 WIB each
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
    _log_in_participant(app, session, client, registration)

    response = client.get(f"/saya/{program.slug}/jadwal.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == f"attachment; filename={program.slug}.ics"
    events = Calendar.from_ical(response.data).walk("VEVENT")
    assert [str(event["summary"]) for event in events] == [
        f"Tahap {number}: Tahap ke-{position} (hari ke-{day} dari 2)"
        for position, number in enumerate(["I", "II", "III", "IV"], 1)
        for day in (1, 2)
    ]
    for stage, (first, second) in zip(
        program.stages, zip(events[::2], events[1::2], strict=True), strict=True
    ):
        assert first.decoded("dtstart") == stage.starts_at
        assert first.decoded("dtend") == stage.starts_at + timedelta(hours=7)
        assert second.decoded("dtstart") == stage.starts_at + timedelta(days=1)
        assert second.decoded("dtend") == stage.ends_at
        assert first["dtstart"].to_ical() == stage.starts_at.strftime("%Y%m%dT%H%M%SZ").encode()
        assert str(first["uid"]) == f"stage-{stage.id}@bimtek-hybrid"
        assert str(second["uid"]) == f"stage-{stage.id}-day-2@bimtek-hybrid"
        assert str(first["location"]) == str(second["location"]) == stage.meeting_url
        (alarm,) = first.walk("VALARM")
        assert alarm.decoded("trigger") == -timedelta(days=1)
        assert second.walk("VALARM") == []
    assert events[0].decoded("dtstart").isoformat() == "2021-06-24T02:00:00+00:00"


def test_ics_description_is_in_indonesian_and_links_the_page_not_the_personal_link(app, session, client):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
    token = _log_in_participant(app, session, client, registration)
    app.config["PUBLIC_BASE_URL"] = "https://bimtek.tapanuliutarakab.go.id"

    body = client.get(f"/saya/{program.slug}/jadwal.ics").data

    first = Calendar.from_ical(body).walk("VEVENT")[0]
    assert str(first["description"]) == (
        f"{program.title}\n"
        "Zoom: https://zoom.us/j/81200001\n"
        "ID rapat: 812 000 1\n"
        "Kode sandi: pass1\n"
        f"Jadwal, tiket, pertanyaan dan polling Anda: https://bimtek.tapanuliutarakab.go.id/saya/{program.slug}"
    )
    assert token.encode() not in body
    assert b"/p/" not in body


def test_ics_follows_the_chosen_language(app, session, client):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
    _log_in_participant(app, session, client, registration)
    assert client.post("/language/en").status_code == 302

    first = Calendar.from_ical(client.get(f"/saya/{program.slug}/jadwal.ics").data).walk("VEVENT")[0]

    assert str(first["summary"]) == "Stage I: Tahap ke-1 (day 1 of 2)"
    assert "\nMeeting ID: 812 000 1\nPasscode: pass1\n" in str(first["description"])


def test_ics_sequence_grows_when_a_stage_is_rescheduled(app, session, client):
    program = factories.program(session, stages=2)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
    _log_in_participant(app, session, client, registration)
    before = Calendar.from_ical(client.get(f"/saya/{program.slug}/jadwal.ics").data).walk("VEVENT")

    stage = program.stages[0]
    program_services.update_stage(
        session,
        stage,
        program_services.StageDetails(
            title=stage.title,
            starts_at=stage.starts_at + timedelta(hours=1),
            ends_at=stage.ends_at,
            venue_name=stage.venue_name,
            venue_address=stage.venue_address,
        ),
        actor=None,
    )
    session.commit()
    after = Calendar.from_ical(client.get(f"/saya/{program.slug}/jadwal.ics").data).walk("VEVENT")

    assert [event["sequence"] for event in after] == [event["sequence"] + 1 for event in before]
    assert [str(event["uid"]) for event in after] == [str(event["uid"]) for event in before]
    assert after[0].decoded("dtstart") == before[0].decoded("dtstart") + timedelta(hours=1)


def test_ics_of_an_in_person_participant_gives_the_venue(app, session, client):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
    _log_in_participant(app, session, client, registration)

    calendar = Calendar.from_ical(client.get(f"/saya/{program.slug}/jadwal.ics").data)

    first, second = calendar.walk("VEVENT")
    assert str(first["location"]) == str(second["location"]) == "Aula Martua, Kantor Bupati, Tarutung"
    assert "zoom" not in str(first["description"]).lower()


def test_a_one_day_stage_is_one_event_without_a_day_number(app, session, client):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    stage.ends_at = stage.starts_at + timedelta(hours=7)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
    _log_in_participant(app, session, client, registration)

    (event,) = Calendar.from_ical(client.get(f"/saya/{program.slug}/jadwal.ics").data).walk("VEVENT")

    assert str(event["summary"]) == "Tahap I: Tahap ke-1"
    assert event.decoded("dtend") == stage.ends_at


def test_participants_with_the_same_mode_get_the_same_file_and_a_changed_venue_a_new_one(app, session):
    program = factories.program(session, stages=1)
    hall, also_hall, village = (
        factories.registration(session, program, status=Status.APPROVED, mode=mode)
        for mode in (Mode.LURING, Mode.LURING, Mode.DARING)
    )
    stage = program.stages[0]

    def ics(registration) -> bytes:
        return calendar.calendar_for(registration, "https://bimtek.example.org/saya/x", "id", [stage])

    with app.test_request_context():
        first = ics(hall)
        assert ics(also_hall) == first
        assert b"LOCATION:https://zoom.us/j/81200001" in ics(village)
        stage.venue_name = "Aula Sopo Godang"
        moved = ics(also_hall)

    assert b"LOCATION:Aula Martua" in first
    assert b"LOCATION:Aula Sopo Godang" in moved
    assert [str(event["uid"]) for event in Calendar.from_ical(moved).walk("VEVENT")] == [
        f"stage-{stage.id}@bimtek-hybrid",
        f"stage-{stage.id}-day-2@bimtek-hybrid",
    ]


def _log_in_participant(app, session, client, registration) -> str:
    from workshop.registration import links
    from workshop.registration.services import ensure_participant_user

    ensure_participant_user(session, registration.person)
    token = links.issue(registration, app.config["SECRET_KEY"])
    session.commit()
    assert client.post(f"/p/{token}").status_code == 302
    return token
