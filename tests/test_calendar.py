from datetime import timedelta

from icalendar import Calendar

from tests import factories
from workshop.registration.models import Mode, Status


def test_ics_has_one_event_per_stage_in_utc_with_an_alarm(app, session, client):
    program = factories.program(session)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING)
    _log_in_participant(app, session, client, registration)

    response = client.get(f"/saya/{program.slug}/jadwal.ics")

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = calendar.walk("VEVENT")
    assert [str(event["summary"]) for event in events] == [
        f"Tahap {number}: Tahap ke-{position}" for position, number in enumerate(["I", "II", "III", "IV"], 1)
    ]
    for event, stage in zip(events, program.stages, strict=True):
        assert event.decoded("dtstart") == stage.starts_at
        assert event.decoded("dtstart").utcoffset() == timedelta(0)
        assert event["dtstart"].to_ical() == stage.starts_at.strftime("%Y%m%dT%H%M%SZ").encode()
        assert event.decoded("dtend") == stage.ends_at
        assert str(event["location"]) == stage.meeting_url
        assert f"Passcode: {stage.meeting_passcode}" in str(event["description"])
        (alarm,) = event.walk("VALARM")
        assert alarm.decoded("trigger") == -timedelta(days=1)
    assert events[0].decoded("dtstart").isoformat() == "2021-06-24T02:00:00+00:00"


def test_ics_of_an_in_person_participant_gives_the_venue(app, session, client):
    program = factories.program(session, stages=1)
    registration = factories.registration(session, program, status=Status.APPROVED, mode=Mode.LURING)
    _log_in_participant(app, session, client, registration)

    calendar = Calendar.from_ical(client.get(f"/saya/{program.slug}/jadwal.ics").data)

    (event,) = calendar.walk("VEVENT")
    assert str(event["location"]) == "Aula Martua, Kantor Bupati, Tarutung"


def _log_in_participant(app, session, client, registration):
    from workshop.registration import links
    from workshop.registration.services import ensure_participant_user

    ensure_participant_user(session, registration.person)
    token = links.issue(registration, app.config["SECRET_KEY"])
    session.commit()
    assert client.post(f"/p/{token}").status_code == 302
