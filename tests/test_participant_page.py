import json

from tests import factories
from workshop.programs import services as program_services
from workshop.registration import links, services
from workshop.registration.models import Mode, Notice, Status

SECRET = "test-secret-key"


def _logged_in_participant(session, client, mode=Mode.DARING):
    program = factories.program(session, stages=2)
    registration = factories.registration(session, program, mode=mode, name="Tiurma Lumbantobing")
    services.change_status(session, registration, Status.APPROVED, actor=None, secret_key=SECRET)
    session.commit()
    assert client.post(f"/p/{links.token_for(registration, SECRET)}").status_code == 302
    return program, registration


def test_the_page_shows_each_stage_in_wib_with_the_meeting_details(session, client):
    program, _ = _logged_in_participant(session, client)

    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)

    assert "Tiurma Lumbantobing" in page
    assert (
        '<span class="when">Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. Jumat, 25 Juni 2021, pukul 16.00 WIB</span>'
        in page
    )
    assert (
        '<span class="when">Kamis, 15 Juli 2021, pukul 09.00 WIB s.d. Jumat, 16 Juli 2021, pukul 16.00 WIB</span>'
        in page
    )
    assert "<code>pass1</code>" in page
    assert "Aula Martua" not in page  # online participants get the meeting, not the hall


def test_a_stage_edited_by_the_organiser_shows_on_the_next_visit(session, client):
    program, _ = _logged_in_participant(session, client)
    client.get(f"/saya/{program.slug}")
    stage = program.stages[0]
    details = program_services.StageDetails(
        title="Analisis Strategis (diperbarui)",
        starts_at=stage.starts_at.replace(hour=1),
        ends_at=stage.ends_at,
        meeting_url=stage.meeting_url,
    )

    program_services.update_stage(session, stage, details, actor=None)
    session.commit()
    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)

    assert "Tahap I: Analisis Strategis (diperbarui)" in page
    assert '<span class="when">Kamis, 24 Juni 2021, pukul 08.00 WIB s.d. ' in page


def test_the_page_follows_the_chosen_language(session, client):
    program, _ = _logged_in_participant(session, client)
    client.get(f"/saya/{program.slug}")

    client.post("/language/en")
    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)

    assert (
        '<span class="when">Thursday, 24 June 2021 at 09:00 WIB to Friday, 25 June 2021 at 16:00 WIB</span>'
        in page
    )
    assert "Kamis" not in page


def test_each_participant_sees_the_place_of_their_own_mode_per_stage(app, session, client):
    program, online = _logged_in_participant(session, client, mode=Mode.DARING)
    hall = factories.registration(session, program, mode=Mode.LURING)
    services.change_status(session, hall, Status.APPROVED, actor=None, secret_key=SECRET)
    session.commit()
    hall_client = app.test_client()
    hall_client.post(f"/p/{links.token_for(hall, SECRET)}")

    online_page = client.get(f"/saya/{program.slug}").get_data(as_text=True)
    hall_page = hall_client.get(f"/saya/{program.slug}").get_data(as_text=True)
    online.stage_modes[1].mode = Mode.LURING
    session.commit()
    changed_page = client.get(f"/saya/{program.slug}").get_data(as_text=True)

    assert online_page.count("Aula Martua") == 0
    assert online_page.count("<code>pass1</code>") == 1
    assert hall_page.count("Aula Martua") == 2
    assert hall_page.count("<code>pass") == 0
    assert changed_page.count("Aula Martua") == 1
    assert changed_page.count('<mark class="mode mode-daring">Daring</mark>') == 1
    assert changed_page.count('<mark class="mode mode-luring">Luring (tatap muka)</mark>') == 1


def test_a_stage_without_a_mode_shows_none_and_the_other_its_own(session, client):
    """The registration and its modes come in one statement (a row per mode): a stage without a
    mode, and a registration without any, still show the page."""
    program, registration = _logged_in_participant(session, client, mode=Mode.LURING)
    session.delete(registration.stage_modes[1])
    session.commit()

    one_mode = client.get(f"/saya/{program.slug}").get_data(as_text=True)
    session.delete(registration.stage_modes[0])
    session.commit()
    no_mode = client.get(f"/saya/{program.slug}").get_data(as_text=True)

    assert one_mode.count('<mark class="mode mode-luring">Luring (tatap muka)</mark>') == 1
    assert one_mode.count('<mark class="mode mode-none">-</mark>') == 1
    assert "<h1>Tiurma Lumbantobing</h1>" in no_mode
    assert no_mode.count('<mark class="mode mode-none">-</mark>') == 2
    assert "mode-luring" not in no_mode and "mode-daring" not in no_mode


def test_a_promoted_participant_sees_the_notice(session, client):
    program = factories.program(session, stages=1, capacity=1)
    first = factories.registration(session, program)
    waiting = factories.registration(session, program)
    services.change_status(session, first, Status.APPROVED, actor=None, secret_key=SECRET)
    services.change_status(session, waiting, Status.WAITLISTED, actor=None, secret_key=SECRET)
    services.change_status(session, first, Status.CANCELLED, actor=None, secret_key=SECRET)
    session.commit()
    client.post(f"/p/{links.token_for(waiting, SECRET)}")

    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)

    assert (
        '<p class="flash flash-info notice" role="status">Kabar baik: ada tempat yang kosong dan Anda naik '
        "dari daftar tunggu. Pendaftaran Anda disetujui.</p>"
    ) in page


def test_a_participant_who_switches_to_english_gets_english_messages_from_then_on(session, client):
    _, registration = _logged_in_participant(session, client)
    assert registration.person.locale == "id"

    client.post("/language/en")

    session.refresh(registration.person)
    assert registration.person.locale == "en"


def test_in_app_reminders_show_their_subject_and_text_escaped(session, client):
    program, registration = _logged_in_participant(session, client)
    session.add(
        Notice(
            registration=registration,
            kind="reminder",
            detail=json.dumps(
                {"subject": "Pengingat: Tahap I besok", "text": "Mulai pukul 09.00 WIB <b>Zoom</b>"}
            ),
        )
    )
    session.commit()

    page = client.get(f"/saya/{program.slug}").get_data(as_text=True)

    assert (
        '<details class="flash flash-info notice"><summary>Pengingat: Tahap I besok</summary>'
        '<p class="notice-text">Mulai pukul 09.00 WIB &lt;b&gt;Zoom&lt;/b&gt;</p></details>'
    ) in page
    assert f'src="/static/{client.application.extensions["static_manifest"]["js/notices.js"]}"' in page
